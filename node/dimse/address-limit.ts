/**
 * Connections per peer address, for the per-address limit of the DIMSE edge: one address (one
 * modality, or one misbehaving client) cannot hold every connection the node can serve. IPv4
 * peers on a dual-stack socket count under their plain address.
 */
import { plainAddress } from './access.ts'

export class AddressLimit {
  readonly #max: number
  readonly #open = new Map<string, number>()

  constructor (max: number) { this.#max = max }

  /** Takes a place for `address`; false when it already holds the maximum. */
  take (address: string | undefined): boolean {
    const key = plainAddress(address)
    const open = this.#open.get(key) ?? 0
    if (open >= this.#max) return false
    this.#open.set(key, open + 1)
    return true
  }

  release (address: string | undefined): void {
    const key = plainAddress(address)
    const open = this.#open.get(key) ?? 0
    if (open <= 1) this.#open.delete(key)
    else this.#open.set(key, open - 1)
  }

  get max (): number { return this.#max }
}
