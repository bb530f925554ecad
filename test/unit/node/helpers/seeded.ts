/**
 * Seeded randomness for tests: the same seed gives the same keys, nonces, sizes and mutations,
 * so a failure replays byte for byte. Built on the synthetic generator's PRNG; never for real keys.
 */
import type { RandomSource } from '../../../../protocol/random.ts'
import { Prng } from '../../../synthetic/prng.ts'

export interface Seeded {
  /** n pseudo-random bytes. */
  bytes (n: number): Uint8Array
  /** Uniform integer in [min, max]. */
  int (min: number, max: number): number
  pick<T> (items: readonly T[]): T
  /** The same stream as a protocol RandomSource. */
  readonly random: RandomSource
}

export function seeded (seed: number): Seeded {
  const prng = new Prng(seed)
  // Prng.bytes(0) is fine; large draws are filled 4 bytes per call, which is fast enough for MBs.
  const bytes = (n: number): Uint8Array => prng.bytes(n)
  return {
    bytes,
    int: (min, max) => prng.int(min, max),
    pick: (items) => prng.pick(items),
    random: bytes
  }
}

export { randomPieces } from '../../../helpers/pieces.ts'

export function toHexString (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHexString (hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}
