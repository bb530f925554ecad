/**
 * C-FIND response identifiers written byte by byte in the accepted transfer syntax (implicit
 * VR little endian, explicit VR little or big endian), never through dcmjs's denaturalizer:
 * that one throws on a stored value that breaks its VR's rules (a DA of "1997.04.24", a PN
 * over 64 characters), silently truncates others, and its exception took the whole association
 * down. Here values go out as the catalogue holds them (PS3.4 C.2.2.1: the SCP returns what it
 * has); only a value that cannot be written at all is left out and named in `dropped`: a text
 * too long for a 2-byte explicit length, a US/SS/UL/SL that is not a number in its range.
 */
import { hasLongLength, isKnownVr } from '../dicom/vr.ts'
import { Dataset } from './library.ts'
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from './syntaxes.ts'

export interface IdentifierElement {
  readonly keyword: string
  readonly tag: number
  readonly vr: string
  /** 'sequence': an empty sequence; numbers of string VRs are written as text. */
  readonly value: string | number | readonly string[] | 'sequence'
}

const BINARY: Readonly<Record<string, { size: number, min: number, max: number }>> = {
  US: { size: 2, min: 0, max: 0xffff },
  SS: { size: 2, min: -0x8000, max: 0x7fff },
  UL: { size: 4, min: 0, max: 0xffffffff },
  SL: { size: 4, min: -0x80000000, max: 0x7fffffff }
}

/** dcmjs's dictionary names ambiguous VRs in lower case (xs: US or SS, ox: OB or OW...): the first reading is taken. */
export function plainVr (vr: string): string {
  const ambiguous: Record<string, string> = { xs: 'US', ox: 'OB', xw: 'OW', lt: 'US', up: 'UL' }
  const v = ambiguous[vr] ?? vr
  return isKnownVr(v) ? v : 'UN'
}

function binaryValue (vr: string, value: IdentifierElement['value'], bigEndian: boolean): Buffer | undefined {
  const spec = BINARY[vr]!
  const items = Array.isArray(value) ? value : value === '' ? [] : [value]
  const out = Buffer.alloc(items.length * spec.size)
  for (const [i, item] of items.entries()) {
    const n = typeof item === 'number' ? item : /^\s*[+-]?\d+\s*$/.test(String(item)) ? Number(item) : Number.NaN
    if (!Number.isInteger(n) || n < spec.min || n > spec.max) return undefined
    const at = i * spec.size
    if (spec.size === 2) {
      if (spec.min < 0) { if (bigEndian) out.writeInt16BE(n, at); else out.writeInt16LE(n, at) } else if (bigEndian) out.writeUInt16BE(n, at); else out.writeUInt16LE(n, at)
    } else if (spec.min < 0) { if (bigEndian) out.writeInt32BE(n, at); else out.writeInt32LE(n, at) } else if (bigEndian) out.writeUInt32BE(n, at); else out.writeUInt32LE(n, at)
  }
  return out
}

function textValue (vr: string, value: IdentifierElement['value']): Buffer {
  const text = Array.isArray(value) ? value.join('\\') : String(value)
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length % 2 === 0) return bytes
  return Buffer.concat([bytes, Buffer.of(vr === 'UI' ? 0x00 : 0x20)])
}

function header (tag: number, vr: string, length: number, syntax: string): Buffer {
  const big = syntax === EXPLICIT_BE
  const implicit = syntax === IMPLICIT_LE
  const long = implicit || hasLongLength(vr)
  const h = Buffer.alloc(implicit ? 8 : long ? 12 : 8)
  const group = tag >>> 16
  const element = tag & 0xffff
  if (big) { h.writeUInt16BE(group, 0); h.writeUInt16BE(element, 2) } else { h.writeUInt16LE(group, 0); h.writeUInt16LE(element, 2) }
  if (implicit) {
    h.writeUInt32LE(length, 4)
  } else {
    h.write(vr, 4, 'latin1')
    if (long) { if (big) h.writeUInt32BE(length, 8); else h.writeUInt32LE(length, 8) } else if (big) h.writeUInt16BE(length, 6); else h.writeUInt16LE(length, 6)
  }
  return h
}

/** The identifier's bytes, elements in tag order; what could not be written is named, not fatal. */
export function writeIdentifier (elements: readonly IdentifierElement[], syntax: string): { bytes: Buffer, dropped: string[] } {
  if (syntax !== IMPLICIT_LE && syntax !== EXPLICIT_LE && syntax !== EXPLICIT_BE) throw new RangeError(`identifiers are written in implicit or explicit VR uncompressed syntaxes, not ${syntax}`)
  const parts: Buffer[] = []
  const dropped: string[] = []
  const seen = new Set<number>()
  for (const e of [...elements].sort((a, b) => a.tag - b.tag)) {
    if (seen.has(e.tag)) continue
    seen.add(e.tag)
    const vr = plainVr(e.vr)
    if (e.value === 'sequence' || vr === 'SQ') {
      parts.push(header(e.tag, 'SQ', 0, syntax))
      continue
    }
    const value = vr in BINARY ? binaryValue(vr, e.value, syntax === EXPLICIT_BE) : textValue(vr, e.value)
    const limit = syntax === IMPLICIT_LE || hasLongLength(vr) ? 0xfffffffe : 0xfffe
    if (value === undefined || value.length > limit) {
      dropped.push(e.keyword)
      continue
    }
    parts.push(header(e.tag, vr, value.length, syntax), value)
  }
  return { bytes: Buffer.concat(parts), dropped }
}

/** A response identifier that dcmjs-dimse sends as the bytes written above (as raw-dataset.ts does for stored instances). */
export class IdentifierDataset extends Dataset {
  readonly bytes: Buffer
  readonly #syntax: string

  constructor (bytes: Buffer, syntax: string) {
    super({}, syntax)
    this.bytes = bytes
    this.#syntax = syntax
  }

  override getTransferSyntaxUid (): string { return this.#syntax }
  override getDenaturalizedDataset (): Buffer { return this.bytes }
  override toString (): string { return `IdentifierDataset [${this.bytes.length} bytes]` }
}
