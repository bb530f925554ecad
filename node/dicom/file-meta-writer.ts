/**
 * Builds the Part 10 preamble and file meta information (PS3.10 §7.1) for a dataset that
 * arrived without one (DIMSE C-STORE sends the dataset alone). What peerpacs stores is then a
 * Part 10 file whose dataset is, byte for byte, what the sender put on the wire.
 */
import { concatBytes } from '../../protocol/bytes.ts'

/** peerpacs' Implementation Class UID: a UUID-derived UID (PS3.5 §B.2), fixed for the product. */
export const IMPLEMENTATION_CLASS_UID = '2.25.254311098497420785930771339402127151203'
export const IMPLEMENTATION_VERSION_NAME = 'PEERPACS_01'

export interface FileMetaFields {
  readonly transferSyntaxUid: string
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  /** The AE title that sent the dataset, recorded as Source Application Entity Title (0002,0016). */
  readonly sourceAeTitle?: string
}

function element (element: number, vr: string, value: Uint8Array): Uint8Array {
  const long = vr === 'OB'
  const out = new Uint8Array((long ? 12 : 8) + value.length)
  const view = new DataView(out.buffer)
  view.setUint16(0, 0x0002, true)
  view.setUint16(2, element, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  if (long) view.setUint32(8, value.length, true)
  else view.setUint16(6, value.length, true)
  out.set(value, long ? 12 : 8)
  return out
}

/** Even-length value: UIDs pad with NUL, text with a space (PS3.5 §6.2). */
function padded (text: string, pad: number): Uint8Array {
  const bytes = new TextEncoder().encode(text)
  if (bytes.length % 2 === 0) return bytes
  const out = new Uint8Array(bytes.length + 1)
  out.set(bytes)
  out[bytes.length] = pad
  return out
}

export function buildFileMeta (fields: FileMetaFields): Uint8Array {
  const body = concatBytes(
    element(0x0001, 'OB', Uint8Array.of(0, 1)),
    element(0x0002, 'UI', padded(fields.sopClassUid, 0)),
    element(0x0003, 'UI', padded(fields.sopInstanceUid, 0)),
    element(0x0010, 'UI', padded(fields.transferSyntaxUid, 0)),
    element(0x0012, 'UI', padded(IMPLEMENTATION_CLASS_UID, 0)),
    element(0x0013, 'SH', padded(IMPLEMENTATION_VERSION_NAME, 0x20)),
    ...(fields.sourceAeTitle === undefined || fields.sourceAeTitle === '' ? [] : [element(0x0016, 'AE', padded(fields.sourceAeTitle, 0x20))])
  )
  const groupLength = new Uint8Array(4)
  new DataView(groupLength.buffer).setUint32(0, body.length, true)
  const preamble = new Uint8Array(132)
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128)
  return concatBytes(preamble, element(0x0000, 'UL', groupLength), body)
}
