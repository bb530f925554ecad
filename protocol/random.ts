/**
 * The only place protocol/ touches the platform's randomness. Everything else takes a
 * `RandomSource` as an argument, so tests can pass a seeded one and results are reproducible.
 */
import { expectBytes, expectFunction, expectInteger } from './bytes.ts'

export type RandomSource = (length: number) => Uint8Array

/** Web Crypto's CSPRNG (present in browsers and in Node as globalThis.crypto). */
export const platformRandom: RandomSource = (length) => {
  expectInteger(length, 'random(length)', 0, 1 << 30)
  const out = new Uint8Array(length)
  // getRandomValues fills at most 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)))
  }
  return out
}

/** Draws `length` bytes from `random`, checking both the source and what it returned. */
export function draw (random: RandomSource, length: number, where: string): Uint8Array {
  expectFunction(random, `${where}(random)`)
  return expectBytes(random(length), `${where}: random(${length})`, length)
}
