/**
 * The attributes of an instance that peerpacs catalogues (patient, study, series, instance),
 * read with dcmjs from the part of the file before Pixel Data. These carry PHI: they are only
 * ever stored encrypted.
 */
import dcmjs from 'dcmjs'
import { InvalidDicomError, NotAnInstanceError } from './errors.ts'
import { isValidUid } from './uid.ts'

// dcmjs logs through loglevel to the console; file contents must never reach a log.
dcmjs.log.setLevel('silent')
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent')

export interface InstanceHeader {
  transferSyntaxUid: string
  sopClassUid: string
  sopInstanceUid: string
  studyInstanceUid: string
  seriesInstanceUid: string
  patientName?: string
  patientId?: string
  patientBirthDate?: string
  patientSex?: string
  studyDate?: string
  studyTime?: string
  studyDescription?: string
  accessionNumber?: string
  referringPhysicianName?: string
  studyId?: string
  modality?: string
  seriesNumber?: number
  seriesDescription?: string
  bodyPartExamined?: string
  instanceNumber?: number
  numberOfFrames?: number
  rows?: number
  columns?: number
}

export const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10'
export const DICOMDIR_REASON = 'a DICOMDIR (the index of a DICOM medium), not an instance; the instances it lists are imported from their own files'

type Dict = Record<string, { vr: string, Value?: unknown[], _rawValue?: unknown }>

function first (dict: Dict, tag: string): unknown {
  return dict[tag]?.Value?.[0]
}

function text (dict: Dict, tag: string): string | undefined {
  const v = first(dict, tag)
  if (v === undefined || v === null) return undefined
  if (typeof v === 'object' && 'Alphabetic' in v) return text({ x: { vr: 'PN', Value: [(v as { Alphabetic: unknown }).Alphabetic] } }, 'x')
  const s = String(v).replace(/[\0 ]+$/, '')
  return s === '' ? undefined : s
}

function int (dict: Dict, tag: string): number | undefined {
  const v = first(dict, tag)
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseInt(v, 10) : Number.NaN
  return Number.isSafeInteger(n) ? n : undefined
}

function uid (dict: Dict, tag: string, name: string): string {
  const where = `${name} (${tag.slice(0, 4)},${tag.slice(4)})`
  // dcmjs cleans UI values (drops every character but digits and dots: "1.2.3a4" becomes
  // "1.2.34"); the bytes as written are in _rawValue, and only those may be judged.
  const raw = dict[tag]?._rawValue
  const values = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map((v) => String(v).replace(/[\0 ]+$/, ''))
  if (values.length === 0 || (values.length === 1 && values[0] === '')) throw new InvalidDicomError(`missing ${where}`)
  if (values.length > 1) throw new InvalidDicomError(`${where} has ${values.length} values; it must have exactly one`)
  if (!isValidUid(values[0])) throw new InvalidDicomError(`${where} is not a valid UID (digits and dots, at most 64 characters)`)
  return values[0]!
}

/** Parses `bytes` (a whole Part 10 file, or its prefix up to Pixel Data) and extracts the header. */
export function readInstanceHeader (bytes: Uint8Array, transferSyntaxUid: string): InstanceHeader {
  let dict: Dict
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    // The structure was already proven by DatasetWalker; ignoreErrors only stops dcmjs refusing
    // character sets it cannot decode, which must not stop a valid file from being stored.
    dict = dcmjs.data.DicomMessage.readFile(buffer, { ignoreErrors: true }).dict
  } catch (cause) {
    throw new InvalidDicomError(`dataset could not be parsed: ${(cause as Error).message}`, { cause })
  }
  const sopClassUid = uid(dict, '00080016', 'SOPClassUID')
  if (sopClassUid === MEDIA_STORAGE_DIRECTORY) throw new NotAnInstanceError(DICOMDIR_REASON)
  const header: InstanceHeader = {
    transferSyntaxUid,
    sopClassUid,
    sopInstanceUid: uid(dict, '00080018', 'SOPInstanceUID'),
    studyInstanceUid: uid(dict, '0020000D', 'StudyInstanceUID'),
    seriesInstanceUid: uid(dict, '0020000E', 'SeriesInstanceUID')
  }
  const optional: Array<[keyof InstanceHeader, string, 'text' | 'int']> = [
    ['patientName', '00100010', 'text'], ['patientId', '00100020', 'text'], ['patientBirthDate', '00100030', 'text'],
    ['patientSex', '00100040', 'text'], ['studyDate', '00080020', 'text'], ['studyTime', '00080030', 'text'],
    ['studyDescription', '00081030', 'text'], ['accessionNumber', '00080050', 'text'],
    ['referringPhysicianName', '00080090', 'text'], ['studyId', '00200010', 'text'], ['modality', '00080060', 'text'],
    ['seriesNumber', '00200011', 'int'], ['seriesDescription', '0008103E', 'text'], ['bodyPartExamined', '00180015', 'text'],
    ['instanceNumber', '00200013', 'int'], ['numberOfFrames', '00280008', 'int'], ['rows', '00280010', 'int'], ['columns', '00280011', 'int']
  ]
  const target = header as unknown as Record<string, string | number>
  for (const [key, tag, kind] of optional) {
    const value = kind === 'text' ? text(dict, tag) : int(dict, tag)
    if (value !== undefined) target[key] = value
  }
  return header
}
