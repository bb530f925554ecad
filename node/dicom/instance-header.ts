/**
 * The attributes of an instance that peerpacs catalogues (patient, study, series, instance),
 * read with dcmjs from the top-level elements that carry them (HEADER_TAGS), cut out of the
 * part of the file before Pixel Data by the structure walker. dcmjs never sees anything else:
 * private sequences nested in private sequences, undefined-length UN (CP-246) and other
 * structures it misreads cannot hide or garble an attribute. These carry PHI: they are only
 * ever stored encrypted.
 *
 * A dataset without SOP Class or SOP Instance UID takes the file meta's Media Storage SOP
 * Class/Instance UID (0002,0002/0003), as dcmtk's storescu does when it sends such a file.
 */
import dcmjs from 'dcmjs'
import { InvalidDicomError, NotAnInstanceError } from './errors.ts'
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, type DatasetEncoding } from './transfer-syntax.ts'
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

const SOP_CLASS = 0x00080016
const SOP_INSTANCE = 0x00080018
const REQUIRED: Array<[keyof InstanceHeader, number, string]> = [
  ['sopClassUid', SOP_CLASS, 'SOPClassUID'], ['sopInstanceUid', SOP_INSTANCE, 'SOPInstanceUID'],
  ['studyInstanceUid', 0x0020000d, 'StudyInstanceUID'], ['seriesInstanceUid', 0x0020000e, 'SeriesInstanceUID']
]
const OPTIONAL: Array<[keyof InstanceHeader, number, 'text' | 'int']> = [
  ['patientName', 0x00100010, 'text'], ['patientId', 0x00100020, 'text'], ['patientBirthDate', 0x00100030, 'text'],
  ['patientSex', 0x00100040, 'text'], ['studyDate', 0x00080020, 'text'], ['studyTime', 0x00080030, 'text'],
  ['studyDescription', 0x00081030, 'text'], ['accessionNumber', 0x00080050, 'text'],
  ['referringPhysicianName', 0x00080090, 'text'], ['studyId', 0x00200010, 'text'], ['modality', 0x00080060, 'text'],
  ['seriesNumber', 0x00200011, 'int'], ['seriesDescription', 0x0008103e, 'text'], ['bodyPartExamined', 0x00180015, 'text'],
  ['instanceNumber', 0x00200013, 'int'], ['numberOfFrames', 0x00280008, 'int'], ['rows', 0x00280010, 'int'], ['columns', 0x00280011, 'int']
]
/** Specific Character Set: how the text values are decoded. */
const CHARACTER_SET = 0x00080005

/** The top-level tags the header is read from; every other element is left out before dcmjs parses. */
export const HEADER_TAGS: ReadonlySet<number> = new Set([CHARACTER_SET, ...REQUIRED.map((r) => r[1]), ...OPTIONAL.map((o) => o[1])])

/** The file meta's Media Storage SOP Class and Instance UIDs, used when the dataset has none. */
export interface MetaUids {
  readonly sopClassUid?: string | undefined
  readonly sopInstanceUid?: string | undefined
}

const hex = (tag: number): string => tag.toString(16).toUpperCase().padStart(8, '0')

/** The plain syntax whose element layout a dataset has (deflated datasets arrive inflated, encapsulated ones without pixel data). */
function plainSyntax (encoding: DatasetEncoding): string {
  if (!encoding.explicitVr) return IMPLICIT_VR_LITTLE_ENDIAN
  return encoding.littleEndian ? EXPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_BIG_ENDIAN
}

/** A minimal Part 10 file around `elements`, for dcmjs, whose only entry point reads files. */
function wrap (elements: Uint8Array, encoding: DatasetEncoding): ArrayBuffer {
  const uid = new TextEncoder().encode(plainSyntax(encoding))
  const padded = uid.length + (uid.length % 2)
  const meta = 12 + 8 + padded
  const out = new Uint8Array(132 + meta + elements.length)
  const view = new DataView(out.buffer)
  out.set([0x44, 0x49, 0x43, 0x4d], 128)
  out.set([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00], 132) // (0002,0000) UL, length 4
  view.setUint32(140, 8 + padded, true)
  out.set([0x02, 0x00, 0x10, 0x00, 0x55, 0x49], 144) // (0002,0010) UI
  view.setUint16(150, padded, true)
  out.set(uid, 152)
  out.set(elements, 132 + meta)
  return out.buffer
}

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

/** dcmjs cleans UI values (drops every character but digits and dots: "1.2.3a4" becomes "1.2.34"); the bytes as written are in _rawValue, and only those may be judged. */
function rawValues (dict: Dict, tag: string): string[] {
  const raw = dict[tag]?._rawValue
  return (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map((v) => String(v).replace(/[\0 ]+$/, ''))
}

/** No value at all: the element is missing or empty. */
function absent (dict: Dict, tag: string): boolean {
  const values = rawValues(dict, tag)
  return values.length === 0 || (values.length === 1 && values[0] === '')
}

function where (name: string, tag: number): string {
  const h = hex(tag)
  return `${name} (${h.slice(0, 4)},${h.slice(4)})`
}

function checkedUid (value: string, name: string, tag: number, from = ''): string {
  if (!isValidUid(value)) throw new InvalidDicomError(`${where(name, tag)}${from} is not a valid UID (digits and dots, at most 64 characters)`)
  return value
}

function uid (dict: Dict, tag: string, name: string): string {
  const t = Number.parseInt(tag, 16)
  const values = rawValues(dict, tag)
  if (absent(dict, tag)) throw new InvalidDicomError(`missing ${where(name, t)}`)
  if (values.length > 1) throw new InvalidDicomError(`${where(name, t)} has ${values.length} values; it must have exactly one`)
  return checkedUid(values[0]!, name, t)
}

/**
 * Reads the header from `elements`: top-level elements (those of HEADER_TAGS, or any superset)
 * in `encoding`, one after another. `meta` supplies the SOP Class and Instance UIDs a dataset
 * lacks.
 */
export function readInstanceHeader (elements: Uint8Array, encoding: DatasetEncoding, transferSyntaxUid: string, meta: MetaUids = {}): InstanceHeader {
  let dict: Dict
  try {
    // The structure was already proven by DatasetWalker; ignoreErrors only stops dcmjs refusing
    // character sets it cannot decode, which must not stop a valid file from being stored.
    dict = dcmjs.data.DicomMessage.readFile(wrap(elements, encoding), { ignoreErrors: true }).dict
  } catch (cause) {
    throw new InvalidDicomError(`dataset could not be parsed: ${(cause as Error).message}`, { cause })
  }
  const fallback: Partial<Record<keyof InstanceHeader, string | undefined>> = { sopClassUid: meta.sopClassUid, sopInstanceUid: meta.sopInstanceUid }
  const header = { transferSyntaxUid } as InstanceHeader
  const target = header as unknown as Record<string, string | number>
  for (const [key, tag, name] of REQUIRED) {
    const from = fallback[key]
    target[key] = absent(dict, hex(tag)) && from !== undefined && from !== '' ? checkedUid(from, name, tag, ' in the file meta') : uid(dict, hex(tag), name)
  }
  if (header.sopClassUid === MEDIA_STORAGE_DIRECTORY) throw new NotAnInstanceError(DICOMDIR_REASON)
  for (const [key, tag, kind] of OPTIONAL) {
    const value = kind === 'text' ? text(dict, hex(tag)) : int(dict, hex(tag))
    if (value !== undefined) target[key] = value
  }
  return header
}
