/**
 * The worklist's query, without the page: read from and written to the address
 * (#/?name=…&id=…&from=…&to=…&offset=…), and turned into the QIDO-RS request — names and IDs
 * match anywhere (wildcards, names regardless of case at the node), dates as a range, one row
 * more than a page asked for so the page knows whether a next one exists.
 */
import { dicomDate, TAG } from './dicom-json.ts'

export const PAGE_SIZE = 25

export interface WorklistQuery {
  readonly name: string
  readonly id: string
  readonly from: string
  readonly to: string
  readonly offset: number
}

export function queryFrom (params: URLSearchParams): WorklistQuery {
  const offset = Number(params.get('offset') ?? 0)
  return { name: params.get('name') ?? '', id: params.get('id') ?? '', from: params.get('from') ?? '', to: params.get('to') ?? '', offset: Number.isInteger(offset) && offset > 0 ? offset : 0 }
}

export function hashOf (q: WorklistQuery): string {
  const p = new URLSearchParams()
  for (const key of ['name', 'id', 'from', 'to'] as const) if (q[key] !== '') p.set(key, q[key])
  if (q.offset > 0) p.set('offset', String(q.offset))
  const s = p.toString()
  return s === '' ? '#/' : `#/?${s}`
}

/** The QIDO-RS query for a worklist query: names and IDs match anywhere (wildcards), dates as a range. */
export function qidoOf (q: WorklistQuery): string {
  const p = new URLSearchParams()
  // A backslash would make a DICOM list of values: typed text is one value.
  const words = q.name.replaceAll('\\', ' ').trim().split(/[\s,^]+/).filter((w) => w !== '')
  if (words.length > 0) p.set('PatientName', `*${words.join('*')}*`)
  const id = q.id.replaceAll('\\', '').trim()
  if (id !== '') p.set('PatientID', `*${id}*`)
  // One day, a range, or open at one end ("from" alone: since; "to" alone: until).
  if (q.from !== '' || q.to !== '') p.set('StudyDate', q.from === q.to ? dicomDate(q.from) : `${dicomDate(q.from)}-${dicomDate(q.to)}`)
  p.append('includefield', TAG.StudyDescription)
  p.append('includefield', TAG.ModalitiesInStudy)
  p.append('includefield', TAG.NumberOfStudyRelatedSeries)
  p.append('includefield', TAG.NumberOfStudyRelatedInstances)
  p.set('limit', String(PAGE_SIZE + 1))
  p.set('offset', String(q.offset))
  return `/dicomweb/studies?${p.toString()}`
}
