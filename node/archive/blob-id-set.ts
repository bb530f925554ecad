/**
 * A compact set of blob ids, for fsck: which blobs the index's instance records name, without
 * holding a string (or a digest) per blob. Each id is kept as its first 128 bits (four 32-bit
 * words, 16 bytes) plus one byte of flags, in typed arrays: about 17 bytes per instance where a
 * Set of id strings costs over 100. Ids are SHA-256 outputs, so two different ids sharing their
 * first 128 bits is a 2^-128 event (and finding one on purpose a second preimage of that size):
 * a match of the prefixes stands for equality of the ids.
 *
 * Filled with `add` (any order, repeats allowed), then `freeze` sorts it once; after that `indexOf`
 * is a binary search and flags can be set and read per entry.
 */
import type { BlobId } from '../../protocol/blob-id.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'

const WORDS = 4

function wordsOf (id: BlobId, into: Uint32Array, at: number): void {
  for (let w = 0; w < WORDS; w++) into[at + w] = Number.parseInt(id.slice(w * 8, w * 8 + 8), 16)
}

export class BlobIdSet {
  #words = new Uint32Array(WORDS * 1024)
  #flags = new Uint8Array(1024)
  #count = 0
  #frozen = false
  readonly #probe = new Uint32Array(WORDS)

  get size (): number { return this.#count }

  /** Adds `id` with `flags` (OR-ed with those of an earlier add of the same id). Before freeze only. */
  add (id: BlobId, flags = 0): void {
    if (this.#frozen) throw new InvalidArgumentError('BlobIdSet.add: the set is frozen')
    if (this.#count === this.#flags.length) {
      const words = new Uint32Array(this.#words.length * 2)
      words.set(this.#words)
      this.#words = words
      const flagBytes = new Uint8Array(this.#flags.length * 2)
      flagBytes.set(this.#flags)
      this.#flags = flagBytes
    }
    wordsOf(id, this.#words, this.#count * WORDS)
    this.#flags[this.#count++] = flags
  }

  /** Sorts the ids and merges repeats; the set is read-only (but for flags) afterwards. */
  freeze (): void {
    if (this.#frozen) return
    this.#frozen = true
    const n = this.#count
    const words = this.#words
    const compare = (a: number, b: number): number => {
      for (let w = 0; w < WORDS; w++) {
        const d = words[a * WORDS + w]! - words[b * WORDS + w]!
        if (d !== 0) return d
      }
      return 0
    }
    const order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    order.sort(compare)
    const sorted = new Uint32Array(Math.max(1, n) * WORDS)
    const flags = new Uint8Array(Math.max(1, n))
    let count = 0
    for (let k = 0; k < n; k++) {
      const i = order[k]!
      if (count > 0 && compare(i, order[k - 1]!) === 0) { flags[count - 1] = flags[count - 1]! | this.#flags[i]!; continue }
      sorted.set(words.subarray(i * WORDS, i * WORDS + WORDS), count * WORDS)
      flags[count++] = this.#flags[i]!
    }
    this.#words = sorted.slice(0, Math.max(1, count) * WORDS)
    this.#flags = flags.slice(0, Math.max(1, count))
    this.#count = count
  }

  /** The entry of `id`, or -1. After freeze only. */
  indexOf (id: BlobId): number {
    if (!this.#frozen) throw new InvalidArgumentError('BlobIdSet.indexOf: freeze the set first')
    const probe = this.#probe
    wordsOf(id, probe, 0)
    const words = this.#words
    let lo = 0
    let hi = this.#count - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      let d = 0
      for (let w = 0; w < WORDS && d === 0; w++) d = words[mid * WORDS + w]! - probe[w]!
      if (d === 0) return mid
      if (d < 0) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  has (id: BlobId): boolean { return this.indexOf(id) >= 0 }

  flagsAt (index: number): number { return this.#flags[index]! }

  setFlags (index: number, flags: number): void { this.#flags[index] = this.#flags[index]! | flags }

  /** How many entries have every bit of `flags`. */
  countWith (flags: number): number {
    let n = 0
    for (let i = 0; i < this.#count; i++) if ((this.#flags[i]! & flags) === flags) n++
    return n
  }
}
