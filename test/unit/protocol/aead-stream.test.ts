/**
 * protocol/aead-stream.ts, the format and the happy path: the frozen vectors
 * (test/vectors/peerpacs-stream.json) sealed whole and in pieces and re-derived from the format
 * with the reference primitives; round trips for many lengths and chunk sizes with sealer and
 * opener fed in pieces of random sizes; sealedLength; when chunks are emitted; misuse.
 * Damage of every kind is in aead-stream-tamper.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, openBytes, sealBytes, sealedLength, STREAM_HEADER_LENGTH, STREAM_MAGIC,
  STREAM_SALT_LENGTH, StreamOpener, StreamSealer
} from '../../../protocol/aead-stream.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { DecodeError, InvalidArgumentError } from '../../../protocol/errors.ts'
import { hkdfSha256, LABELS } from '../../../protocol/kdf.ts'
import { hchacha20 } from '../../../protocol/xchacha.ts'
import { concat, counterRandom, fixedPieces, fixedRandom, h, hx, loadVectors, pattern, randomPieces, Rng, throwsPeerpacs, utf8 } from './helpers.ts'

interface StreamVectors {
  dataKey: string, salt: string, chunkSize: number, streamKey: string, subkey: string
  cases: Array<{ length: number, sealedLength: number, sealed?: string, sealedSha256?: string, tags: string[] }>
}
const v = loadVectors<StreamVectors>('peerpacs-stream.json')
const provider = nobleProvider

function sealPieces (sealer: StreamSealer, pieces: Uint8Array[]): Uint8Array {
  const out = [sealer.header]
  for (const piece of pieces) out.push(...sealer.push(piece))
  out.push(sealer.finish())
  return concat(out)
}

function openPieces (opener: StreamOpener, pieces: Uint8Array[]): Uint8Array {
  const out: Uint8Array[] = []
  for (const piece of pieces) out.push(...opener.push(piece))
  out.push(opener.finish())
  return concat(out)
}

function digestOrHex (sealed: Uint8Array, c: StreamVectors['cases'][number]): void {
  assert.equal(sealed.length, c.sealedLength, `length ${c.length}`)
  if (c.sealed !== undefined) assert.equal(hx(sealed), c.sealed, `length ${c.length}`)
  else assert.equal(hx(sha256(sealed)), c.sealedSha256, `length ${c.length}`)
}

test('constants', () => {
  assert.equal(new TextDecoder().decode(STREAM_MAGIC), 'PPS1')
  assert.equal(STREAM_HEADER_LENGTH, 24)
  assert.equal(STREAM_SALT_LENGTH, 16)
  assert.equal(MIN_CHUNK_SIZE, 1024)
  assert.equal(DEFAULT_CHUNK_SIZE, 65536)
  assert.equal(MAX_CHUNK_SIZE, 8 * 1024 * 1024)
})

test('frozen vectors: derived keys, and the salt is what a counter RandomSource gives first', () => {
  assert.equal(hx(counterRandom(0)(16)), v.salt)
  assert.equal(hx(hkdfSha256(h(v.dataKey), h(v.salt), LABELS.streamKey)), v.streamKey)
  assert.equal(hx(hchacha20(h(v.streamKey), new Uint8Array(16))), v.subkey)
})

test('frozen vectors: sealed whole, and sealed in 1-byte, 7-byte, chunk-sized and random pieces', () => {
  const rng = new Rng(1)
  for (const c of v.cases) {
    const options = { dataKey: h(v.dataKey), provider, chunkSize: v.chunkSize }
    const plaintext = pattern(c.length)
    digestOrHex(sealBytes({ ...options, random: counterRandom(0) }, plaintext), c)
    for (const pieces of [fixedPieces(plaintext, 1), fixedPieces(plaintext, 7), fixedPieces(plaintext, v.chunkSize), randomPieces(plaintext, rng, 3000)]) {
      digestOrHex(sealPieces(new StreamSealer({ ...options, random: fixedRandom(h(v.salt)) }), pieces), c)
    }
  }
})

test('frozen vectors: re-derived from the format with @noble/hashes hkdf and @noble/ciphers xchacha20poly1305', () => {
  for (const c of v.cases) {
    const header = new Uint8Array([...utf8('PPS1'), 0, 0, v.chunkSize >> 8, v.chunkSize & 0xff, ...h(v.salt)])
    const K = hkdf(sha256, h(v.dataKey), h(v.salt), utf8('peerpacs/v1/stream-key'), 32)
    const plaintext = pattern(c.length)
    const count = Math.max(1, Math.ceil(c.length / v.chunkSize))
    const parts = [header]
    for (let i = 0; i < count; i++) {
      const nonce = new Uint8Array(24)
      nonce[22] = i // the chunk counter is 7 bytes big-endian at nonce[16..23]; i < 256 here
      nonce[23] = i === count - 1 ? 1 : 0
      const chunk = xchacha20poly1305(K, nonce, header).encrypt(plaintext.subarray(i * v.chunkSize, (i + 1) * v.chunkSize))
      assert.equal(hx(chunk.subarray(chunk.length - 16)), c.tags[i], `length ${c.length}, tag ${i}`)
      parts.push(chunk)
    }
    digestOrHex(concat(parts), c)
  }
})

test('frozen vectors: open whole and in pieces', () => {
  const rng = new Rng(2)
  for (const c of v.cases) {
    const sealed = sealBytes({ dataKey: h(v.dataKey), provider, chunkSize: v.chunkSize, random: fixedRandom(h(v.salt)) }, pattern(c.length))
    assert.deepEqual(openBytes({ dataKey: h(v.dataKey), provider }, sealed), pattern(c.length))
    for (const pieces of [fixedPieces(sealed, 1), fixedPieces(sealed, 24), fixedPieces(sealed, v.chunkSize + 16), randomPieces(sealed, rng, 2000)]) {
      assert.deepEqual(openPieces(new StreamOpener({ dataKey: h(v.dataKey), provider }), pieces), pattern(c.length))
    }
  }
})

test('header layout: magic, chunk size (u32 BE), the 16 salt bytes the RandomSource returned', () => {
  const salt = new Rng(3).bytes(16)
  const sealer = new StreamSealer({ dataKey: new Uint8Array(32), provider, random: fixedRandom(salt), chunkSize: 0x012345 })
  assert.equal(hx(sealer.header), '50505331' + '00012345' + hx(salt))
  assert.equal(new StreamSealer({ dataKey: new Uint8Array(32), provider, random: fixedRandom(salt) }).header.length, 24)
  assert.equal(hx(new StreamSealer({ dataKey: new Uint8Array(32), provider, random: fixedRandom(salt) }).header.subarray(4, 8)), '00010000', 'default chunk size')
})

test('round trip for many lengths and chunk sizes, sealer and opener fed in pieces of random sizes; sealedLength matches', () => {
  const rng = new Rng(4)
  for (const chunkSize of [1024, 1025, 4096, DEFAULT_CHUNK_SIZE]) {
    const lengths = [0, 1, 2, 15, 16, 17, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize - 1, 2 * chunkSize, 2 * chunkSize + 1, 3 * chunkSize + 100, rng.int(0, 5 * chunkSize)]
    for (const length of lengths) {
      const dataKey = rng.bytes(32)
      const plaintext = rng.bytes(length)
      const salt = rng.bytes(16)
      const whole = sealBytes({ dataKey, provider, random: fixedRandom(salt), chunkSize }, plaintext)
      assert.equal(whole.length, sealedLength(length, chunkSize), `sealedLength(${length}, ${chunkSize})`)
      const maxPiece = rng.int(1, 3 * chunkSize)
      const pieced = sealPieces(new StreamSealer({ dataKey, provider, random: fixedRandom(salt), chunkSize }), randomPieces(plaintext, rng, maxPiece))
      assert.equal(hx(sha256(pieced)), hx(sha256(whole)), `sealed in pieces ≤ ${maxPiece}: ${length}/${chunkSize}`)
      assert.deepEqual(openBytes({ dataKey, provider }, whole), plaintext)
      assert.deepEqual(openPieces(new StreamOpener({ dataKey, provider }), randomPieces(whole, rng, rng.int(1, 3 * chunkSize))), plaintext)
    }
  }
})

test('1-byte pieces through both sealer and opener', () => {
  const rng = new Rng(5)
  const dataKey = rng.bytes(32)
  for (const length of [0, 1, 1023, 1024, 1025, 2500]) {
    const plaintext = rng.bytes(length)
    const sealed = sealPieces(new StreamSealer({ dataKey, provider, random: rng.random, chunkSize: 1024 }), fixedPieces(plaintext, 1))
    assert.deepEqual(openPieces(new StreamOpener({ dataKey, provider }), fixedPieces(sealed, 1)), plaintext)
  }
})

test('empty pushes change nothing', () => {
  const dataKey = new Uint8Array(32).fill(1)
  const salt = new Uint8Array(16).fill(2)
  const sealer = new StreamSealer({ dataKey, provider, random: fixedRandom(salt), chunkSize: 1024 })
  const parts = [sealer.header]
  for (const piece of [new Uint8Array(0), pattern(1024), new Uint8Array(0), pattern(10), new Uint8Array(0)]) parts.push(...sealer.push(piece))
  parts.push(sealer.finish())
  const plaintext = concat([pattern(1024), pattern(10)])
  assert.deepEqual(concat(parts), sealBytes({ dataKey, provider, random: fixedRandom(salt), chunkSize: 1024 }, plaintext))
  const opener = new StreamOpener({ dataKey, provider })
  assert.deepEqual(opener.push(new Uint8Array(0)), [])
  assert.deepEqual(openPieces(opener, [new Uint8Array(0), concat(parts), new Uint8Array(0)]), plaintext)
})

test('a full chunk is held back until more data shows it is not the last, on both sides', () => {
  const dataKey = new Uint8Array(32).fill(3)
  const sealer = new StreamSealer({ dataKey, provider, random: fixedRandom(new Uint8Array(16)), chunkSize: 1024 })
  assert.deepEqual(sealer.push(pattern(1024)), [], 'a full buffer may still be the final chunk')
  const first = sealer.push(pattern(1))
  assert.equal(first.length, 1)
  assert.equal(first[0]!.length, 1024 + 16)
  const last = sealer.finish()
  assert.equal(last.length, 1 + 16)
  const opener = new StreamOpener({ dataKey, provider })
  assert.deepEqual(opener.push(concat([sealer.header, first[0]!])), [], 'the opener cannot know chunk 0 is not the last yet')
  const opened = opener.push(last.subarray(0, 1))
  assert.equal(opened.length, 1)
  assert.deepEqual(opened[0], pattern(1024))
  assert.deepEqual(opener.push(last.subarray(1)), [])
  assert.deepEqual(opener.finish(), pattern(1))
})

test('sealedLength: header + plaintext + one tag per chunk (one empty chunk for an empty plaintext)', () => {
  assert.equal(sealedLength(0), 40)
  assert.equal(sealedLength(1), 41)
  assert.equal(sealedLength(65536), 24 + 65536 + 16)
  assert.equal(sealedLength(65537), 24 + 65537 + 32)
  assert.equal(sealedLength(2 ** 40, 8 * 1024 * 1024), 24 + 2 ** 40 + (2 ** 40 / 2 ** 23) * 16)
  for (const bad of [1023, MAX_CHUNK_SIZE + 1, 0, 1.5]) throwsPeerpacs(() => sealedLength(10, bad), InvalidArgumentError, `chunk size ${bad}`)
  for (const bad of [-1, 1.5, NaN]) throwsPeerpacs(() => sealedLength(bad), InvalidArgumentError, `length ${bad}`)
})

test('chunk sizes outside [1024, 8 MiB] are refused by the sealer', () => {
  for (const chunkSize of [0, 1, 1023, MAX_CHUNK_SIZE + 1, 1024.5]) {
    const error = throwsPeerpacs(() => new StreamSealer({ dataKey: new Uint8Array(32), provider, random: fixedRandom(), chunkSize }), InvalidArgumentError, String(chunkSize))
    assert.match(error.message, /StreamSealer\(chunkSize\)/)
  }
  assert.equal(sealBytes({ dataKey: new Uint8Array(32), provider, random: new Rng(6).random, chunkSize: MAX_CHUNK_SIZE }, pattern(10)).length, sealedLength(10, MAX_CHUNK_SIZE))
})

test('a RandomSource that returns the wrong number of salt bytes is refused', () => {
  for (const bad of [new Uint8Array(15), new Uint8Array(17)]) {
    const error = throwsPeerpacs(() => new StreamSealer({ dataKey: new Uint8Array(32), provider, random: () => bad }), InvalidArgumentError)
    assert.match(error.message, /random\(16\)/)
  }
})

test('misuse: push after finish and finish twice are usage errors, on both sides', () => {
  const dataKey = new Uint8Array(32)
  const sealer = new StreamSealer({ dataKey, provider, random: fixedRandom(new Uint8Array(16)) })
  const sealed = concat([sealer.header, sealer.finish()])
  assert.match(throwsPeerpacs(() => sealer.push(new Uint8Array(1)), InvalidArgumentError).message, /push after finish/)
  assert.match(throwsPeerpacs(() => sealer.finish(), InvalidArgumentError).message, /finish called twice/)
  const opener = new StreamOpener({ dataKey, provider })
  opener.push(sealed)
  assert.deepEqual(opener.finish(), new Uint8Array(0))
  assert.match(throwsPeerpacs(() => opener.push(new Uint8Array(1)), InvalidArgumentError).message, /push after finish/)
  assert.match(throwsPeerpacs(() => opener.finish(), InvalidArgumentError).message, /finish called twice/)
})

test('the same plaintext sealed twice with fresh salts gives unrelated streams that both open', () => {
  const rng = new Rng(7)
  const dataKey = rng.bytes(32)
  const plaintext = rng.bytes(3000)
  const a = sealBytes({ dataKey, provider, random: rng.random, chunkSize: 1024 }, plaintext)
  const b = sealBytes({ dataKey, provider, random: rng.random, chunkSize: 1024 }, plaintext)
  assert.notEqual(hx(a.subarray(24, 64)), hx(b.subarray(24, 64)))
  assert.deepEqual(openBytes({ dataKey, provider }, a), plaintext)
  assert.deepEqual(openBytes({ dataKey, provider }, b), plaintext)
})
