/**
 * The native CryptoProvider: node:crypto (OpenSSL) for the bulk primitives. Tests prove it
 * byte-identical to protocol's noble reference (test/unit/node/native-provider.test.ts).
 *
 * Ed25519: OpenSSL verifies with the cofactorless equation and stricter decoding, which accepts
 * a subset of what ZIP-215 accepts. So an OpenSSL "valid" is final, and only an OpenSSL
 * "invalid" is re-checked with the noble reference; the answer is then ZIP-215's for every
 * input, and valid signatures, the common case, take the fast path.
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, createSecretKey, sign, verify, type KeyObject } from 'node:crypto'
import { equalBytes } from '../../protocol/bytes.ts'
import { AuthenticationError } from '../../protocol/errors.ts'
import { nobleProvider, type CryptoProvider, type Hasher } from '../../protocol/crypto-provider.ts'

const TAG_LENGTH = 16
// DER SubjectPublicKeyInfo prefix for an Ed25519 key (RFC 8410).
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

// A node signs with one key all its life: its KeyObject is made once per secret array and kept
// while the array lives (compared on every use, so an array rewritten in place gets a new one).
const signingKeys = new WeakMap<Uint8Array, { bytes: Uint8Array, object: KeyObject }>()

function ed25519SigningKey (secretKey: Uint8Array): KeyObject {
  const held = signingKeys.get(secretKey)
  if (held !== undefined && equalBytes(held.bytes, secretKey)) return held.object
  const object = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' })
  signingKeys.set(secretKey, { bytes: secretKey.slice(), object })
  return object
}
const KEY_CACHE_LIMIT = 1024
const keyCache = new Map<string, KeyObject | null>()

function ed25519KeyObject (publicKey: Uint8Array): KeyObject | null {
  const cacheKey = Buffer.from(publicKey).toString('base64')
  let key = keyCache.get(cacheKey)
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    } catch {
      key = null
    }
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!)
    keyCache.set(cacheKey, key)
  }
  return key
}

// Importing a raw key costs more than sealing a 64 KiB chunk; a stream passes the same subkey
// array for every chunk, so its KeyObject is made on the second use and kept as long as that
// array lives. A key used once (a secret box's fresh subkey) goes to OpenSSL as raw bytes: making
// a KeyObject for it cost ~0.4 ms per ingested instance. The bytes are compared on every use: an
// array rewritten in place must not keep its old key.
const secretKeys = new WeakMap<Uint8Array, { bytes: Uint8Array, object: KeyObject | undefined }>()

function secretKey (key: Uint8Array): KeyObject | Uint8Array {
  const cached = secretKeys.get(key)
  if (cached !== undefined && equalBytes(cached.bytes, key)) {
    cached.object ??= createSecretKey(key)
    return cached.object
  }
  secretKeys.set(key, { bytes: key.slice(), object: undefined })
  return key
}

function asUint8 (buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

export const nativeProvider: CryptoProvider = {
  name: 'node:crypto',

  sha256: (data) => asUint8(createHash('sha256').update(data).digest()),

  createSha256: () => {
    const h = createHash('sha256')
    const hasher: Hasher = {
      update (data) { h.update(data); return hasher },
      digest: () => asUint8(h.digest())
    }
    return hasher
  },

  chachaSeal: (key, nonce, plaintext, aad) => {
    const cipher = createCipheriv('chacha20-poly1305', secretKey(key), nonce, { authTagLength: TAG_LENGTH })
    cipher.setAAD(aad, { plaintextLength: plaintext.length })
    const out = Buffer.allocUnsafe(plaintext.length + TAG_LENGTH)
    const n = cipher.update(plaintext).copy(out, 0)
    cipher.final().copy(out, n)
    cipher.getAuthTag().copy(out, plaintext.length)
    return asUint8(out)
  },

  chachaSealParts: (key, nonce, plaintext, aad) => {
    const cipher = createCipheriv('chacha20-poly1305', secretKey(key), nonce, { authTagLength: TAG_LENGTH })
    cipher.setAAD(aad, { plaintextLength: plaintext.length })
    const body = cipher.update(plaintext)
    const rest = cipher.final()
    const ciphertext = rest.length === 0 ? body : Buffer.concat([body, rest])
    return [asUint8(ciphertext), asUint8(cipher.getAuthTag())]
  },

  chachaOpen: (key, nonce, sealed, aad) => {
    if (sealed.length < TAG_LENGTH) throw new AuthenticationError(`ChaCha20-Poly1305 input of ${sealed.length} bytes is shorter than its tag`)
    const decipher = createDecipheriv('chacha20-poly1305', secretKey(key), nonce, { authTagLength: TAG_LENGTH })
    const bodyLength = sealed.length - TAG_LENGTH
    decipher.setAAD(aad, { plaintextLength: bodyLength })
    decipher.setAuthTag(sealed.subarray(bodyLength))
    const out = decipher.update(sealed.subarray(0, bodyLength))
    try {
      decipher.final()
    } catch (cause) {
      out.fill(0) // never let unauthenticated plaintext escape
      throw new AuthenticationError('ChaCha20-Poly1305 tag did not verify', { cause })
    }
    return asUint8(out)
  },

  ed25519Sign: (secretKey, message) => {
    if (secretKey.length !== 32) return nobleProvider.ed25519Sign!(secretKey, message)
    return new Uint8Array(sign(null, message, ed25519SigningKey(secretKey)))
  },
  ed25519Verify: (signature, message, publicKey) => {
    if (signature.length !== 64 || publicKey.length !== 32) return false
    const key = ed25519KeyObject(publicKey)
    if (key !== null) {
      try {
        if (verify(null, message, key, signature)) return true
      } catch {
        // fall through to the reference answer
      }
    }
    return nobleProvider.ed25519Verify(signature, message, publicKey)
  }
}
