/**
 * protocol/sealed-box.ts: X25519 on RFC 7748 (pins @noble/curves' x25519, which the sealed box
 * uses), the frozen sealed-box vector re-derived from the format, round trips (also to a node's
 * Ed25519 key in its X25519 form), refusal of low-order recipients, wrong recipients, wrong AAD,
 * flipped bits, truncation and unknown versions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { AuthenticationError, DecodeError, InvalidArgumentError } from '../../../protocol/errors.ts'
import { generateNodeKey, x25519PublicKey, x25519SecretKey } from '../../../protocol/identity.ts'
import { openSealedBox, SEALED_BOX_OVERHEAD, sealToPublicKey } from '../../../protocol/sealed-box.ts'
import { platformRandom } from '../../../protocol/random.ts'
import { fixedRandom, flipBit, h, hx, loadVectors, Rng, throwsPeerpacs, utf8 } from './helpers.ts'

interface X25519Vectors {
  scalarMult: Array<{ scalar: string, u: string, output: string }>
  iterated: { start: string, afterOne: string }
  diffieHellman: { aliceSecret: string, alicePublic: string, bobSecret: string, bobPublic: string, shared: string }
  lowOrderPoints: { points: string[] }
}
interface BoxVectors {
  sealedBox: {
    recipientSecret: string, recipientPublic: string, ephemeralSecret: string, ephemeralPublic: string, sharedSecret: string,
    okm: string, plaintext: string, aad: string, sealed: string
  }
}
const rfc = loadVectors<X25519Vectors>('x25519-rfc7748.json')
const v = loadVectors<BoxVectors>('peerpacs-boxes.json').sealedBox
const p = nobleProvider

test('RFC 7748 5.2 and 6.1 pin @noble/curves x25519', () => {
  for (const c of rfc.scalarMult) assert.equal(hx(x25519.scalarMult(h(c.scalar), h(c.u))), c.output)
  const k = h(rfc.iterated.start)
  assert.equal(hx(x25519.scalarMult(k, k)), rfc.iterated.afterOne)
  const dh = rfc.diffieHellman
  assert.equal(hx(x25519.getPublicKey(h(dh.aliceSecret))), dh.alicePublic)
  assert.equal(hx(x25519.getPublicKey(h(dh.bobSecret))), dh.bobPublic)
  assert.equal(hx(x25519.getSharedSecret(h(dh.aliceSecret), h(dh.bobPublic))), dh.shared)
  assert.equal(hx(x25519.getSharedSecret(h(dh.bobSecret), h(dh.alicePublic))), dh.shared)
})

test('frozen vector (RFC 7748 keys): seal gives the bytes, re-derived from the format with the reference primitives', () => {
  assert.equal(v.sharedSecret, rfc.diffieHellman.shared)
  const sealed = sealToPublicKey(p, fixedRandom(h(v.ephemeralSecret)), h(v.recipientPublic), h(v.plaintext), h(v.aad))
  assert.equal(hx(sealed), v.sealed)
  const okm = hkdf(sha256, h(v.sharedSecret), new Uint8Array([...h(v.ephemeralPublic), ...h(v.recipientPublic)]), utf8('peerpacs/v1/sealed-box'), 56)
  assert.equal(hx(okm), v.okm)
  const body = xchacha20poly1305(okm.subarray(0, 32), okm.subarray(32, 56), h(v.aad)).encrypt(h(v.plaintext))
  assert.equal(hx(new Uint8Array([0x01, ...h(v.ephemeralPublic), ...body])), v.sealed)
  assert.equal(hx(openSealedBox(p, h(v.recipientSecret), h(v.sealed), h(v.aad))), v.plaintext)
})

test('round trip for many lengths; overhead is 49 bytes; each seal uses a fresh ephemeral key', () => {
  assert.equal(SEALED_BOX_OVERHEAD, 49)
  const rng = new Rng(31)
  const secret = rng.bytes(32)
  const pub = x25519.getPublicKey(secret)
  for (const n of [0, 1, 32, 64, 1000, 70_000]) {
    const plaintext = rng.bytes(n)
    const aad = rng.bytes(n % 11)
    const sealed = sealToPublicKey(p, rng.random, pub, plaintext, aad)
    assert.equal(sealed.length, n + SEALED_BOX_OVERHEAD)
    assert.deepEqual(openSealedBox(p, secret, sealed, aad), plaintext)
  }
  const a = sealToPublicKey(p, platformRandom, pub, new Uint8Array(32), new Uint8Array(0))
  const b = sealToPublicKey(p, platformRandom, pub, new Uint8Array(32), new Uint8Array(0))
  assert.notDeepEqual(a.subarray(1, 33), b.subarray(1, 33))
})

test('sealing to a node: its Ed25519 key in X25519 form receives, its seed in X25519 form opens', () => {
  const rng = new Rng(32)
  for (let i = 0; i < 10; i++) {
    const node = generateNodeKey(rng.random)
    const dek = rng.bytes(32)
    const aad = utf8(`study/${i}`)
    const sealed = sealToPublicKey(p, rng.random, x25519PublicKey(node.publicKey), dek, aad)
    assert.deepEqual(openSealedBox(p, x25519SecretKey(node.secretKey), sealed, aad), dek)
    throwsPeerpacs(() => openSealedBox(p, node.secretKey, sealed, aad), AuthenticationError, 'the raw Ed25519 seed is not the X25519 secret')
  }
})

test('low-order X25519 recipients are refused with InvalidArgumentError', () => {
  assert.ok(rfc.lowOrderPoints.points.length >= 7)
  for (const point of rfc.lowOrderPoints.points) {
    const error = throwsPeerpacs(() => sealToPublicKey(p, platformRandom, h(point), utf8('key'), new Uint8Array(0)), InvalidArgumentError, point)
    assert.match(error.message, /sealToPublicKey\(recipientPublic\)/)
  }
})

test('a box carrying a low-order ephemeral key is refused with AuthenticationError', () => {
  for (const point of rfc.lowOrderPoints.points) {
    const sealed = h(v.sealed)
    sealed.set(h(point), 1)
    throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), sealed, h(v.aad)), AuthenticationError, point)
  }
})

test('the wrong recipient, wrong AAD or missing AAD cannot open', () => {
  const sealed = h(v.sealed)
  throwsPeerpacs(() => openSealedBox(p, h(rfc.diffieHellman.aliceSecret), sealed, h(v.aad)), AuthenticationError, 'wrong recipient')
  throwsPeerpacs(() => openSealedBox(p, new Rng(1).bytes(32), sealed, h(v.aad)), AuthenticationError, 'random recipient')
  throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), sealed, flipBit(h(v.aad), 3)), AuthenticationError, 'wrong AAD')
  throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), sealed, new Uint8Array(0)), AuthenticationError, 'no AAD')
})

test('every flipped bit is refused (DecodeError in the version byte, AuthenticationError elsewhere)', () => {
  const sealed = h(v.sealed)
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), flipBit(sealed, bit), h(v.aad)), bit < 8 ? DecodeError : AuthenticationError, `bit ${bit}`)
  }
})

test('truncation at every length, appended bytes and unknown versions are refused', () => {
  const sealed = h(v.sealed)
  for (let n = 0; n < sealed.length; n++) {
    throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), sealed.subarray(0, n), h(v.aad)), n < SEALED_BOX_OVERHEAD ? DecodeError : AuthenticationError, `length ${n}`)
  }
  throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), new Uint8Array([...sealed, 0]), h(v.aad)), AuthenticationError)
  for (const version of [0x00, 0x02, 0xff]) {
    const bad = sealed.slice()
    bad[0] = version
    assert.match(throwsPeerpacs(() => openSealedBox(p, h(v.recipientSecret), bad, h(v.aad)), DecodeError).message, new RegExp(`version ${version} `))
  }
})
