/**
 * The few primitives that dominate bulk work, behind one seam. `nobleProvider` is the pure
 * reference and what a browser uses; node/ supplies a native provider (node:crypto) that tests
 * prove byte-identical to this one. Everything else in protocol/ takes a provider argument.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { sha256 } from '@noble/hashes/sha2.js'
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { expectBytes, expectObject } from './bytes.ts'
import { AuthenticationError, InvalidArgumentError } from './errors.ts'

// @noble/ed25519 needs a synchronous SHA-512 to offer its synchronous API.
ed.hashes.sha512 = sha512

export interface Hasher {
  update (data: Uint8Array): Hasher
  digest (): Uint8Array
}

export interface CryptoProvider {
  readonly name: string
  sha256 (data: Uint8Array): Uint8Array
  createSha256 (): Hasher
  /** RFC 8439 ChaCha20-Poly1305 with a 32-byte key and 12-byte nonce; returns ciphertext ‖ 16-byte tag. */
  chachaSeal (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array
  /**
   * Optional: chachaSeal's output as [ciphertext, tag], not copied together. A sealer that
   * writes both in order produces exactly chachaSeal's bytes with one copy of each chunk less.
   */
  chachaSealParts?: (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) => [Uint8Array, Uint8Array]
  /** Inverse of chachaSeal; throws AuthenticationError when the tag does not verify. */
  chachaOpen (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array
  /**
   * Ed25519 verification with ZIP-215 rules (cofactored equation, non-canonical point encodings
   * accepted, S < L required). Every replica must accept exactly the same signatures, or logs
   * would diverge; so a native verifier must give this answer for every input, not just most.
   */
  ed25519Verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /**
   * Optional: RFC 8032 Ed25519 signing with a 32-byte secret seed. Signing is deterministic, so
   * a native signer must return exactly the reference's bytes (tested); without it, signers use
   * the reference (identity.ts signBytes).
   */
  ed25519Sign?: (secretKey: Uint8Array, message: Uint8Array) => Uint8Array
}

/** Checks that `value` looks like a CryptoProvider (before any work is done with it). */
export function expectProvider (value: CryptoProvider | null | undefined, name: string): CryptoProvider {
  expectObject(value, name)
  for (const method of ['sha256', 'createSha256', 'chachaSeal', 'chachaOpen', 'ed25519Verify'] as const) {
    if (typeof value![method] !== 'function') throw new InvalidArgumentError(`${name}: not a CryptoProvider (no ${method} method)`)
  }
  return value!
}

function checkChacha (op: string, key: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array): void {
  expectBytes(key, `${op}(key)`, 32)
  expectBytes(nonce, `${op}(nonce)`, 12)
  expectBytes(data, `${op}(data)`)
  expectBytes(aad, `${op}(aad)`)
}

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  sha256: (data) => sha256(expectBytes(data, 'sha256(data)')),
  createSha256: () => {
    const h = sha256.create()
    const hasher: Hasher = {
      update (data) { h.update(expectBytes(data, 'Hasher.update(data)')); return hasher },
      digest: () => h.digest()
    }
    return hasher
  },
  chachaSeal: (key, nonce, plaintext, aad) => {
    checkChacha('chachaSeal', key, nonce, plaintext, aad)
    return chacha20poly1305(key, nonce, aad).encrypt(plaintext)
  },
  chachaOpen: (key, nonce, sealed, aad) => {
    checkChacha('chachaOpen', key, nonce, sealed, aad)
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(sealed)
    } catch (cause) {
      throw new AuthenticationError('ChaCha20-Poly1305 tag did not verify', { cause })
    }
  },
  ed25519Sign: (secretKey, message) => ed.sign(expectBytes(message, 'ed25519Sign(message)'), expectBytes(secretKey, 'ed25519Sign(secretKey)', 32)),
  ed25519Verify: (signature, message, publicKey) => {
    try {
      return ed.verify(signature, message, publicKey, { zip215: true })
    } catch {
      return false
    }
  }
}
