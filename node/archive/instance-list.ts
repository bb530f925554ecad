/**
 * The sealed list of a `study.instances` op (docs/protocol.md "Instances"): the attributes of
 * each instance the op names, in the order of its blobs, as the index records them
 * (InstanceAttributes without `blob`, which the op's clear blob list gives):
 *
 *   plaintext = deflateRaw(canonical([attributes_0, …, attributes_n-1]))
 *   sealed    = secretbox(study record key, plaintext, AAD = instanceListAad(org, study, blob ids))
 *
 * Compressed because the instances of one study repeat most of their values (patient, study,
 * series, UID roots): a CT slice's entry is about a hundred bytes instead of six hundred. The
 * AAD names every blob id in order, so the list cannot be re-pointed at other blobs or reordered.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import type { BlobId } from '../../protocol/blob-id.ts'
import { asMap, decodeCanonical, encodeCanonical, type CanonicalMap } from '../../protocol/canonical.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { DecodeError } from '../../protocol/errors.ts'
import type { OrgId } from '../../protocol/genesis.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { secretboxOpen, secretboxSeal } from '../../protocol/secretbox.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { decodeInstanceAttributes, encodeInstanceAttributes, type InstanceAttributes } from './index-layout.ts'

/** Most bytes a list may inflate to: far above 1000 entries of a few hundred bytes, far below a bomb. */
const MAX_INFLATED = 8 << 20

export function instanceListAad (orgId: OrgId, studyId: StudyId, blobs: readonly string[]): Uint8Array {
  return encodeCanonical(['peerpacs/instances/v1', orgId, studyId, [...blobs]])
}

/** Seals the attributes of `entries` (each names its blob) for one study.instances op. */
export function sealInstanceList (provider: CryptoProvider, random: RandomSource, recordKey: Uint8Array, orgId: OrgId, studyId: StudyId, entries: readonly InstanceAttributes[]): Uint8Array {
  const list = entries.map((a) => {
    const map = asMap(decodeCanonical(encodeInstanceAttributes(a)), 'instance attributes')
    delete map.blob
    return map
  })
  const plaintext = deflateRawSync(encodeCanonical(list), { level: 6 })
  return secretboxSeal(provider, random, recordKey, plaintext, instanceListAad(orgId, studyId, entries.map((a) => a.blob)))
}

/** Opens a study.instances op's list; entry i is the instance of `blobs[i]`. Throws AuthenticationError or DecodeError. */
export function openInstanceList (provider: CryptoProvider, recordKey: Uint8Array, orgId: OrgId, studyId: StudyId, blobs: readonly BlobId[], sealed: Uint8Array): InstanceAttributes[] {
  const compressed = secretboxOpen(provider, recordKey, sealed, instanceListAad(orgId, studyId, blobs))
  let plaintext: Uint8Array
  try {
    plaintext = inflateRawSync(compressed, { maxOutputLength: MAX_INFLATED })
  } catch (cause) {
    throw new DecodeError(`the instance list of a study.instances op does not inflate: ${(cause as Error).message}`, { cause })
  }
  const list = decodeCanonical(plaintext, MAX_INFLATED)
  if (!Array.isArray(list) || list.length !== blobs.length) throw new DecodeError(`the instance list names ${Array.isArray(list) ? list.length : 'no'} instances, its op ${blobs.length} blobs`)
  return list.map((entry, i) => {
    const map: CanonicalMap = { ...asMap(entry, `instance list[${i}]`), blob: blobs[i]! }
    return decodeInstanceAttributes(encodeCanonical(map))
  })
}
