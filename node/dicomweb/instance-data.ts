/**
 * One stored instance opened whole with dcmjs, for the WADO-RS resources that look inside it
 * (metadata, frames, rendered, bulk data). The bytes are read verified (a damaged copy throws
 * before it is parsed); one instance is held at a time. Frames are cut here: native Pixel Data by
 * offset (big-endian words swapped to the little-endian that octet-stream frames mean),
 * encapsulated Pixel Data as dcmjs groups its fragments per frame.
 */
import dcmjs from 'dcmjs'
import type { CatalogInstance } from '../query/attributes.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.ts'
import { badRequest, notAcceptable, notFound, unreadable } from './http-errors.ts'

export interface Element { vr: string, Value?: unknown[], _rawValue?: unknown, BulkDataURI?: string, InlineBinary?: string }
export type Dataset = Record<string, Element>

export const NATIVE_SYNTAXES = new Set([IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN])

/** Media types of encapsulated frames by transfer syntax (PS3.18 Table 8.7.3-2). */
export const FRAME_MEDIA_TYPES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.5': 'image/dicom-rle',
  '1.2.840.10008.1.2.4.50': 'image/jpeg',
  '1.2.840.10008.1.2.4.51': 'image/jpeg',
  '1.2.840.10008.1.2.4.57': 'image/jpeg',
  '1.2.840.10008.1.2.4.70': 'image/jpeg',
  '1.2.840.10008.1.2.4.80': 'image/jls',
  '1.2.840.10008.1.2.4.81': 'image/jls',
  '1.2.840.10008.1.2.4.90': 'image/jp2',
  '1.2.840.10008.1.2.4.91': 'image/jp2',
  '1.2.840.10008.1.2.4.92': 'image/jpx',
  '1.2.840.10008.1.2.4.93': 'image/jpx',
  '1.2.840.10008.1.2.4.201': 'image/jphc',
  '1.2.840.10008.1.2.4.202': 'image/jphc',
  '1.2.840.10008.1.2.4.203': 'image/jphc'
}

export interface OpenedInstance {
  readonly instance: CatalogInstance
  readonly transferSyntaxUid: string
  readonly dataset: Dataset
}

export async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts)
}

export async function openInstance (pacs: Pacs, instance: CatalogInstance): Promise<OpenedInstance> {
  const bytes = await collect(pacs.read(instance))
  // A large instance is its own ArrayBuffer (Buffer.concat does not pool it): no second copy.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  const buffer = (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer
  let parsed
  try {
    parsed = dcmjs.data.DicomMessage.readFile(buffer, { ignoreErrors: true })
  } catch {
    throw unreadable('the stored instance could not be parsed for this resource; it can still be retrieved whole')
  }
  const ts = String(parsed.meta['00020010']?.Value?.[0] ?? instance.transferSyntaxUid)
  return { instance, transferSyntaxUid: ts, dataset: parsed.dict as Dataset }
}

export function num (ds: Dataset, tag: string): number | undefined {
  const v = ds[tag]?.Value?.[0]
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN
  return Number.isFinite(n) ? n : undefined
}

export function nums (ds: Dataset, tag: string): number[] {
  return (ds[tag]?.Value ?? []).map((v) => Number(v)).filter((n) => Number.isFinite(n))
}

export function str (ds: Dataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0]
  return v === undefined || v === null ? undefined : String(v).trim()
}

export interface PixelLayout {
  readonly rows: number
  readonly columns: number
  readonly samples: number
  readonly bitsAllocated: number
  readonly frames: number
  readonly frameBytes: number
}

export function pixelLayout (ds: Dataset): PixelLayout {
  const rows = num(ds, '00280010') ?? 0
  const columns = num(ds, '00280011') ?? 0
  const samples = num(ds, '00280002') ?? 1
  const bitsAllocated = num(ds, '00280100') ?? 0
  const frames = Math.max(1, num(ds, '00280008') ?? 1)
  return { rows, columns, samples, bitsAllocated, frames, frameBytes: Math.ceil(rows * columns * samples * bitsAllocated / 8) }
}

function toBytes (value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  return new Uint8Array(0)
}

/** The most frames one WADO-RS request may name (PS3.18 sets no limit; larger sets take several requests). */
export const MAX_FRAMES = 1000

/**
 * Frame numbers from a path ("1,3,5"): 1-based, within range, each named once and at most
 * MAX_FRAMES of them, or a 400/404 that says which rule was broken. A repeated number is refused
 * rather than answered once, so a client never gets fewer parts than it counted on.
 */
export function frameList (text: string, frames: number): number[] {
  if (!/^\d{1,9}(,\d{1,9})*$/.test(text)) throw badRequest('the frame list must be 1-based frame numbers separated by commas')
  const list = text.split(',').map(Number)
  if (list.length > MAX_FRAMES) throw badRequest(`the frame list names ${list.length} frames; peerpacs sends at most ${MAX_FRAMES} per request: ask for the rest in further requests`)
  const seen = new Set<number>()
  for (const n of list) {
    if (n < 1) throw badRequest('frame numbers start at 1')
    if (seen.has(n)) throw badRequest(`frame ${n} is named more than once in the frame list; name each frame once`)
    seen.add(n)
    if (n > frames) throw notFound(`frame ${n} does not exist: the instance has ${frames} frame(s)`)
  }
  return list
}

export interface Frame { readonly bytes: Uint8Array, readonly mediaType: string, readonly transferSyntaxUid: string }

/**
 * Frame `n` (1-based) as WADO-RS sends it: native frames in explicit VR little endian
 * (application/octet-stream), encapsulated ones as stored, with their transfer syntax's type.
 */
export function frameOf (opened: OpenedInstance, n: number): Frame {
  const { dataset, transferSyntaxUid } = opened
  const pixels = dataset['7FE00010']?.Value
  if (pixels === undefined || pixels.length === 0) throw notFound('the instance has no Pixel Data, so no frames')
  const layout = pixelLayout(dataset)
  if (NATIVE_SYNTAXES.has(transferSyntaxUid)) {
    const all = toBytes(pixels[0])
    if (layout.bitsAllocated % 8 !== 0) throw notAcceptable(`frames of ${layout.bitsAllocated}-bit packed pixel data are not supported; retrieve the instance`)
    const start = (n - 1) * layout.frameBytes
    if (layout.frameBytes === 0 || start + layout.frameBytes > all.length) throw unreadable('the stored Pixel Data is shorter than its rows, columns and frames say')
    let bytes: Uint8Array = all.slice(start, start + layout.frameBytes)
    if (transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN && layout.bitsAllocated > 8) bytes = swapped(bytes, layout.bitsAllocated / 8)
    return { bytes, mediaType: 'application/octet-stream', transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN }
  }
  const mediaType = FRAME_MEDIA_TYPES[transferSyntaxUid] ?? 'application/octet-stream'
  // dcmjs gives one buffer per frame when it can tell frames apart (offset table or one fragment each).
  if (pixels.length === layout.frames) return { bytes: toBytes(pixels[n - 1]), mediaType, transferSyntaxUid }
  if (layout.frames === 1) return { bytes: Buffer.concat(pixels.map(toBytes)), mediaType, transferSyntaxUid }
  throw notAcceptable('the fragments of this instance\'s compressed Pixel Data cannot be assigned to frames (no offset table); retrieve the instance')
}

function swapped (bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i + width <= bytes.length; i += width) for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j]!
  return out
}
