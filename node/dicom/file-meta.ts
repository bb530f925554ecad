/**
 * The start of a DICOM Part 10 file (PS3.10 §7.1): the 128-byte preamble, "DICM", and the file
 * meta information (group 0002, always explicit VR little endian). It is small, so it is parsed
 * from a prefix held in memory; the dataset after it is walked as a stream (dataset-walker.ts).
 */
import { InvalidDicomError, NotDicomError, tagString } from './errors.ts'
import { hasLongLength, isKnownVr, printable, readVr } from './vr.ts'

export interface FileMeta {
  /** Byte offset where the dataset begins. */
  readonly metaEnd: number
  readonly transferSyntaxUid: string
  readonly mediaStorageSopClassUid: string | undefined
  readonly mediaStorageSopInstanceUid: string | undefined
}

const PREAMBLE = 128
const MAGIC = [0x44, 0x49, 0x43, 0x4d] // "DICM"
const MAX_META_BYTES = 1 << 20
const MAX_META_VALUE = 1 << 16

export function uidValue (bytes: Uint8Array): string {
  // UIDs are padded to even length with a NUL; some writers use a space.
  return new TextDecoder('latin1').decode(bytes).replace(/[\0 ]+$/, '')
}

/**
 * Parses the file meta from `prefix`, the first bytes of a file of `fileSize` bytes. Returns
 * undefined when the prefix is too short to finish; throws NotDicomError or InvalidDicomError.
 */
export function parseFileMeta (prefix: Uint8Array, fileSize: number): FileMeta | undefined {
  if (fileSize < PREAMBLE + 4) throw new NotDicomError(`file of ${fileSize} bytes is too short to be DICOM Part 10`)
  if (prefix.length < PREAMBLE + 4) return undefined
  if (!MAGIC.every((b, i) => prefix[PREAMBLE + i] === b)) {
    throw new NotDicomError('not a DICOM Part 10 file: no "DICM" marker at byte 128 (preamble missing or broken)')
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength)
  let offset = PREAMBLE + 4
  let groupEnd: number | undefined
  let transferSyntaxUid: string | undefined
  let sopClass: string | undefined
  let sopInstance: string | undefined
  let first = true

  for (;;) {
    if (groupEnd !== undefined && offset === groupEnd) break
    if (groupEnd !== undefined && offset > groupEnd) {
      throw new InvalidDicomError(`file meta group length (0002,0000) ends the group at byte ${groupEnd}, inside the element that ends at byte ${offset}`)
    }
    if (offset === fileSize) break
    if (offset - PREAMBLE > MAX_META_BYTES) throw new InvalidDicomError(`file meta information is longer than ${MAX_META_BYTES} bytes`)
    if (offset + 8 > fileSize) throw new InvalidDicomError(`file ends at byte ${fileSize} inside the file meta information`)
    if (offset + 8 > prefix.length) return undefined
    const group = view.getUint16(offset, true)
    const tag = (group << 16 | view.getUint16(offset + 2, true)) >>> 0
    if (group !== 0x0002) {
      if (first) throw new InvalidDicomError(`no file meta information after the DICM marker: found ${tagString(tag)} at byte ${offset}`)
      if (groupEnd !== undefined) throw new InvalidDicomError(`file meta group length (0002,0000) runs past the group: ${tagString(tag)} at byte ${offset}`)
      break
    }
    first = false
    const vr = readVr(prefix, offset + 4)
    if (!isKnownVr(vr)) throw new InvalidDicomError(`file meta element ${tagString(tag)} at byte ${offset} has an invalid VR "${printable(vr)}"`)
    let header = 8
    let length: number
    if (hasLongLength(vr)) {
      if (offset + 12 > prefix.length) return offset + 12 > fileSize ? truncated(fileSize) : undefined
      length = view.getUint32(offset + 8, true)
      header = 12
    } else {
      length = view.getUint16(offset + 6, true)
    }
    if (length > MAX_META_VALUE) throw new InvalidDicomError(`file meta element ${tagString(tag)} claims ${length} bytes, more than file meta information allows`)
    const valueStart = offset + header
    const valueEnd = valueStart + length
    if (valueEnd > fileSize) throw new InvalidDicomError(`file meta element ${tagString(tag)} at byte ${offset} claims ${length} bytes but the file ends at byte ${fileSize}`)
    if (valueEnd > prefix.length) return undefined
    const value = prefix.subarray(valueStart, valueEnd)
    if (tag === 0x00020000) {
      if (vr !== 'UL' || length !== 4) throw new InvalidDicomError('file meta group length (0002,0000) is not a 4-byte UL')
      groupEnd = valueEnd + view.getUint32(valueStart, true)
      if (groupEnd > fileSize) throw new InvalidDicomError(`file meta group length (0002,0000) reaches byte ${groupEnd}, past the end of the file (${fileSize} bytes)`)
    } else if (tag === 0x00020010) {
      transferSyntaxUid = uidValue(value)
    } else if (tag === 0x00020002) {
      sopClass = uidValue(value)
    } else if (tag === 0x00020003) {
      sopInstance = uidValue(value)
    }
    offset = valueEnd
  }
  if (transferSyntaxUid === undefined || transferSyntaxUid === '') {
    throw new InvalidDicomError('file meta information has no Transfer Syntax UID (0002,0010)')
  }
  return { metaEnd: offset, transferSyntaxUid, mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: sopInstance }
}

function truncated (fileSize: number): never {
  throw new InvalidDicomError(`file ends at byte ${fileSize} inside the file meta information`)
}
