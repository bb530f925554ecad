/**
 * protocol/aead-stream.ts under damage: every single-bit flip and every truncation of a small
 * 3-chunk stream, appended chunks and bytes, dropped, swapped, duplicated and spliced chunks,
 * a wrong key, and hostile headers. Each must fail with AuthenticationError or DecodeError, and
 * what the opener returned before failing must be exactly the authentic chunks before the damage.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openBytes, sealBytes, StreamOpener } from '../../../protocol/aead-stream.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { AuthenticationError, DecodeError } from '../../../protocol/errors.ts'
import { concat, fixedRandom, flipBit, hx, pattern, randomPieces, Rng, throwsPeerpacs } from './helpers.ts'

const provider = nobleProvider
const CHUNK = 1024
const SEALED_CHUNK = CHUNK + 16
const dataKey = new Rng(100).bytes(32)
const saltA = new Rng(101).bytes(16)
const saltB = new Rng(102).bytes(16)
// 2.5 chunks: two full chunks and a half one. Sealed: 24 + 1040 + 1040 + 528 = 2632 bytes.
const plaintext = new Rng(103).bytes(2 * CHUNK + CHUNK / 2)
const sealed = sealBytes({ dataKey, provider, random: fixedRandom(saltA), chunkSize: CHUNK }, plaintext)
const other = sealBytes({ dataKey, provider, random: fixedRandom(saltB), chunkSize: CHUNK }, plaintext)
const header = (s: Uint8Array): Uint8Array => s.subarray(0, 24)
const chunk = (s: Uint8Array, i: number): Uint8Array => s.subarray(24 + i * SEALED_CHUNK, Math.min(s.length, 24 + (i + 1) * SEALED_CHUNK))

interface Outcome { returned: Uint8Array, error: unknown }

/** Opens `data` pushed as `pieces`, collecting what the opener returned before it failed. */
function attempt (data: Uint8Array, pieces?: Uint8Array[], key = dataKey): Outcome {
  const opener = new StreamOpener({ dataKey: key, provider })
  const out: Uint8Array[] = []
  try {
    for (const piece of pieces ?? [data]) out.push(...opener.push(piece))
    out.push(opener.finish())
  } catch (error) {
    return { returned: concat(out), error }
  }
  return { returned: concat(out), error: undefined }
}

/** Fails unless the attempt threw AuthenticationError/DecodeError having returned only authentic whole chunks. */
function assertRefused (outcome: Outcome, what: string, maxChunksReturned = 3): number {
  const { returned, error } = outcome
  assert.ok(error instanceof AuthenticationError || error instanceof DecodeError,
    `${what}: expected AuthenticationError or DecodeError, got ${error === undefined ? 'success' : `${(error as Error).name}: ${(error as Error).message}`}`)
  assert.equal(returned.length % CHUNK, 0, `${what}: returned a partial chunk (${returned.length} bytes)`)
  assert.ok(returned.length <= maxChunksReturned * CHUNK, `${what}: returned ${returned.length / CHUNK} chunks, at most ${maxChunksReturned} are authentic`)
  assert.deepEqual(returned, plaintext.subarray(0, returned.length), `${what}: returned bytes that are not the plaintext`)
  return returned.length / CHUNK
}

test('the undamaged stream opens (control)', () => {
  assert.equal(sealed.length, 2632)
  const { returned, error } = attempt(sealed)
  assert.equal(error, undefined)
  assert.deepEqual(returned, plaintext)
})

test('every single-bit flip fails; nothing from the damaged chunk or after it is returned', () => {
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const byte = bit >> 3
    const damagedChunk = byte < 24 ? -1 : Math.floor((byte - 24) / SEALED_CHUNK)
    assertRefused(attempt(flipBit(sealed, bit)), `bit ${bit} (byte ${byte})`, Math.max(0, damagedChunk))
  }
})

test('bit flips fail the same way when the stream arrives in random pieces', () => {
  const rng = new Rng(104)
  for (let i = 0; i < 300; i++) {
    const bit = rng.int(0, sealed.length * 8 - 1)
    const damaged = flipBit(sealed, bit)
    const damagedChunk = (bit >> 3) < 24 ? -1 : Math.floor(((bit >> 3) - 24) / SEALED_CHUNK)
    assertRefused(attempt(damaged, randomPieces(damaged, rng, rng.int(1, 3000))), `bit ${bit} in pieces`, Math.max(0, damagedChunk))
  }
})

test('truncation at every length fails, including exactly at chunk boundaries', () => {
  const boundaries = [0, 24, 24 + SEALED_CHUNK, 24 + 2 * SEALED_CHUNK]
  for (let n = 0; n < sealed.length; n++) {
    const chunks = assertRefused(attempt(sealed.subarray(0, n)), `truncated to ${n} bytes`, 2)
    if (boundaries.includes(n)) assert.ok(chunks <= 1, `at boundary ${n}`)
  }
})

test('a stream cut after a full chunk that was not the last fails (the last flag)', () => {
  const long = sealBytes({ dataKey, provider, random: fixedRandom(saltA), chunkSize: CHUNK }, plaintext.subarray(0, 2 * CHUNK + 1))
  assertRefused(attempt(concat([header(long), chunk(long, 0), chunk(long, 1)])), 'cut at a chunk boundary')
  assertRefused(attempt(concat([header(long), chunk(long, 0)])), 'cut after chunk 0')
})

