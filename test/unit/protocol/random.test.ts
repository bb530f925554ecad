/**
 * protocol/random.ts: platformRandom fills any length up to 2^30, across several
 * getRandomValues calls (each fills at most 65536 bytes), and refuses bad lengths.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { platformRandom } from '../../../protocol/random.ts'
import { InvalidArgumentError } from '../../../protocol/errors.ts'
import { throwsPeerpacs } from './helpers.ts'

function nonZeroIn (bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return true
  return false
}

test('platformRandom(0) is empty', () => {
  const out = platformRandom(0)
  assert.ok(out instanceof Uint8Array)
  assert.equal(out.length, 0)
})

test('platformRandom(100000) fills every 65536-byte window, in more than one getRandomValues call', () => {
  const crypto = globalThis.crypto
  const original = crypto.getRandomValues
  const sizes: number[] = []
  const counting = (array: Uint8Array): Uint8Array => {
    sizes.push(array.byteLength)
    original.call(crypto, array)
    return array
  }
  crypto.getRandomValues = counting as unknown as typeof original
  let out: Uint8Array
  try {
    out = platformRandom(100_000)
  } finally {
    crypto.getRandomValues = original
  }
  assert.equal(out.length, 100_000)
  assert.deepEqual(sizes, [65536, 100_000 - 65536])
  // Each window is filled (a 1 KiB run of zeros from a CSPRNG would be a 2^-8192 event).
  for (let start = 0; start < out.length; start += 1024) {
    assert.ok(nonZeroIn(out, start, Math.min(out.length, start + 1024)), `bytes ${start}.. are all zero`)
  }
})

test('platformRandom at the 65536 boundary and two draws differ', () => {
  for (const n of [1, 65535, 65536, 65537, 131072]) assert.equal(platformRandom(n).length, n)
  assert.notDeepEqual(platformRandom(32), platformRandom(32))
})

test('platformRandom refuses lengths that are not integers in [0, 2^30]', () => {
  for (const bad of [-1, 1.5, NaN, 2 ** 30 + 1, '16', undefined, null]) {
    const error = throwsPeerpacs(() => platformRandom(bad as number), InvalidArgumentError, String(bad))
    assert.match(error.message, /random\(length\)/)
  }
})
