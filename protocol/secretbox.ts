/**
 * Symmetric sealing of one small value (a wrapped key, an index record) under a 32-byte key:
 *   box = 0x01 ‖ nonce (24 random bytes) ‖ XChaCha20-Poly1305(key, nonce, plaintext, aad)
 * The AAD binds the box to where it belongs (which study, which index slot), so a box moved
 * to another place fails to open even under the right key.
 */
import { concatBytes, expectBytes } from './bytes.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { AuthenticationError, DecodeError } from './errors.ts'
import { draw, type RandomSource } from './random.ts'
import { TAG_LENGTH, XCHACHA_NONCE_LENGTH, xchachaOpen, xchachaSeal } from './xchacha.ts'

const VERSION = 0x01
export const SECRETBOX_OVERHEAD = 1 + XCHACHA_NONCE_LENGTH + TAG_LENGTH

export function secretboxSeal (provider: CryptoProvider, random: RandomSource, key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectProvider(provider, 'secretboxSeal(provider)')
  expectBytes(key, 'secretboxSeal(key)', 32)
  expectBytes(plaintext, 'secretboxSeal(plaintext)')
  expectBytes(aad, 'secretboxSeal(aad)')
  const nonce = draw(random, XCHACHA_NONCE_LENGTH, 'secretboxSeal')
  return concatBytes(new Uint8Array([VERSION]), nonce, xchachaSeal(provider, key, nonce, plaintext, aad))
}

export function secretboxOpen (provider: CryptoProvider, key: Uint8Array, box: Uint8Array, aad: Uint8Array): Uint8Array {
  expectProvider(provider, 'secretboxOpen(provider)')
  expectBytes(key, 'secretboxOpen(key)', 32)
  expectBytes(box, 'secretboxOpen(box)')
  expectBytes(aad, 'secretboxOpen(aad)')
  if (box.length < SECRETBOX_OVERHEAD) throw new DecodeError(`secret box of ${box.length} bytes is shorter than its ${SECRETBOX_OVERHEAD}-byte overhead`)
  if (box[0] !== VERSION) throw new DecodeError(`secret box version ${box[0]} is not supported (expected ${VERSION})`)
  try {
    return xchachaOpen(provider, key, box.subarray(1, 25), box.subarray(25), aad)
  } catch (cause) {
    throw new AuthenticationError('secret box did not open: wrong key, damaged, or moved from where it was sealed', { cause })
  }
}
