/**
 * The study catalogue, decrypted from the index: what `peerpacs studies` lists and what export
 * walks. It is computed from the sealed records each time; held only in memory.
 */
import type { BlobId } from '../../protocol/blob-id.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { KvKey } from '../store/kv.ts'
import type { Archive, StudyContext } from './archive.ts'
import { decodeInstanceAttributes, decodeInstanceRecord, keys, type InstanceAttributes, type InstanceRecord } from './index-layout.ts'
import { IndexDamagedError } from './errors.ts'
import { PeerpacsError } from '../../protocol/errors.ts'

export interface InstanceEntry {
  readonly lookup: string
  readonly blob: BlobId
  readonly attributes: InstanceAttributes
}

/** Decodes and opens one instance record of `study` stored under `key`; IndexDamagedError if it does not. */
export function openInstanceEntry (archive: Archive, study: StudyContext, key: KvKey, bytes: Uint8Array): InstanceEntry {
  let record: InstanceRecord
  let attributes: InstanceAttributes
  try {
    record = decodeInstanceRecord(bytes)
    attributes = decodeInstanceAttributes(archive.openRecord(study, key, record.sealedAttributes))
  } catch (cause) {
    if (!(cause instanceof PeerpacsError)) throw cause
    throw new IndexDamagedError(`an instance record of study ${study.attributes.studyInstanceUid} does not open: ${cause.message}`, { cause })
  }
  if (attributes.blob !== record.blob) {
    throw new IndexDamagedError(`the record of instance ${attributes.sopInstanceUid} points at blob ${record.blob}, but its sealed attributes name blob ${attributes.blob}`)
  }
  return { lookup: key[2]!, blob: record.blob, attributes }
}

export async function * instancesOf (archive: Archive, study: StudyContext): AsyncIterable<InstanceEntry> {
  for await (const [key, bytes] of archive.kv.entries(keys.instancesOf(study.studyId))) {
    yield openInstanceEntry(archive, study, key, bytes)
  }
}

export interface StudySummary {
  readonly studyId: StudyId
  readonly studyInstanceUid: string
  readonly patientName?: string
  readonly patientId?: string
  readonly patientBirthDate?: string
  readonly patientSex?: string
  readonly studyDate?: string
  readonly studyTime?: string
  readonly studyDescription?: string
  readonly accessionNumber?: string
  readonly modalities: string[]
  readonly series: number
  readonly instances: number
  readonly bytes: number
}

export interface Catalogue {
  readonly studies: StudySummary[]
  /** Studies (or instances) whose records do not open: listed so a damaged index never hides silently. */
  readonly unreadable: Array<{ studyId: StudyId, message: string }>
}

export async function listStudies (archive: Archive): Promise<Catalogue> {
  const out: StudySummary[] = []
  const unreadable: Catalogue['unreadable'] = []
  for await (const [key] of archive.kv.entries(keys.studies)) {
    const studyId = key[1] as StudyId
    let study: StudyContext
    try {
      study = await archive.study(studyId)
    } catch (error) {
      if (!(error instanceof IndexDamagedError)) throw error
      unreadable.push({ studyId, message: error.message })
      continue
    }
    const series = new Set<string>()
    const modalities = new Set<string>()
    let instances = 0
    let bytes = 0
    for await (const [instanceKey, value] of archive.kv.entries(keys.instancesOf(studyId))) {
      let entry: InstanceEntry
      try {
        entry = openInstanceEntry(archive, study, instanceKey, value)
      } catch (error) {
        if (!(error instanceof IndexDamagedError)) throw error
        unreadable.push({ studyId, message: error.message })
        continue
      }
      instances++
      bytes += entry.attributes.size
      series.add(entry.attributes.seriesInstanceUid)
      if (entry.attributes.modality !== undefined) modalities.add(entry.attributes.modality)
    }
    if (instances === 0) continue
    const a = study.attributes
    out.push({
      studyId: study.studyId,
      studyInstanceUid: a.studyInstanceUid,
      ...(a.patientName === undefined ? {} : { patientName: a.patientName }),
      ...(a.patientId === undefined ? {} : { patientId: a.patientId }),
      ...(a.patientBirthDate === undefined ? {} : { patientBirthDate: a.patientBirthDate }),
      ...(a.patientSex === undefined ? {} : { patientSex: a.patientSex }),
      ...(a.studyDate === undefined ? {} : { studyDate: a.studyDate }),
      ...(a.studyTime === undefined ? {} : { studyTime: a.studyTime }),
      ...(a.studyDescription === undefined ? {} : { studyDescription: a.studyDescription }),
      ...(a.accessionNumber === undefined ? {} : { accessionNumber: a.accessionNumber }),
      modalities: [...modalities].sort(),
      series: series.size,
      instances,
      bytes
    })
  }
  out.sort((x, y) => (y.studyDate ?? '').localeCompare(x.studyDate ?? '') || x.studyInstanceUid.localeCompare(y.studyInstanceUid))
  return { studies: out, unreadable }
}
