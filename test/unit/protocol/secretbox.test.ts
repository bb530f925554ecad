/**
 * protocol/secretbox.ts: the frozen vector (test/vectors/peerpacs-boxes.json) re-derived from the
 * format with @noble/ciphers, round trips, and refusal of a wrong key, wrong AAD, any flipped
 * bit, truncation and an unknown version byte.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { AuthenticationError, DecodeError } from '../../../protocol/errors.ts'
import { SECRETBOX_OVERHEAD, secretboxOpen, secretboxSeal } from '../../../protocol/secretbox.ts'
import { platformRandom } from '../../../protocol/random.ts'
import { fixedRandom, flipBit, h, hx, loadVectors, Rng, throwsPeerpacs } from './helpers.ts'

interface BoxVectors { secretbox: { key: string, nonce: string, plaintext: string, aad: string, box: string } }
const v = loadVectors<BoxVectors>('peerpacs-boxes.json').secretbox
const p = nobleProvider

test('frozen vector: seal gives the bytes, which are 0x01 ‖ nonce ‖ XChaCha20-Poly1305 by the reference', () => {
  const box = secretboxSeal(p, fixedRandom(h(v.nonce)), h(v.key), h(v.plaintext), h(v.aad))
  assert.equal(hx(box), v.box)
  const independent = new Uint8Array([0x01, ...h(v.nonce), ...xchacha20poly1305(h(v.key), h(v.nonce), h(v.aad)).encrypt(h(v.plaintext))])
  assert.equal(hx(independent), v.box)
  assert.equal(hx(secretboxOpen(p, h(v.key), h(v.box), h(v.aad))), v.plaintext)
})

test('round trip for many lengths; the overhead is 41 bytes; two seals differ', () => {
  assert.equal(SECRETBOX_OVERHEAD, 41)
  const rng = new Rng(21)
  for (const n of [0, 1, 15, 16, 17, 32, 63, 64, 65, 1000, 70_000]) {
    const key = rng.bytes(32)
    const plaintext = rng.bytes(n)
    const aad = rng.bytes(n % 20)
    const box = secretboxSeal(p, rng.random, key, plaintext, aad)
    assert.equal(box.length, n + SECRETBOX_OVERHEAD)
    assert.deepEqual(secretboxOpen(p, key, box, aad), plaintext)
  }
  const key = rng.bytes(32)
  assert.notDeepEqual(secretboxSeal(p, platformRandom, key, new Uint8Array(8), new Uint8Array(0)), secretboxSeal(p, platformRandom, key, new Uint8Array(8), new Uint8Array(0)))
})

test('wrong key, wrong or missing AAD: AuthenticationError', () => {
  const box = h(v.box)
  throwsPeerpacs(() => secretboxOpen(p, flipBit(h(v.key), 0), box, h(v.aad)), AuthenticationError)
  throwsPeerpacs(() => secretboxOpen(p, new Uint8Array(32), box, h(v.aad)), AuthenticationError)
  throwsPeerpacs(() => secretboxOpen(p, h(v.key), box, flipBit(h(v.aad), 5)), AuthenticationError)
  throwsPeerpacs(() => secretboxOpen(p, h(v.key), box, new Uint8Array(0)), AuthenticationError)
  throwsPeerpacs(() => secretboxOpen(p, h(v.key), box, new Uint8Array([...h(v.aad), 0])), AuthenticationError)
})

test('every flipped bit is refused (DecodeError in the version byte, AuthenticationError elsewhere)', () => {
  const box = h(v.box)
  for (let bit = 0; bit < box.length * 8; bit++) {
    throwsPeerpacs(() => secretboxOpen(p, h(v.key), flipBit(box, bit), h(v.aad)), bit < 8 ? DecodeError : AuthenticationError, `bit ${bit}`)
  }
})

test('truncation at every length and appended bytes are refused', () => {
  const box = h(v.box)
  for (let n = 0; n < box.length; n++) {
    throwsPeerpacs(() => secretboxOpen(p, h(v.key), box.subarray(0, n), h(v.aad)), n < SECRETBOX_OVERHEAD ? DecodeError : AuthenticationError, `length ${n}`)
  }
  throwsPeerpacs(() => secretboxOpen(p, h(v.key), new Uint8Array([...box, 0]), h(v.aad)), AuthenticationError)
})

test('unknown version bytes are refused with DecodeError naming the version', () => {
  for (const version of [0x00, 0x02, 0xff]) {
    const box = h(v.box)
    box[0] = version
    assert.match(throwsPeerpacs(() => secretboxOpen(p, h(v.key), box, h(v.aad)), DecodeError).message, new RegExp(`version ${version} `))
  }
})
