/**
 * Hashing and key derivation: nobleProvider's SHA-256 (whole and streamed in pieces) on the NIST
 * values, HMAC-SHA256 on RFC 4231, HKDF-SHA256 on RFC 5869 (pinning @noble/hashes, which kdf.ts
 * wraps), and protocol/kdf.ts hkdfSha256 = HKDF with info = the label's UTF-8, for every label.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { InvalidArgumentError } from '../../../protocol/errors.ts'
import { hkdfSha256, hmacSha256, LABELS, type KdfLabel } from '../../../protocol/kdf.ts'
import { fixedPieces, h, hx, loadVectors, randomPieces, Rng, throwsPeerpacs } from './helpers.ts'

interface HashVectors {
  sha256: Array<{ name: string, message?: string, repeat?: { byte: string, count: number }, digest: string }>
  hmacSha256: Array<{ name: string, key: string, data: string, mac: string }>
  hkdfSha256: Array<{ name: string, ikm: string, salt: string, info: string, length: number, prk: string, okm: string }>
}
const v = loadVectors<HashVectors>('sha256-hmac-hkdf.json')
const p = nobleProvider

function message (c: HashVectors['sha256'][number]): Uint8Array {
  if (c.repeat !== undefined) return new Uint8Array(c.repeat.count).fill(h(c.repeat.byte)[0]!)
  return h(c.message!)
}

test('SHA-256 NIST values, whole', () => {
  for (const c of v.sha256) assert.equal(hx(p.sha256(message(c))), c.digest, c.name)
})

test('SHA-256 NIST values, streamed in 1-byte, 63/64/65-byte and random pieces', () => {
  const rng = new Rng(5)
  for (const c of v.sha256) {
    const data = message(c)
    const cuts = data.length > 10_000
      ? [fixedPieces(data, 64), fixedPieces(data, 65), randomPieces(data, rng, 5000)]
      : [fixedPieces(data, 1), fixedPieces(data, 63), fixedPieces(data, 64), fixedPieces(data, 65), randomPieces(data, rng, 7)]
    for (const pieces of cuts) {
      const hasher = p.createSha256()
      for (const piece of pieces) assert.equal(hasher.update(piece), hasher, 'update chains')
      assert.equal(hx(hasher.digest()), c.digest, `${c.name} in ${pieces.length} pieces`)
    }
  }
})

test('HMAC-SHA256: RFC 4231 test cases 1 and 2', () => {
  for (const c of v.hmacSha256) assert.equal(hx(hmacSha256(h(c.key), h(c.data))), c.mac, c.name)
})

test('HKDF-SHA256: RFC 5869 test case 1 pins @noble/hashes hkdf (PRK via HMAC, OKM via hkdf)', () => {
  for (const c of v.hkdfSha256) {
    assert.equal(hx(hmacSha256(h(c.salt), h(c.ikm))), c.prk, `${c.name}: PRK = HMAC(salt, IKM)`)
    assert.equal(hx(hkdf(sha256, h(c.ikm), h(c.salt), h(c.info), c.length)), c.okm, c.name)
  }
})

test('labels are distinct, versioned, and each one is what hkdfSha256 puts in info', () => {
  const labels = Object.values(LABELS)
  assert.equal(new Set(labels).size, labels.length)
  for (const label of labels) assert.match(label, /^peerpacs\/v1\/[a-z-]+$/)
  const rng = new Rng(9)
  for (const label of labels) {
    for (const length of [1, 16, 32, 56, 64, 255 * 32]) {
      const ikm = rng.bytes(32)
      const salt = rng.bytes(length % 2 === 0 ? 16 : 0)
      const want = hkdf(sha256, ikm, salt, new TextEncoder().encode(label), length)
      assert.equal(hx(hkdfSha256(ikm, salt, label, length)), hx(want), `${label}, ${length} bytes`)
    }
  }
  // Different labels give unrelated keys from one secret.
  const ikm = rng.bytes(32)
  const outputs = labels.map(label => hx(hkdfSha256(ikm, new Uint8Array(0), label)))
  assert.equal(new Set(outputs).size, labels.length)
})

test('hkdfSha256 defaults to 32 bytes and refuses lengths outside [1, 8160]', () => {
  const ikm = new Uint8Array(32)
  assert.equal(hkdfSha256(ikm, new Uint8Array(0), LABELS.recordKey).length, 32)
  for (const bad of [0, -1, 255 * 32 + 1, 1.5, NaN]) {
    const error = throwsPeerpacs(() => hkdfSha256(ikm, new Uint8Array(0), LABELS.recordKey, bad), InvalidArgumentError, String(bad))
    assert.match(error.message, /hkdfSha256\(length\)/)
  }
})

test('hkdfSha256 refuses a label that is not one of LABELS', () => {
  const ikm = new Uint8Array(32)
  for (const bad of [undefined, null, 123, '', 'peerpacs/v1/other', 'peerpacs/v1/stream-key ']) {
    const error = throwsPeerpacs(() => hkdfSha256(ikm, new Uint8Array(0), bad as KdfLabel), InvalidArgumentError, String(bad))
    assert.match(error.message, /hkdfSha256\(label\)/)
  }
})

test('hmacSha256 with keys longer than a block and empty messages agrees with RFC 2104 by construction', () => {
  // A key longer than 64 bytes is hashed first: HMAC(k) = HMAC(SHA-256(k)).
  const rng = new Rng(11)
  const longKey = rng.bytes(131)
  const data = rng.bytes(50)
  assert.equal(hx(hmacSha256(longKey, data)), hx(hmacSha256(sha256(longKey), data)))
  assert.equal(hmacSha256(new Uint8Array(0), new Uint8Array(0)).length, 32)
})
