/**
 * Building DICOM inputs for the dicom/ tests: small valid instances through the synthetic
 * writer (test/synthetic/part10-writer.ts), and raw element bytes for the malformed ones the
 * writer refuses to produce (unknown VRs, stray delimiters, impossible lengths).
 */
import { deflateRawSync } from 'node:zlib'
import { writePart10, TRANSFER_SYNTAX, type DicomElement } from '../../../synthetic/part10-writer.ts'

export const TS = TRANSFER_SYNTAX
export const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2'
export const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10'

export const UIDS = {
  sopInstance: '1.2.826.0.1.3680043.10.1.1',
  study: '1.2.826.0.1.3680043.10.1.2',
  series: '1.2.826.0.1.3680043.10.1.3'
} as const

export const PATIENT = 'ZZUNIT^TEST'

export const e = (tag: number, vr: string, value: DicomElement['value']): DicomElement => ({ tag, vr, value })

/** The attributes every stored instance needs, plus a patient and a modality. */
export function requiredElements (): DicomElement[] {
  return [
    e(0x0008_0016, 'UI', CT_IMAGE),
    e(0x0008_0018, 'UI', UIDS.sopInstance),
    e(0x0008_0060, 'CS', 'CT'),
    e(0x0010_0010, 'PN', PATIENT),
    e(0x0010_0020, 'LO', 'PPX-UNIT-1'),
    e(0x0020_000d, 'UI', UIDS.study),
    e(0x0020_000e, 'UI', UIDS.series)
  ]
}

/** A 4×4 16-bit image: the attributes and its native pixel data. */
export function smallImage (): DicomElement[] {
  return [
    e(0x0028_0002, 'US', [1]), e(0x0028_0004, 'CS', 'MONOCHROME2'),
    e(0x0028_0010, 'US', [4]), e(0x0028_0011, 'US', [4]),
    e(0x0028_0100, 'US', [16]), e(0x0028_0101, 'US', [16]), e(0x0028_0102, 'US', [15]), e(0x0028_0103, 'US', [0]),
    e(0x7fe0_0010, 'OW', new Uint8Array(32).map((_, i) => i * 7))
  ]
}

/** Two sequences: one of defined length, one of undefined length with two items, one nested. */
export function sequences (): DicomElement[] {
  return [
    e(0x0008_1140, 'SQ', [[e(0x0008_1150, 'UI', CT_IMAGE), e(0x0008_1155, 'UI', '1.2.3.4')]]),
    {
      ...e(0x0008_1032, 'SQ', [
        [e(0x0008_0100, 'SH', 'CODE1'), e(0x0008_0102, 'SH', '99TEST')],
        [e(0x0008_0100, 'SH', 'CODE2'), { ...e(0x0040_a730, 'SQ', [[e(0x0040_a010, 'CS', 'CONTAINS')]]), undefinedLength: true }]
      ]),
      undefinedLength: true
    }
  ]
}

export interface BuildOptions {
  transferSyntaxUid?: string
  sopClassUid?: string
  sopInstanceUid?: string
  elements?: DicomElement[]
}

export function build (options: BuildOptions = {}): Uint8Array {
  return writePart10({
    sopClassUid: options.sopClassUid ?? CT_IMAGE,
    sopInstanceUid: options.sopInstanceUid ?? UIDS.sopInstance,
    transferSyntaxUid: options.transferSyntaxUid ?? TS.explicitVrLittleEndian,
    elements: options.elements ?? [...requiredElements(), ...smallImage()]
  })
}

/** Byte offset where the dataset starts (the writer always writes a group length). */
export function metaEnd (file: Uint8Array): number {
  return 132 + 12 + new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(140, true)
}

