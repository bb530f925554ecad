/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) assembled from HChaCha20 and the provider's
 * ChaCha20-Poly1305, which is libsodium's construction: subkey = HChaCha20(key, nonce[0..16]),
 * then ChaCha20-Poly1305 with nonce 0^4 ‖ nonce[16..24]. Splitting it this way lets node/ run the
 * bulk cipher natively while HChaCha20, a single block, stays in pure code.
 */
import { hchacha } from '@noble/ciphers/chacha.js'
import { expectBytes } from './bytes.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'

export const XCHACHA_KEY_LENGTH = 32
export const XCHACHA_NONCE_LENGTH = 24
export const TAG_LENGTH = 16

// "expand 32-byte k" as little-endian words.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

function words (bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true)
  return out
}

/** HChaCha20(key, 16-byte input) → 32-byte subkey. */
export function hchacha20 (key: Uint8Array, input: Uint8Array): Uint8Array {
  expectBytes(key, 'hchacha20(key)', 32)
  expectBytes(input, 'hchacha20(input)', 16)
  const out = new Uint32Array(8)
  hchacha(SIGMA, words(key), words(input), out)
  const bytes = new Uint8Array(32)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, out[i]!, true)
  return bytes
}

/** The 12-byte ChaCha20-Poly1305 nonce that goes with an HChaCha20 subkey: 0^4 ‖ nonce[16..24]. */
export function innerNonce (nonce24: Uint8Array): Uint8Array {
  expectBytes(nonce24, 'innerNonce(nonce24)', XCHACHA_NONCE_LENGTH)
  const inner = new Uint8Array(12)
  inner.set(nonce24.subarray(16, 24), 4)
  return inner
}

export function xchachaSeal (provider: CryptoProvider, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array {
  expectProvider(provider, 'xchachaSeal(provider)')
  expectBytes(key, 'xchachaSeal(key)', XCHACHA_KEY_LENGTH)
  expectBytes(nonce, 'xchachaSeal(nonce)', XCHACHA_NONCE_LENGTH)
  expectBytes(plaintext, 'xchachaSeal(plaintext)')
  expectBytes(aad, 'xchachaSeal(aad)')
  return provider.chachaSeal(hchacha20(key, nonce.subarray(0, 16)), innerNonce(nonce), plaintext, aad)
}

export function xchachaOpen (provider: CryptoProvider, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array {
  expectProvider(provider, 'xchachaOpen(provider)')
  expectBytes(key, 'xchachaOpen(key)', XCHACHA_KEY_LENGTH)
  expectBytes(nonce, 'xchachaOpen(nonce)', XCHACHA_NONCE_LENGTH)
  expectBytes(sealed, 'xchachaOpen(sealed)')
  expectBytes(aad, 'xchachaOpen(aad)')
  return provider.chachaOpen(hchacha20(key, nonce.subarray(0, 16)), innerNonce(nonce), sealed, aad)
}
