/**
 * What the index holds and how each record is encoded (canonical CBOR). Nothing here carries
 * PHI in clear: blob records are sizes and hashes; lookups are keyed hashes of UIDs; patient,
 * study and instance attributes are sealed with a key derived from the study's data key.
 * The keys themselves are in store/key-space.ts.
 */
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'
import { parseBlobId } from '../../protocol/blob-id.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, intField, textField, type CanonicalMap, type CanonicalValue } from '../../protocol/canonical.ts'
import { DecodeError } from '../../protocol/errors.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'
import type { KvKey } from '../store/kv.ts'

/** The index's keys are spelled in one place (store/key-space.ts); re-exported for the archive's modules. */
export { keys } from '../store/key-space.ts'

export function encodeBlobRecord (digest: BlobDigest): Uint8Array {
  return encodeCanonical({ size: digest.size, blockSize: digest.blockSize, blockHashes: digest.blockHashes })
}

export function decodeBlobRecord (id: BlobId, bytes: Uint8Array): BlobDigest {
  const map = asMap(decodeCanonical(bytes, 16 << 20), 'blob record')
  return { id, size: intField(map, 'size', 'blob record'), blockSize: intField(map, 'blockSize', 'blob record'), blockHashes: bytesField(map, 'blockHashes', 'blob record') }
}

export interface StudyRecord {
  readonly epoch: string
  /** The study's data key, sealed with the epoch key (secretbox, AAD = study-keys.ts studyKeyAad). */
  readonly wrappedKey: Uint8Array
  /** StudyAttributes, sealed with the study's record key. */
  readonly sealedAttributes: Uint8Array
}

export function encodeStudyRecord (r: StudyRecord): Uint8Array {
  return encodeCanonical({ epoch: r.epoch, wrappedKey: r.wrappedKey, attributes: r.sealedAttributes })
}

export function decodeStudyRecord (bytes: Uint8Array): StudyRecord {
  const map = asMap(decodeCanonical(bytes), 'study record')
  return { epoch: textField(map, 'epoch', 'study record'), wrappedKey: bytesField(map, 'wrappedKey', 'study record'), sealedAttributes: bytesField(map, 'attributes', 'study record') }
}

export interface InstanceRecord {
  readonly blob: BlobId
  /** InstanceAttributes, sealed with the study's record key. */
  readonly sealedAttributes: Uint8Array
}

export function encodeInstanceRecord (r: InstanceRecord): Uint8Array {
  return encodeCanonical({ blob: r.blob, attributes: r.sealedAttributes })
}

export function decodeInstanceRecord (bytes: Uint8Array): InstanceRecord {
  const map = asMap(decodeCanonical(bytes), 'instance record')
  return { blob: parseBlobId(textField(map, 'blob', 'instance record')), sealedAttributes: bytesField(map, 'attributes', 'instance record') }
}

// ---- Sealed contents ----

export const STUDY_FIELDS = ['studyInstanceUid', 'patientName', 'patientId', 'patientBirthDate', 'patientSex', 'studyDate',
  'studyTime', 'studyDescription', 'accessionNumber', 'referringPhysicianName', 'studyId'] as const

export type StudyAttributes = Pick<InstanceHeader, typeof STUDY_FIELDS[number]>

/**
 * What the index knows of one instance: its header, the size and SHA-256 of the file as received,
 * and the blob that holds it — sealed with the rest, so the record's clear blob pointer is
 * authenticated and cannot be re-pointed at another instance of the study.
 */
export interface InstanceAttributes extends InstanceHeader {
  readonly size: number
  readonly sha256: Uint8Array
  readonly blob: BlobId
}

function pick (source: object, fields: readonly string[]): CanonicalMap {
  const out: CanonicalMap = {}
  const from = source as Record<string, CanonicalValue | undefined>
  for (const f of fields) if (from[f] !== undefined) out[f] = from[f]
  return out
}

export function studyAttributesOf (header: InstanceHeader): StudyAttributes {
  return pick(header, STUDY_FIELDS) as unknown as StudyAttributes
}

export function encodeStudyAttributes (a: StudyAttributes): Uint8Array {
  return encodeCanonical(pick(a, STUDY_FIELDS))
}

function readFields (map: CanonicalMap, what: string): Record<string, string | number | Uint8Array> {
  const out: Record<string, string | number | Uint8Array> = {}
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string' && typeof v !== 'number' && !(v instanceof Uint8Array)) throw new DecodeError(`${what}.${k}: unexpected type`)
    out[k] = v
  }
  return out
}

export function decodeStudyAttributes (bytes: Uint8Array): StudyAttributes {
  const map = asMap(decodeCanonical(bytes), 'study attributes')
  textField(map, 'studyInstanceUid', 'study attributes')
  return readFields(map, 'study attributes') as unknown as StudyAttributes
}

const INSTANCE_FIELDS = ['blob', 'transferSyntaxUid', 'sopClassUid', 'sopInstanceUid', 'studyInstanceUid', 'seriesInstanceUid', 'modality',
  'seriesNumber', 'seriesDescription', 'bodyPartExamined', 'instanceNumber', 'numberOfFrames', 'rows', 'columns', 'size', 'sha256', ...STUDY_FIELDS]

export function encodeInstanceAttributes (a: InstanceAttributes): Uint8Array {
  return encodeCanonical(pick(a, INSTANCE_FIELDS))
}

export function decodeInstanceAttributes (bytes: Uint8Array): InstanceAttributes {
  const map = asMap(decodeCanonical(bytes), 'instance attributes')
  for (const f of ['sopInstanceUid', 'sopClassUid', 'seriesInstanceUid', 'transferSyntaxUid']) textField(map, f, 'instance attributes')
  intField(map, 'size', 'instance attributes')
  bytesField(map, 'sha256', 'instance attributes', 32)
  parseBlobId(textField(map, 'blob', 'instance attributes'))
  return readFields(map, 'instance attributes') as unknown as InstanceAttributes
}
