/**
 * Key derivation. Every derived key has its own label here, so no two uses of one secret can
 * produce the same key, and a reader of this file sees every key the system derives.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expectBytes, expectInteger, utf8Encode } from './bytes.ts'
import { InvalidArgumentError } from './errors.ts'

export const LABELS = {
  /** Per-object key for one encrypted blob (STREAM), from the study data key and the blob's salt. */
  streamKey: 'peerpacs/v1/stream-key',
  /** Key and nonce of an X25519 sealed box. */
  sealedBox: 'peerpacs/v1/sealed-box',
  /** Key that encrypts a study's index records (attributes, instance records). */
  recordKey: 'peerpacs/v1/record-key',
  /** Key that seals a study's case-document updates (Yjs), from the study data key. */
  caseUpdateKey: 'peerpacs/v1/case-update-key',
  /** Key that seals audit records (`audit.event` ops), from the org's epoch key. */
  auditKey: 'peerpacs/v1/audit-key',
  /** Key that seals people's account records (`user.*` ops), from the org's epoch key. */
  userKey: 'peerpacs/v1/user-key',
  /** Key that seals a node's own snapshot of its query index, from its lookup key (never leaves the node). */
  indexSnapshotKey: 'peerpacs/v1/index-snapshot-key'
} as const

export type KdfLabel = typeof LABELS[keyof typeof LABELS]

const KNOWN_LABELS = new Set<unknown>(Object.values(LABELS))

/** HKDF-SHA256 (RFC 5869). */
export function hkdfSha256 (ikm: Uint8Array, salt: Uint8Array, label: KdfLabel, length = 32): Uint8Array {
  expectBytes(ikm, 'hkdfSha256(ikm)')
  expectBytes(salt, 'hkdfSha256(salt)')
  expectInteger(length, 'hkdfSha256(length)', 1, 255 * 32)
  if (!KNOWN_LABELS.has(label)) throw new InvalidArgumentError(`hkdfSha256(label): expected one of LABELS, got ${describe(label)}`)
  return hkdf(sha256, ikm, salt, utf8Encode(label), length)
}

/** HMAC-SHA256, for keyed lookups that must not reveal what they look up. */
export function hmacSha256 (key: Uint8Array, message: Uint8Array): Uint8Array {
  expectBytes(key, 'hmacSha256(key)')
  expectBytes(message, 'hmacSha256(message)')
  return hmac(sha256, key, message)
}
