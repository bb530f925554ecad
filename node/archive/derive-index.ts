/**
 * Index records derived from the signed log (DESIGN "Blobs": the index can be rebuilt from log +
 * blobs). One study's records from its `study.register` op, one instance's from its
 * `study.instances` op's list (or an older one-instance `study.instance` op): opened with this node's epoch keys and sealed again with the study's record
 * key, exactly as ingest writes them. Used by `fsck --rebuild` (every study at once) and by the
 * mesh (a study or instance that arrived from a peer, once its blob is held here).
 */
import type { BlobId } from '../../protocol/blob-id.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import { secretboxOpen } from '../../protocol/secretbox.ts'
import type { InstanceState, StudyState } from '../../protocol/log/index.ts'
import type { KvOperation } from '../store/kv.ts'
import type { Archive, StudyContext } from './archive.ts'
import type { InstanceEntry } from './catalogue.ts'
import { DecodeError } from '../../protocol/errors.ts'
import {
  decodeInstanceAttributes, decodeStudyAttributes, encodeBlobRecord, encodeInstanceAttributes, encodeInstanceRecord, encodeStudyRecord, keys, type InstanceAttributes
} from './index-layout.ts'
import { openInstanceList } from './instance-list.ts'
import { instanceManifestAad, recordKeyOf, studyKeyAad, studyManifestAad, unwrapStudyKey } from './study-keys.ts'

export type PutOperation = KvOperation & { type: 'put' }

/** Opens a study of the log with this node's keys; throws (KeyFileError, AuthenticationError) when it cannot. */
export function studyFromLog (archive: Archive, study: StudyState): { context: StudyContext, writes: PutOperation[] } {
  const keyring = archive.keyring
  const orgId = keyring.orgId
  const epoch = study.epoch as string
  const dataKey = unwrapStudyKey(archive.provider, keyring.epochKey(epoch), study.wrappedKey, studyKeyAad(orgId, study.id, epoch))
  const recordKey = recordKeyOf(dataKey)
  const attributesBytes = secretboxOpen(archive.provider, recordKey, study.sealed, studyManifestAad(orgId, study.id))
  const attributes = decodeStudyAttributes(attributesBytes)
  const context: StudyContext = { studyId: study.id, epoch, dataKey, recordKey, attributes, pendingCreation: undefined }
  return {
    context,
    writes: [
      { type: 'put', key: keys.study(study.id), value: encodeStudyRecord({ epoch, wrappedKey: study.wrappedKey, sealedAttributes: archive.sealRecord(context, keys.study(study.id), attributesBytes) }) },
      { type: 'put', key: keys.studyUid(archive.lookup('study', attributes.studyInstanceUid)), value: utf8Encode(study.id) }
    ]
  }
}

/**
 * The opened lists of the last few study.instances ops: a study's instances are derived one after
 * another, so each op's list is opened once, not once per instance. Bounded, so memory is not.
 */
const openedLists = new Map<Uint8Array, InstanceAttributes[]>()
const OPENED_LISTS = 8

function listedAttributes (archive: Archive, context: StudyContext, instance: InstanceState): InstanceAttributes {
  let list = openedLists.get(instance.sealed)
  if (list === undefined) {
    list = openInstanceList(archive.provider, context.recordKey, archive.keyring.orgId, context.studyId, instance.opBlobs.map((b) => b.id as BlobId), instance.sealed)
    if (openedLists.size >= OPENED_LISTS) openedLists.delete(openedLists.keys().next().value!)
    openedLists.set(instance.sealed, list)
  }
  const attributes = list[instance.index]
  if (attributes === undefined || attributes.blob !== instance.blob.id) throw new DecodeError(`the instance list of op ${instance.op} does not name blob ${instance.blob.id} at ${instance.index}`)
  return attributes
}

/** One instance of the log: its records (instance, SOP lookup, blob) and its catalogue entry. */
export function instanceFromLog (archive: Archive, context: StudyContext, instance: InstanceState): { sopLookup: string, entry: InstanceEntry, writes: PutOperation[] } {
  const blob = instance.blob.id as BlobId
  let bytes: Uint8Array
  let attributes: InstanceAttributes
  if (instance.index >= 0) {
    attributes = listedAttributes(archive, context, instance)
    bytes = encodeInstanceAttributes(attributes)
  } else {
    bytes = secretboxOpen(archive.provider, context.recordKey, instance.sealed, instanceManifestAad(archive.keyring.orgId, context.studyId, blob))
    attributes = decodeInstanceAttributes(bytes)
  }
  const sopLookup = archive.lookup('sop', attributes.sopInstanceUid)
  const instanceKey = keys.instance(context.studyId, sopLookup)
  return {
    sopLookup,
    entry: { lookup: sopLookup, blob, attributes },
    writes: [
      { type: 'put', key: instanceKey, value: encodeInstanceRecord({ blob, sealedAttributes: archive.sealRecord(context, instanceKey, bytes) }) },
      { type: 'put', key: keys.sop(sopLookup), value: utf8Encode(context.studyId) },
      blobRecordWrite(instance)
    ]
  }
}

/** The keyless part: a blob's sizes and hashes (all a backup indexes). */
export function blobRecordWrite (instance: InstanceState): PutOperation {
  return { type: 'put', key: keys.blob(instance.blob.id as BlobId), value: encodeBlobRecord(instance.blob) }
}