export function concat (...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/** The file's preamble and meta with another dataset after it. */
export function withDataset (file: Uint8Array, dataset: Uint8Array): Uint8Array {
  return concat(file.subarray(0, metaEnd(file)), dataset)
}

/** A file of the given syntax whose dataset is exactly `dataset` (raw bytes, deflated for the deflated syntax if `deflate`). */
export function fileWithDataset (transferSyntaxUid: string, dataset: Uint8Array, deflate = false): Uint8Array {
  const shell = writePart10({ sopClassUid: CT_IMAGE, sopInstanceUid: UIDS.sopInstance, transferSyntaxUid, elements: [] })
  return withDataset(shell, deflate ? deflateRawSync(dataset) : dataset)
}

export interface RawEncoding { explicit: boolean, little: boolean }
export const RAW_EXPLICIT_LE: RawEncoding = { explicit: true, little: true }
export const RAW_IMPLICIT_LE: RawEncoding = { explicit: false, little: true }
export const RAW_EXPLICIT_BE: RawEncoding = { explicit: true, little: false }

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
export const UNDEFINED_LENGTH = 0xffffffff

function tagBytes (tag: number, little: boolean): Uint8Array {
  const b = new Uint8Array(4)
  const v = new DataView(b.buffer)
  v.setUint16(0, tag >>> 16, little)
  v.setUint16(2, tag & 0xffff, little)
  return b
}

/** An element header with any VR (even an invalid one) and any length. */
export function rawHeader (tag: number, vr: string, length: number, enc: RawEncoding = RAW_EXPLICIT_LE): Uint8Array {
  const out = new Uint8Array(!enc.explicit ? 8 : LONG.has(vr) ? 12 : 8)
  out.set(tagBytes(tag, enc.little))
  const v = new DataView(out.buffer)
  if (!enc.explicit) {
    v.setUint32(4, length, enc.little)
  } else {
    out[4] = vr.charCodeAt(0)
    out[5] = vr.charCodeAt(1)
    if (LONG.has(vr)) v.setUint32(8, length, enc.little)
    else v.setUint16(6, length, enc.little)
  }
  return out
}

/** A whole element: header and value (text values are padded to even length). */
export function rawElement (tag: number, vr: string, value: Uint8Array | string, enc: RawEncoding = RAW_EXPLICIT_LE): Uint8Array {
  let bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value
  if (bytes.length % 2 === 1) bytes = concat(bytes, new Uint8Array([vr === 'UI' ? 0 : 0x20]))
  return concat(rawHeader(tag, vr, bytes.length, enc), bytes)
}

/** An item, item delimiter, sequence delimiter or any other (FFFE,xxxx) header. */
export function rawDelimiter (tag: number, length: number, little = true): Uint8Array {
  const out = new Uint8Array(8)
  out.set(tagBytes(tag, little))
  new DataView(out.buffer).setUint32(4, length, little)
  return out
}

export const ITEM = 0xfffe_e000
export const ITEM_DELIMITER = 0xfffe_e00d
export const SEQUENCE_DELIMITER = 0xfffe_e0dd

/** The required attributes as raw bytes, in tag order, in `enc`. */
export function rawRequired (enc: RawEncoding = RAW_EXPLICIT_LE, uids: { sopClass?: string, sopInstance?: string, study?: string, series?: string } = {}): Uint8Array {
  return concat(
    rawElement(0x0008_0016, 'UI', uids.sopClass ?? CT_IMAGE, enc),
    rawElement(0x0008_0018, 'UI', uids.sopInstance ?? UIDS.sopInstance, enc),
    rawElement(0x0010_0010, 'PN', PATIENT, enc),
    rawElement(0x0020_000d, 'UI', uids.study ?? UIDS.study, enc),
    rawElement(0x0020_000e, 'UI', uids.series ?? UIDS.series, enc)
  )
}

/** `depth` sequences nested inside one another, each of undefined length with one undefined-length item. */
export function nestedSequences (depth: number, enc: RawEncoding = RAW_EXPLICIT_LE): Uint8Array {
  const open: Uint8Array[] = []
  const close: Uint8Array[] = []
  for (let i = 0; i < depth; i++) {
    open.push(rawHeader(0x0040_a730, 'SQ', UNDEFINED_LENGTH, enc), rawDelimiter(ITEM, UNDEFINED_LENGTH, enc.little))
    close.unshift(rawDelimiter(ITEM_DELIMITER, 0, enc.little), rawDelimiter(SEQUENCE_DELIMITER, 0, enc.little))
  }
  return concat(...open, rawElement(0x0040_a010, 'CS', 'LEAF', enc), ...close)
}

/** Index of the first occurrence of `needle` in `haystack` at or after `from`, or -1. */
export function indexOf (haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle, from)
}

/** Offset of the element with `tag` (little endian tag bytes) in the dataset, searching from the dataset's start. */
export function findTag (file: Uint8Array, tag: number, little = true): number {
  const at = indexOf(file, tagBytes(tag, little), metaEnd(file))
  if (at < 0) throw new Error(`tag ${tag.toString(16)} not in file`)
  return at
}
