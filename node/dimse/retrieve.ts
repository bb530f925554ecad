/**
 * What C-MOVE and C-GET share: the instances a retrieve identifier names (by the unique keys of
 * its level and those above, PS3.4 C.4.2.2.1), and the sub-operation loop that sends each one
 * exactly as stored, reporting progress as pending responses and ending with the counts.
 * Each stored file is read (and verified) into memory one at a time, then sent as raw bytes.
 * The instances are chosen from the studies the keys can name (studiesOf), read from the index
 * on disk one study at a time: nothing is scanned instance by instance across the archive.
 */
import type { CatalogInstance, QueryLevel, StudyEntry } from '../query/attributes.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { keyText, levelOf, type FindFailure } from './find.ts'
import { RawDataset } from './raw-dataset.ts'
import type { QueryModel } from './syntaxes.ts'
import { STATUS } from './statuses.ts'

const UNIQUE: ReadonlyArray<[keyword: string, level: QueryLevel, pick: (i: CatalogInstance) => string | undefined]> = [
  ['PatientID', 'PATIENT', (i) => i.patientId],
  ['StudyInstanceUID', 'STUDY', (i) => i.studyInstanceUid],
  ['SeriesInstanceUID', 'SERIES', (i) => i.seriesInstanceUid],
  ['SOPInstanceUID', 'IMAGE', (i) => i.sopInstanceUid]
]
const RANK: Record<QueryLevel, number> = { PATIENT: 0, STUDY: 1, SERIES: 2, IMAGE: 3 }

type Filter = { readonly keyword: string, readonly values: Set<string>, readonly pick: (i: CatalogInstance) => string | undefined }

/**
 * The studies a retrieve can take instances from: those named by StudyInstanceUID, else those
 * holding a named SOP instance (by the index's SOP lookup), else those whose entry has the patient
 * or series asked for. Only their instance records are then read, one study at a time.
 */
async function studiesOf (pacs: Pacs, filters: readonly Filter[]): Promise<StudyEntry[]> {
  const wanted = (keyword: string): Set<string> | undefined => filters.find((f) => f.keyword === keyword)?.values
  const studies = wanted('StudyInstanceUID')
  const sops = wanted('SOPInstanceUID')
  let entries: StudyEntry[]
  if (studies !== undefined) {
    entries = [...studies].map((uid) => pacs.study(uid)).filter((e): e is StudyEntry => e !== undefined)
  } else if (sops !== undefined) {
    const found = await Promise.all([...sops].map(async (uid) => await pacs.findInstance(uid)))
    entries = [...new Set(found.map((i) => i === undefined ? undefined : pacs.study(i.studyInstanceUid)))].filter((e): e is StudyEntry => e !== undefined)
  } else {
    entries = [...pacs.studies()]
  }
  const patients = wanted('PatientID')
  const series = wanted('SeriesInstanceUID')
  return entries
    .filter((e) => patients === undefined || patients.has(e.attributes.patientId ?? ''))
    .filter((e) => series === undefined || e.series.some((s) => series.has(s)))
    .sort((a, b) => a.attributes.studyInstanceUid < b.attributes.studyInstanceUid ? -1 : a.attributes.studyInstanceUid > b.attributes.studyInstanceUid ? 1 : 0)
}

export async function selectInstances (pacs: Pacs, model: QueryModel, elements: Record<string, unknown>): Promise<CatalogInstance[] | FindFailure> {
  const level = levelOf(elements, model)
  if (typeof level !== 'string') return level
  const filters: Filter[] = []
  for (const [keyword, keyLevel, pick] of UNIQUE) {
    if (RANK[keyLevel] > RANK[level]) continue
    if (keyLevel === 'PATIENT' && model === 'studyRoot') continue
    const text = keyText(elements[keyword])
    if (text === '') {
      if (keyLevel === level) return { status: STATUS.doesNotMatch, comment: `${keyword} is required at ${level} level` }
      continue
    }
    filters.push({ keyword, values: new Set(text.split('\\').map((v) => v.trim())), pick })
  }
  const chosen: CatalogInstance[] = []
  for (const study of await studiesOf(pacs, filters)) {
    for (const instance of await pacs.instancesOf(study.attributes.studyInstanceUid)) {
      if (filters.every((f) => f.values.has(f.pick(instance) ?? ''))) chosen.push(instance)
    }
  }
  return chosen
}

export async function readRaw (pacs: Pacs, instance: CatalogInstance): Promise<RawDataset> {
  const parts: Uint8Array[] = []
  for await (const part of pacs.read(instance)) parts.push(part)
  return RawDataset.fromPart10(Buffer.concat(parts), instance.sopClassUid, instance.sopInstanceUid)
}

export interface Progress { remaining: number, completed: number, failed: number, warnings: number }

/** Sends one instance; resolves to the C-STORE-RSP status (or a local failure status). */
export type SubOperation = (instance: CatalogInstance) => Promise<number>

export interface RetrieveResult extends Progress { readonly cancelled: boolean }

export async function runSubOperations (instances: readonly CatalogInstance[], send: SubOperation, pending: (p: Progress) => void, cancelled: () => boolean): Promise<RetrieveResult> {
  const p: Progress = { remaining: instances.length, completed: 0, failed: 0, warnings: 0 }
  for (const instance of instances) {
    if (cancelled()) return { ...p, cancelled: true }
    let status: number
    try {
      status = await send(instance)
    } catch {
      status = STATUS.processingFailure
    }
    p.remaining--
    if (status === STATUS.success) p.completed++
    else if ((status & 0xf000) === 0xb000) p.warnings++
    else p.failed++
    if (p.remaining > 0) pending({ ...p })
  }
  return { ...p, cancelled: false }
}

/** The final status of a retrieve (PS3.4 C.4.2.1.5, C.4.3.1.4). */
export function finalStatus (r: RetrieveResult): number {
  if (r.cancelled) return STATUS.cancel
  if (r.failed === 0 && r.warnings === 0) return STATUS.success
  if (r.completed === 0 && r.warnings === 0) return STATUS.subOperationsImpossible
  return STATUS.someFailed
}
