/**
 * A check on the raw byte stream of an association, ahead of dcmjs-dimse's parser: that parser
 * accumulates a PDU of any announced length in memory (and re-concatenates it per read), so a
 * peer announcing a 4 GiB PDU, or sending an unknown PDU type, is cut off here instead.
 */
const PDU_TYPES = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])

export class PduGuard {
  readonly #limit: number
  /** Bytes of the current PDU header seen so far (it may arrive split). */
  #header: number[] = []
  #remaining = 0

  /** `limit`: the largest PDU body accepted (bytes after the 6-byte header). */
  constructor (limit: number) { this.#limit = limit }

  /** Returns a reason when the stream is no longer acceptable. */
  check (chunk: Uint8Array): string | undefined {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, chunk.length - offset)
        this.#remaining -= take
        offset += take
        continue
      }
      this.#header.push(chunk[offset]!)
      offset++
      if (this.#header.length === 1 && !PDU_TYPES.has(this.#header[0]!)) return `unknown PDU type 0x${this.#header[0]!.toString(16)}`
      if (this.#header.length === 6) {
        const h = this.#header
        const length = ((h[2]! << 24) >>> 0) + (h[3]! << 16) + (h[4]! << 8) + h[5]!
        this.#header = []
        if (length > this.#limit) return `PDU of ${length} bytes exceeds the limit of ${this.#limit}`
        this.#remaining = length
      }
    }
    return undefined
  }
}
