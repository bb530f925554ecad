/**
 * protocol/envelope.ts: signed envelopes. Sign/verify; the signature covers
 * canonical(["peerpacs/sig/v1", domain, payload]) (checked against RFC 8032 keys with the
 * reference verifier); a wrong domain or any tampering is a SignatureError; encode/decode round
 * trip; decode refuses extra or missing keys, wrong lengths and non-canonical bytes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ed from '@noble/ed25519'
import { ed25519 } from '@noble/curves/ed25519.js'
import { encodeCanonical } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope, type SignedEnvelope } from '../../../protocol/envelope.ts'
import { DecodeError, InvalidArgumentError, NotCanonicalError, SignatureError } from '../../../protocol/errors.ts'
import { GENESIS_DOMAIN, readGenesis } from '../../../protocol/genesis.ts'
import { generateNodeKey, nodeIdFromPublicKey, nodeKeyFromSecret } from '../../../protocol/identity.ts'
import { flipBit, h, hx, loadVectors, Rng, throwsPeerpacs, utf8 } from './helpers.ts'

interface Ed25519Vectors { cases: Array<{ secretKey: string, publicKey: string }> }
const keys = loadVectors<Ed25519Vectors>('ed25519-rfc8032.json').cases.map(c => nodeKeyFromSecret(h(c.secretKey)))
const p = nobleProvider
const alice = keys[0]!
const bob = keys[1]!
const payload = encodeCanonical({ op: 'grant', level: 3 })

test('sign then verify; the signature is Ed25519 over canonical(["peerpacs/sig/v1", domain, payload])', () => {
  const envelope = signEnvelope(alice, 'peerpacs/test/v1', payload)
  assert.equal(envelope.domain, 'peerpacs/test/v1')
  assert.deepEqual(envelope.payload, payload)
  assert.deepEqual(envelope.signer, alice.publicKey)
  assert.equal(envelope.signature.length, 64)
  verifyEnvelope(p, envelope, 'peerpacs/test/v1')
  const message = encodeCanonical(['peerpacs/sig/v1', 'peerpacs/test/v1', payload])
  assert.ok(ed.verify(envelope.signature, message, alice.publicKey), 'reference verifier, rebuilt message')
  assert.ok(!ed.verify(envelope.signature, payload, alice.publicKey), 'the bare payload is not what is signed')
})

test('signing is deterministic and any payload bytes can be signed (empty too)', () => {
  const a = signEnvelope(alice, 'd', payload)
  const b = signEnvelope(alice, 'd', payload)
  assert.equal(hx(a.signature), hx(b.signature))
  const empty = signEnvelope(bob, '', new Uint8Array(0))
  verifyEnvelope(p, empty, '')
})

test('a signature made for one domain never verifies as another', () => {
  const envelope = signEnvelope(alice, 'peerpacs/op/v1', payload)
  for (const domain of ['peerpacs/invite/v1', 'peerpacs/op/v2', 'peerpacs/op/v1 ', '', 'Peerpacs/op/v1']) {
    const error = throwsPeerpacs(() => verifyEnvelope(p, envelope, domain), SignatureError, domain)
    assert.match(error.message, /signed for "peerpacs\/op\/v1"/)
  }
  // Relabelling the envelope's domain does not help either: the signature covers it.
  throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, domain: 'peerpacs/invite/v1' }, 'peerpacs/invite/v1'), SignatureError)
})

test('a tampered payload, signature or signer is a SignatureError naming the signer', () => {
  const envelope = signEnvelope(alice, 'd', payload)
  for (let bit = 0; bit < payload.length * 8; bit++) {
    throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, payload: flipBit(payload, bit) }, 'd'), SignatureError, `payload bit ${bit}`)
  }
  for (let bit = 0; bit < 512; bit += 7) {
    throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, signature: flipBit(envelope.signature, bit) }, 'd'), SignatureError, `signature bit ${bit}`)
  }
  const error = throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, signer: bob.publicKey }, 'd'), SignatureError, 'other signer')
  assert.ok(error.message.includes(nodeIdFromPublicKey(bob.publicKey)))
  throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, signer: new Uint8Array(32).fill(0xff) }, 'd'), SignatureError, 'signer not a point')
  throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, payload: new Uint8Array([...payload, 0]) }, 'd'), SignatureError, 'payload extended')
})

test('verifyEnvelope refuses malformed envelopes before verifying', () => {
  const envelope = signEnvelope(alice, 'd', payload)
  for (const bad of [null, undefined, 'envelope', 3]) {
    assert.match(throwsPeerpacs(() => verifyEnvelope(p, bad as unknown as SignedEnvelope, 'd'), InvalidArgumentError, String(bad)).message, /verifyEnvelope\(envelope\): expected an object/)
  }
  assert.match(throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, signer: envelope.signer.subarray(0, 31) }, 'd'), InvalidArgumentError).message, /envelope\.signer/)
  assert.match(throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, signature: envelope.signature.subarray(0, 63) }, 'd'), InvalidArgumentError).message, /envelope\.signature/)
  assert.match(throwsPeerpacs(() => verifyEnvelope(p, { ...envelope, payload: 'x' as unknown as Uint8Array }, 'd'), InvalidArgumentError).message, /envelope\.payload/)
})

// The eight small-order Ed25519 points (order 1, 2, 4, 4, 8, 8, 8, 8).
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'
]

/** A signature that ZIP-215 accepts for ANY message under a small-order key A: R = [s]B, S = s, since [8][k]A = 0. */
function forgedSignature (s: bigint): Uint8Array {
  const S = new Uint8Array(32)
  for (let i = 0, x = s; i < 32; i++, x >>= 8n) S[i] = Number(x & 0xffn)
  return new Uint8Array([...ed25519.Point.BASE.multiply(s).toBytes(), ...S])
}