test('appending a chunk or extra bytes fails', () => {
  // A longer object sealed under the same key and salt shares the first chunks: append its next one.
  const longer = sealBytes({ dataKey, provider, random: fixedRandom(saltA), chunkSize: CHUNK }, concat([plaintext.subarray(0, 2 * CHUNK), new Rng(105).bytes(3 * CHUNK)]))
  const exact = sealBytes({ dataKey, provider, random: fixedRandom(saltA), chunkSize: CHUNK }, plaintext.subarray(0, 2 * CHUNK))
  assert.deepEqual(chunk(longer, 0), chunk(exact, 0))
  assertRefused(attempt(concat([exact, chunk(longer, 2)])), 'appended a chunk from a longer sibling')
  assertRefused(attempt(concat([sealed, chunk(sealed, 2)])), 'appended a copy of the last chunk')
  for (const extra of [1, 15, 16, 17, SEALED_CHUNK]) {
    assertRefused(attempt(concat([sealed, new Uint8Array(extra)])), `${extra} bytes appended`)
    assertRefused(attempt(concat([exact, new Uint8Array(extra)])), `${extra} bytes appended after a full last chunk`)
  }
})

test('dropping, swapping, duplicating or reordering chunks fails', () => {
  const [h0, c0, c1, c2] = [header(sealed), chunk(sealed, 0), chunk(sealed, 1), chunk(sealed, 2)]
  const cases: Array<[string, Uint8Array[]]> = [
    ['middle chunk dropped', [h0, c0, c2]],
    ['first chunk dropped', [h0, c1, c2]],
    ['last chunk dropped', [h0, c0, c1]],
    ['chunks 0 and 1 swapped', [h0, c1, c0, c2]],
    ['chunk 0 twice', [h0, c0, c0, c1, c2]],
    ['chunk 1 twice', [h0, c0, c1, c1, c2]],
    ['last chunk moved first', [h0, c2, c0, c1]],
    ['header twice', [h0, h0, c0, c1, c2]],
    ['no header', [c0, c1, c2]]
  ]
  for (const [name, parts] of cases) assertRefused(attempt(concat(parts)), name)
})

test('splicing chunks or the header from another object sealed with the same data key fails', () => {
  const [h0, c0, c1, c2] = [header(sealed), chunk(sealed, 0), chunk(sealed, 1), chunk(sealed, 2)]
  const [hB, d0, d1, d2] = [header(other), chunk(other, 0), chunk(other, 1), chunk(other, 2)]
  assert.notEqual(hx(c0), hx(d0), 'same plaintext and key, different salt: different chunks')
  const cases: Array<[string, Uint8Array[]]> = [
    ['chunk 1 from the other object', [h0, c0, d1, c2]],
    ['chunk 0 from the other object', [h0, d0, c1, c2]],
    ['last chunk from the other object', [h0, c0, c1, d2]],
    ["the other object's header", [hB, c0, c1, c2]],
    ['salt from the other object', [concat([h0.subarray(0, 8), hB.subarray(8)]), c0, c1, c2]]
  ]
  for (const [name, parts] of cases) assertRefused(attempt(concat(parts)), name)
  // And the other object, whole, opens.
  assert.deepEqual(openBytes({ dataKey, provider }, other), plaintext)
})

test('a wrong data key fails at the first chunk', () => {
  for (let bit = 0; bit < 256; bit += 17) {
    assert.equal(assertRefused(attempt(sealed, undefined, flipBit(dataKey, bit)), `key bit ${bit}`), 0)
  }
})

test('hostile headers: bad magic and chunk sizes out of range are DecodeError before any work; another valid chunk size fails authentication', () => {
  const withHeader = (edit: (hdr: Uint8Array) => void): Uint8Array => { const s = sealed.slice(); edit(s); return s }
  for (const magic of ['PPS2', 'PPS0', 'pps1', '\0\0\0\0']) {
    const s = withHeader(hdr => hdr.set(new TextEncoder().encode(magic), 0))
    const error = throwsPeerpacs(() => openBytes({ dataKey, provider }, s), DecodeError, magic)
    assert.match(error.message, /bad magic/)
  }
  for (const size of [0, 1, 1023, 8 * 1024 * 1024 + 1, 0xffffffff]) {
    const s = withHeader(hdr => new DataView(hdr.buffer).setUint32(4, size))
    const error = throwsPeerpacs(() => openBytes({ dataKey, provider }, s), DecodeError, `chunk size ${size}`)
    assert.match(error.message, new RegExp(`chunk size ${size}`))
  }
  for (const size of [1024 + 1, 2048, 8 * 1024 * 1024]) {
    const s = withHeader(hdr => new DataView(hdr.buffer).setUint32(4, size))
    throwsPeerpacs(() => openBytes({ dataKey, provider }, s), AuthenticationError, `chunk size ${size}`)
  }
  // The header is checked as soon as its 24 bytes arrive, before any chunk.
  const opener = new StreamOpener({ dataKey, provider })
  assert.deepEqual(opener.push(sealed.subarray(0, 23)), [])
  const bad = sealed.slice(0, 24)
  bad[0] = 0
  throwsPeerpacs(() => new StreamOpener({ dataKey, provider }).push(bad), DecodeError)
})

test('a failed chunk leaves the opener failed: later push or finish do not return its plaintext', () => {
  const exact = sealBytes({ dataKey, provider, random: fixedRandom(saltA), chunkSize: CHUNK }, plaintext.subarray(0, 2 * CHUNK))
  const opener = new StreamOpener({ dataKey, provider })
  throwsPeerpacs(() => opener.push(concat([exact, new Uint8Array(1)])), AuthenticationError, 'appended byte')
  // A caller that catches and carries on must not get a success out of the same opener.
  throwsPeerpacs(() => opener.finish(), [AuthenticationError, DecodeError], 'finish after a failed chunk')
  throwsPeerpacs(() => opener.push(new Uint8Array(1)), [AuthenticationError, DecodeError], 'push after a failed chunk')
})
