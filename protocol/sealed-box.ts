/**
 * Key wrapping to a public key (X25519 sealed box), so a key can be handed to a node, a
 * specialist or the recovery key without any shared secret:
 *
 *   e, E      = fresh X25519 key pair            R = recipient's X25519 public key
 *   k ‖ n     = HKDF-SHA256(ikm = X25519(e, R), salt = E ‖ R, info = "peerpacs/v1/sealed-box", 56)
 *   sealed    = 0x01 ‖ E ‖ XChaCha20-Poly1305(k, n, plaintext, aad)
 *
 * A fresh e per box makes k unique, so the derived nonce is safe. X25519 rejects low-order
 * points (noble's default), so a hostile R cannot force a known shared secret.
 */
import { x25519 } from '@noble/curves/ed25519.js'
import { concatBytes, expectBytes } from './bytes.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { AuthenticationError, DecodeError, InvalidArgumentError } from './errors.ts'
import { hkdfSha256, LABELS } from './kdf.ts'
import { draw, type RandomSource } from './random.ts'
import { TAG_LENGTH, xchachaOpen, xchachaSeal } from './xchacha.ts'

const VERSION = 0x01
export const SEALED_BOX_OVERHEAD = 1 + 32 + TAG_LENGTH

function boxKey (shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): { key: Uint8Array, nonce: Uint8Array } {
  const okm = hkdfSha256(shared, concatBytes(ephemeralPublic, recipientPublic), LABELS.sealedBox, 56)
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 56) }
}

export function sealToPublicKey (provider: CryptoProvider, random: RandomSource, recipientPublic: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectProvider(provider, 'sealToPublicKey(provider)')
  expectBytes(recipientPublic, 'sealToPublicKey(recipientPublic)', 32)
  expectBytes(plaintext, 'sealToPublicKey(plaintext)')
  expectBytes(aad, 'sealToPublicKey(aad)')
  const ephemeralSecret = draw(random, 32, 'sealToPublicKey')
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret)
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(ephemeralSecret, recipientPublic)
  } catch (cause) {
    throw new InvalidArgumentError('sealToPublicKey(recipientPublic): not a usable X25519 public key (low order)', { cause })
  }
  const { key, nonce } = boxKey(shared, ephemeralPublic, recipientPublic)
  return concatBytes(new Uint8Array([VERSION]), ephemeralPublic, xchachaSeal(provider, key, nonce, plaintext, aad))
}

export function openSealedBox (provider: CryptoProvider, recipientSecret: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  expectProvider(provider, 'openSealedBox(provider)')
  expectBytes(recipientSecret, 'openSealedBox(recipientSecret)', 32)
  expectBytes(sealed, 'openSealedBox(sealed)')
  expectBytes(aad, 'openSealedBox(aad)')
  if (sealed.length < SEALED_BOX_OVERHEAD) throw new DecodeError(`sealed box of ${sealed.length} bytes is shorter than its ${SEALED_BOX_OVERHEAD}-byte overhead`)
  if (sealed[0] !== VERSION) throw new DecodeError(`sealed box version ${sealed[0]} is not supported (expected ${VERSION})`)
  const ephemeralPublic = sealed.subarray(1, 33)
  const recipientPublic = x25519.getPublicKey(recipientSecret)
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(recipientSecret, ephemeralPublic)
  } catch (cause) {
    throw new AuthenticationError('sealed box carries an unusable ephemeral key', { cause })
  }
  const { key, nonce } = boxKey(shared, ephemeralPublic, recipientPublic)
  try {
    return xchachaOpen(provider, key, nonce, sealed.subarray(33), aad)
  } catch (cause) {
    throw new AuthenticationError('sealed box did not open: not sealed to this key, damaged, or sealed for another purpose', { cause })
  }
}
