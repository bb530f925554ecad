/**
 * protocol/xchacha.ts: HChaCha20 and XChaCha20-Poly1305 against draft-irtf-cfrg-xchacha-03
 * (test/vectors/xchacha20poly1305.json), our split construction (HChaCha20 + the provider's
 * ChaCha20-Poly1305) against @noble/ciphers' xchacha20poly1305 for many lengths, and tag checks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { AuthenticationError } from '../../../protocol/errors.ts'
import { hchacha20, innerNonce, TAG_LENGTH, XCHACHA_KEY_LENGTH, XCHACHA_NONCE_LENGTH, xchachaOpen, xchachaSeal } from '../../../protocol/xchacha.ts'
import { flipBit, h, hx, loadVectors, Rng, sequence, throwsPeerpacs, utf8 } from './helpers.ts'

interface XChaChaVectors {
  hchacha20: { key: string, nonce: string, subkey: string }
  aead: { plaintext: string, plaintextText: string, aad: string, key: string, nonce: string, ciphertext: string, tag: string }
}
const v = loadVectors<XChaChaVectors>('xchacha20poly1305.json')
const p = nobleProvider

test('constants', () => {
  assert.equal(XCHACHA_KEY_LENGTH, 32)
  assert.equal(XCHACHA_NONCE_LENGTH, 24)
  assert.equal(TAG_LENGTH, 16)
})

test('HChaCha20: draft-irtf-cfrg-xchacha-03 section 2.2.1', () => {
  assert.equal(hx(hchacha20(h(v.hchacha20.key), h(v.hchacha20.nonce))), v.hchacha20.subkey)
  // Inputs that are subarrays at odd offsets give the same answer.
  const key = new Uint8Array(33); key.set(h(v.hchacha20.key), 1)
  const input = new Uint8Array(17); input.set(h(v.hchacha20.nonce), 1)
  assert.equal(hx(hchacha20(key.subarray(1), input.subarray(1))), v.hchacha20.subkey)
})

test('XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 appendix A.3.1, seal and open', () => {
  const { key, nonce, aad, plaintext, ciphertext, tag } = v.aead
  assert.equal(hx(utf8(v.aead.plaintextText)), plaintext)
  const sealed = xchachaSeal(p, h(key), h(nonce), h(plaintext), h(aad))
  assert.equal(hx(sealed), ciphertext + tag)
  assert.equal(hx(xchachaOpen(p, h(key), h(nonce), h(ciphertext + tag), h(aad))), plaintext)
  // The reference agrees with the published value too.
  assert.equal(hx(xchacha20poly1305(h(key), h(nonce), h(aad)).encrypt(h(plaintext))), ciphertext + tag)
})

test('innerNonce is 0^4 ‖ nonce[16..24]', () => {
  assert.equal(hx(innerNonce(sequence(0x40, 24))), '00000000' + '5051525354555657')
})

test('seal equals @noble/ciphers xchacha20poly1305 for lengths 0..300 and larger, with and without AAD', () => {
  const rng = new Rng(7)
  const lengths = [...Array.from({ length: 301 }, (_, i) => i), 1023, 1024, 1025, 65536, 100_003]
  for (const n of lengths) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const plaintext = rng.bytes(n)
    const aad = rng.bytes(n % 3 === 0 ? 0 : n % 50)
    const sealed = xchachaSeal(p, key, nonce, plaintext, aad)
    assert.equal(sealed.length, n + TAG_LENGTH)
    assert.equal(hx(sealed), hx(xchacha20poly1305(key, nonce, aad).encrypt(plaintext)), `length ${n}`)
    assert.deepEqual(xchachaOpen(p, key, nonce, sealed, aad), plaintext)
  }
  const key = rng.bytes(32)
  const nonce = rng.bytes(24)
  assert.deepEqual(xchachaSeal(p, key, nonce, utf8('x')), xchachaSeal(p, key, nonce, utf8('x'), new Uint8Array(0)), 'AAD defaults to empty')
})

test('open refuses every flipped bit, a wrong key, nonce or AAD, and truncation', () => {
  const { key, nonce, aad, plaintext } = v.aead
  const sealed = xchachaSeal(p, h(key), h(nonce), h(plaintext), h(aad))
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    throwsPeerpacs(() => xchachaOpen(p, h(key), h(nonce), flipBit(sealed, bit), h(aad)), AuthenticationError, `bit ${bit}`)
  }
  for (let bit = 0; bit < 256; bit += 7) throwsPeerpacs(() => xchachaOpen(p, flipBit(h(key), bit), h(nonce), sealed, h(aad)), AuthenticationError)
  for (let bit = 0; bit < 192; bit += 5) throwsPeerpacs(() => xchachaOpen(p, h(key), flipBit(h(nonce), bit), sealed, h(aad)), AuthenticationError)
  throwsPeerpacs(() => xchachaOpen(p, h(key), h(nonce), sealed, flipBit(h(aad), 0)), AuthenticationError)
  throwsPeerpacs(() => xchachaOpen(p, h(key), h(nonce), sealed), AuthenticationError, 'AAD dropped')
  for (const n of [0, 1, 15, 16, sealed.length - 1]) {
    throwsPeerpacs(() => xchachaOpen(p, h(key), h(nonce), sealed.subarray(0, n), h(aad)), AuthenticationError, `truncated to ${n}`)
  }
})