test('envelopes signed "by" a small-order key are refused: anyone can forge those signatures', () => {
  for (const point of SMALL_ORDER) assert.ok(ed25519.Point.fromBytes(h(point), true).isSmallOrder(), point)
  const signature = forgedSignature(12345n)
  for (const point of SMALL_ORDER) {
    const forged: SignedEnvelope = { domain: 'd', payload: utf8('grant admin to mallory'), signer: h(point), signature }
    throwsPeerpacs(() => verifyEnvelope(p, forged, 'd'), [SignatureError, DecodeError], point)
  }
  const genesisPayload = encodeCanonical({ name: 'Forged', admin: h(SMALL_ORDER[0]!), recovery: new Uint8Array(32), created: 1, nonce: new Uint8Array(16) })
  const genesis = encodeEnvelope({ domain: GENESIS_DOMAIN, payload: genesisPayload, signer: h(SMALL_ORDER[0]!), signature })
  throwsPeerpacs(() => readGenesis(p, genesis), [SignatureError, DecodeError], 'forged genesis')
})

test('encode/decode round trip, and the encoding is canonical CBOR of the four fields', () => {
  const rng = new Rng(8)
  for (let i = 0; i < 20; i++) {
    const key = generateNodeKey(rng.random)
    const envelope = signEnvelope(key, `domain/${i}`, rng.bytes(i * 13))
    const bytes = encodeEnvelope(envelope)
    assert.deepEqual(decodeEnvelope(bytes), envelope)
    assert.equal(hx(bytes), hx(encodeCanonical({ domain: envelope.domain, payload: envelope.payload, signer: envelope.signer, signature: envelope.signature })))
    verifyEnvelope(p, decodeEnvelope(bytes), `domain/${i}`)
  }
})

test('decodeEnvelope refuses extra or missing keys, wrong types and lengths, non-canonical and oversized bytes', () => {
  const e = signEnvelope(alice, 'd', payload)
  const base = { domain: e.domain, payload: e.payload, signer: e.signer, signature: e.signature }
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['extra key', encodeCanonical({ ...base, extra: 1 }), /expected keys/],
    ['missing signature', encodeCanonical({ domain: e.domain, payload: e.payload, signer: e.signer }), /expected keys/],
    ['four keys, one renamed', encodeCanonical({ domain: e.domain, payload: e.payload, signer: e.signer, sig: e.signature }), /envelope\.signature/],
    ['signer 31 bytes', encodeCanonical({ ...base, signer: e.signer.subarray(0, 31) }), /envelope\.signer: expected 32 bytes/],
    ['signature 65 bytes', encodeCanonical({ ...base, signature: new Uint8Array([...e.signature, 0]) }), /envelope\.signature: expected 64 bytes/],
    ['domain as bytes', encodeCanonical({ ...base, domain: utf8('d') }), /envelope\.domain: expected text/],
    ['payload as text', encodeCanonical({ ...base, payload: 'p' }), /envelope\.payload: expected byte string/],
    ['an array, not a map', encodeCanonical([e.domain, e.payload, e.signer, e.signature]), /envelope: expected a map/]
  ]
  for (const [name, bytes, message] of cases) {
    assert.match(throwsPeerpacs(() => decodeEnvelope(bytes), DecodeError, name).message, message, name)
  }
  const good = encodeEnvelope(e)
  throwsPeerpacs(() => decodeEnvelope(new Uint8Array([...good, 0])), DecodeError, 'trailing byte')
  throwsPeerpacs(() => decodeEnvelope(good.subarray(0, good.length - 1)), DecodeError, 'truncated')
  throwsPeerpacs(() => decodeEnvelope(good, good.length - 1), DecodeError, 'over maxBytes')
  assert.deepEqual(decodeEnvelope(good, good.length), e)
  throwsPeerpacs(() => decodeEnvelope(reorderFirstTwoKeys(good)), NotCanonicalError, 'keys out of order')
})

/** The envelope map with its first two entries swapped: valid CBOR, not canonical. */
function reorderFirstTwoKeys (bytes: Uint8Array): Uint8Array {
  // 0xa4, then four entries; each is a short text key and a text or byte string value (length < 256).
  const entry = (offset: number): number => {
    const keyLength = bytes[offset]! & 0x1f
    let o = offset + 1 + keyLength
    const head = bytes[o]!
    const info = head & 0x1f
    const length = info < 24 ? info : bytes[o + 1]!
    o += (info < 24 ? 1 : 2) + length
    return o - offset
  }
  const first = entry(1)
  const second = entry(1 + first)
  return new Uint8Array([bytes[0]!, ...bytes.subarray(1 + first, 1 + first + second), ...bytes.subarray(1, 1 + first), ...bytes.subarray(1 + first + second)])
}
