/**
 * The keys of one study. Its data key (random, 32 bytes) is wrapped by the org's epoch key;
 * each instance's stream key is derived from it with the blob's salt (protocol/aead-stream.ts);
 * its index records are sealed with a record key derived from it. The AADs bind every sealed
 * value to its place: a wrapped key to its study and epoch, a record to its index key.
 */
import { encodeCanonical } from '../../protocol/canonical.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { toHex } from '../../protocol/encoding.ts'
import type { OrgId } from '../../protocol/genesis.ts'
import { hkdfSha256, hmacSha256, LABELS } from '../../protocol/kdf.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { secretboxOpen, secretboxSeal } from '../../protocol/secretbox.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import type { KvKey } from '../store/kv.ts'

export function studyKeyAad (orgId: OrgId, studyId: StudyId, epoch: string): Uint8Array {
  return encodeCanonical(['peerpacs/study-key/v1', orgId, studyId, epoch])
}

export function wrapStudyKey (provider: CryptoProvider, random: RandomSource, epochKey: Uint8Array, dataKey: Uint8Array, aad: Uint8Array): Uint8Array {
  return secretboxSeal(provider, random, epochKey, dataKey, aad)
}

export function unwrapStudyKey (provider: CryptoProvider, epochKey: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Uint8Array {
  return secretboxOpen(provider, epochKey, wrapped, aad)
}

export function recordKeyOf (dataKey: Uint8Array): Uint8Array {
  return hkdfSha256(dataKey, new Uint8Array(0), LABELS.recordKey)
}

export function recordAad (orgId: OrgId, key: KvKey): Uint8Array {
  return encodeCanonical(['peerpacs/record/v1', orgId, [...key]])
}

/** Keyed hash of a UID for index lookups: finds an instance without writing its UID down. */
export function lookupOf (lookupKey: Uint8Array, kind: 'study' | 'sop', uid: string): string {
  return toHex(hmacSha256(lookupKey, utf8Encode(`${kind}\u0000${uid}`)))
}

/** AAD of a study's attributes as sealed into its `study.register` op: bound to the org and the study, portable to every replica. */
export function studyManifestAad (orgId: OrgId, studyId: StudyId): Uint8Array {
  return encodeCanonical(['peerpacs/study/v1', orgId, studyId])
}

/** AAD of an instance's attributes as sealed into its `study.instance` op: bound to its study and its blob. */
export function instanceManifestAad (orgId: OrgId, studyId: StudyId, blob: string): Uint8Array {
  return encodeCanonical(['peerpacs/instance/v1', orgId, studyId, blob])
}
