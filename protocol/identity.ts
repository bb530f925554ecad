/**
 * Node identities: Ed25519 key pairs. A node id is the libp2p PeerId string of the same key
 * (base58btc of the identity multihash of the protobuf-encoded public key, "12D3KooW…"), so
 * the peer the connection gater sees *is* the member named in the log. The X25519 forms of
 * the key receive wrapped keys (sealed boxes).
 */
import * as ed from '@noble/ed25519'
import { ed25519 } from '@noble/curves/ed25519.js'
import { concatBytes, equalBytes, expectBytes, expectString } from './bytes.ts'
import { DecodeError } from './errors.ts'
import { fromBase58, toBase58 } from './encoding.ts'
import { draw, type RandomSource } from './random.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { toHex } from './encoding.ts'

export type NodeId = string & { readonly __brand: 'NodeId' }

export interface NodeKeyPair {
  /** The 32-byte Ed25519 seed. */
  readonly secretKey: Uint8Array
  readonly publicKey: Uint8Array
}

// protobuf PublicKey { Type = Ed25519 (1), Data = 32 bytes } behind an identity multihash (0x00, length 36).
const PEER_ID_PREFIX = new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])

export function generateNodeKey (random: RandomSource): NodeKeyPair {
  return nodeKeyFromSecret(draw(random, 32, 'generateNodeKey'))
}

export function nodeKeyFromSecret (secretKey: Uint8Array): NodeKeyPair {
  expectBytes(secretKey, 'nodeKeyFromSecret(secretKey)', 32)
  return { secretKey: secretKey.slice(), publicKey: ed.getPublicKey(secretKey) }
}

export function nodeIdFromPublicKey (publicKey: Uint8Array): NodeId {
  expectBytes(publicKey, 'nodeIdFromPublicKey(publicKey)', 32)
  return toBase58(concatBytes(PEER_ID_PREFIX, publicKey)) as NodeId
}

export function publicKeyFromNodeId (nodeId: string): Uint8Array {
  expectString(nodeId, 'publicKeyFromNodeId(nodeId)')
  const bytes = fromBase58(nodeId)
  if (bytes.length !== PEER_ID_PREFIX.length + 32 || !equalBytes(bytes.subarray(0, PEER_ID_PREFIX.length), PEER_ID_PREFIX)) {
    throw new DecodeError(`not an Ed25519 node id: ${nodeId.length} characters that do not decode to an Ed25519 peer id`)
  }
  return bytes.slice(PEER_ID_PREFIX.length)
}

export function isNodeId (value: unknown): value is NodeId {
  if (typeof value !== 'string') return false
  try { publicKeyFromNodeId(value); return true } catch { return false }
}

// Verdicts on public keys, by hex: members are few and sign many times.
const smallOrderVerdicts = new Map<string, boolean>()

/**
 * True when `publicKey` is one of the eight points of small order (or does not decode). Under
 * ZIP-215 any signature (R = [s]B, S = s) verifies for every message under such a key, so anyone
 * could forge one; libsodium refuses them too. The check is deterministic, so every replica
 * applies it alike.
 */
export function isWeakPublicKey (publicKey: Uint8Array): boolean {
  expectBytes(publicKey, 'isWeakPublicKey(publicKey)', 32)
  const hex = toHex(publicKey)
  let weak = smallOrderVerdicts.get(hex)
  if (weak === undefined) {
    try {
      weak = ed.Point.fromBytes(publicKey, true).isSmallOrder()
    } catch {
      weak = true
    }
    if (smallOrderVerdicts.size >= 4096) smallOrderVerdicts.clear()
    smallOrderVerdicts.set(hex, weak)
  }
  return weak
}

/**
 * The signature rule every replica applies: ZIP-215 verification (by the provider, native or
 * reference, which agree on every input) by a key that is not of small order.
 */
export function verifySignature (provider: CryptoProvider, signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  expectProvider(provider, 'verifySignature(provider)')
  expectBytes(signature, 'verifySignature(signature)', 64)
  expectBytes(message, 'verifySignature(message)')
  expectBytes(publicKey, 'verifySignature(publicKey)', 32)
  return !isWeakPublicKey(publicKey) && provider.ed25519Verify(signature, message, publicKey)
}

export function signBytes (secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  expectBytes(secretKey, 'signBytes(secretKey)', 32)
  expectBytes(message, 'signBytes(message)')
  return ed.sign(message, secretKey)
}

/** X25519 public key of an Ed25519 public key (birational map), to seal boxes to a node. */
export function x25519PublicKey (edPublicKey: Uint8Array): Uint8Array {
  expectBytes(edPublicKey, 'x25519PublicKey(edPublicKey)', 32)
  try {
    return ed25519.utils.toMontgomery(edPublicKey)
  } catch (cause) {
    throw new DecodeError('not a valid Ed25519 public key', { cause })
  }
}

/** X25519 secret key of an Ed25519 seed, to open boxes sealed to that node. */
export function x25519SecretKey (edSecretKey: Uint8Array): Uint8Array {
  expectBytes(edSecretKey, 'x25519SecretKey(edSecretKey)', 32)
  return ed25519.utils.toMontgomerySecret(edSecretKey)
}
