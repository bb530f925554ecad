/**
 * Shared helpers for the protocol/ unit tests: reading the checked-in vectors, hex, a seeded
 * PRNG (never for real keys), RandomSources that return fixed bytes, and cutting data into
 * pieces of random sizes to run streaming APIs chunked.
 */
import { readFileSync } from 'node:fs'
import assert from 'node:assert/strict'
import { hex } from '@scure/base'
import type { RandomSource } from '../../../protocol/random.ts'
import { PeerpacsError } from '../../../protocol/errors.ts'

/** Reads test/vectors/<name>; every vector file names its source. */
export function loadVectors<T> (name: string): T & { source: string } {
  const data = JSON.parse(readFileSync(new URL(`../../vectors/${name}`, import.meta.url), 'utf8')) as T & { source: string }
  assert.equal(typeof data.source, 'string', `${name} must name its source`)
  return data
}

export const h = (text: string): Uint8Array => hex.decode(text)
export const hx = (bytes: Uint8Array): string => hex.encode(bytes)
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Bytes start, start+1, … (mod 256). */
export function sequence (start: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff
  return out
}

/** Byte j is j mod 251: the plaintext of the frozen stream and blob vectors. */
export function pattern (length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = i % 251
  return out
}

/** A RandomSource that hands out the given values in order and checks the requested lengths. */
export function fixedRandom (...values: Uint8Array[]): RandomSource {
  const queue = [...values]
  return (length) => {
    const next = queue.shift()
    assert.ok(next !== undefined, `fixedRandom: asked for ${length} more bytes than provided`)
    assert.equal(length, next.length, 'fixedRandom: requested length')
    return next.slice()
  }
}

/** A RandomSource whose output is a counter: byte k of everything it returns is (start + k) mod 256. */
export function counterRandom (start = 0): RandomSource {
  let k = start
  return (length) => {
    const out = sequence(k, length)
    k += length
    return out
  }
}

/** Seeded PRNG (splitmix32): the same seed replays the same bytes, sizes and bit flips. */
export class Rng {
  #state: number

  constructor (seed: number) { this.#state = seed >>> 0 }

  u32 (): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0
    let z = this.#state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }

  /** Uniform integer in [min, max]. */
  int (min: number, max: number): number {
    return min + (this.u32() % (max - min + 1))
  }

  bytes (length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff
    return out
  }

  readonly random: RandomSource = (length) => this.bytes(length)
}

export { randomPieces } from '../../helpers/pieces.ts'

/** Cuts `data` into pieces of exactly `size` bytes (the last may be short). */
export function fixedPieces (data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let offset = 0; offset < data.length; offset += size) out.push(data.subarray(offset, offset + size))
  return out
}

export function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) { out.set(p, offset); offset += p.length }
  return out
}

/** A copy of `bytes` with bit `bit` (0 = lowest bit of byte 0) flipped. */
export function flipBit (bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice()
  out[bit >> 3] = out[bit >> 3]! ^ (1 << (bit & 7))
  return out
}

type ErrorClass = abstract new (...args: never[]) => PeerpacsError

/** Asserts `fn` throws an instance of one of `classes` (all PeerpacsError subclasses) and returns it. */
export function throwsPeerpacs (fn: () => unknown, classes: ErrorClass | ErrorClass[], message?: string): PeerpacsError {
  const list = Array.isArray(classes) ? classes : [classes]
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  const what = message === undefined ? '' : `${message}: `
  assert.ok(caught !== undefined, `${what}expected ${list.map(c => c.name).join(' or ')}, but nothing was thrown`)
  assert.ok(caught instanceof PeerpacsError,
    `${what}expected ${list.map(c => c.name).join(' or ')}, got ${(caught as Error)?.constructor?.name}: ${(caught as Error)?.message}`)
  assert.ok(list.some(c => caught instanceof c),
    `${what}expected ${list.map(c => c.name).join(' or ')}, got ${caught.name}: ${caught.message}`)
  return caught
}
