/**
 * Whether two Part 10 copies of one instance hold the same content although their bytes differ:
 * the same dataset re-encoded, as a sender does when it converts the transfer syntax (implicit to
 * explicit VR, big to little endian, deflated to plain) or rewrites sequences and items with
 * defined instead of undefined lengths (dcmtk's storescu does both). Each copy is read with
 * dcmjs, which decodes every value into the same form whatever its encoding (but for words of
 * other-byte VRs, turned little endian here), and the two are compared element by element: every tag, every value, every byte of pixel data. Group lengths
 * (gggg,0000) and trailing padding are left out: they describe the encoding, not the content.
 * Encapsulated (compressed) pixel data is compared fragment by fragment, so a copy in another
 * compressed syntax, or decompressed, is other content. Anything that does not parse is not
 * the same.
 */
import dcmjs, { type DicomElementJson } from 'dcmjs'

// dcmjs logs through loglevel to the console; file contents must never reach a log.
dcmjs.log.setLevel('silent')
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent')

/** Keys of elements that carry the encoding rather than the content. */
function isEncodingOnly (tag: string): boolean {
  return tag.endsWith('0000') || tag === 'FFFCFFFC'
}

function bytesOf (value: unknown): Uint8Array | undefined {
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  return undefined
}

function sameValue (a: unknown, b: unknown): boolean {
  const x = bytesOf(a)
  const y = bytesOf(b)
  if (x !== undefined || y !== undefined) {
    if (x === undefined || y === undefined || x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
    return true
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((v, i) => sameValue(v, b[i]))
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    if (isDataset(a) && isDataset(b)) return sameDataset(a, b)
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    return sameValue(ka, kb) && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}

/** A sequence item: a record of tags to elements. */
function isDataset (value: object): value is Record<string, DicomElementJson> {
  return Object.keys(value).every((k) => /^[0-9A-F]{8}$/.test(k))
}

/**
 * VRs one copy may carry where the other has another, the value deciding: an unknown private
 * element is UN in one copy and its real VR in the other; Pixel Data is OB in explicit VR and OW
 * in implicit VR (PS3.5 A.1: the implicit VR dictionary has only OW), the same bytes either way.
 */
function interchangeable (a: string, b: string): boolean {
  return a === 'UN' || b === 'UN' || ((a === 'OB' || a === 'OW') && (b === 'OB' || b === 'OW'))
}

function sameDataset (a: Record<string, DicomElementJson>, b: Record<string, DicomElementJson>): boolean {
  const ka = Object.keys(a).filter((k) => !isEncodingOnly(k)).sort()
  const kb = Object.keys(b).filter((k) => !isEncodingOnly(k)).sort()
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false
  for (const k of ka) {
    const x = a[k]!
    const y = b[k]!
    if (x.vr !== y.vr && !interchangeable(x.vr, y.vr)) return false
    if (!sameValue(x.Value ?? [], y.Value ?? [])) return false
  }
  return true
}

const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2'
/** VRs whose values dcmjs leaves as raw bytes in the file's byte order: their word size. */
const WORD_SIZE: Readonly<Record<string, number>> = { OW: 2, OL: 4, OF: 4, OD: 8, OV: 8 }

function swapped (value: unknown, size: number): unknown {
  const bytes = bytesOf(value)
  if (bytes === undefined || bytes.length % size !== 0) return value
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!
  return out
}

/** Big endian words (pixel data, OW/OL/OF/OD/OV values) turned little endian, nested items too. */
function littleEndian (dataset: Record<string, DicomElementJson>): Record<string, DicomElementJson> {
  const out: Record<string, DicomElementJson> = {}
  for (const [tag, element] of Object.entries(dataset)) {
    const size = WORD_SIZE[element.vr]
    const value = element.Value
    out[tag] = size !== undefined && value !== undefined
      ? { ...element, Value: value.map((v) => swapped(v, size)) }
      : element.vr === 'SQ' && value !== undefined
        ? { ...element, Value: value.map((item) => littleEndian(item as Record<string, DicomElementJson>)) }
        : element
  }
  return out
}

function datasetOf (file: Uint8Array): Record<string, DicomElementJson> | undefined {
  try {
    const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer
    const { meta, dict } = dcmjs.data.DicomMessage.readFile(buffer, { ignoreErrors: false })
    return meta['00020010']?.Value?.[0] === EXPLICIT_VR_BIG_ENDIAN ? littleEndian(dict) : dict
  } catch {
    return undefined
  }
}

/** Whether the datasets of two Part 10 files are the same content (their file meta aside). */
export function sameInstanceContent (a: Uint8Array, b: Uint8Array): boolean {
  const x = datasetOf(a)
  const y = datasetOf(b)
  return x !== undefined && y !== undefined && sameDataset(x, y)
}
