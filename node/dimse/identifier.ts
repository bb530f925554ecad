/**
 * C-FIND response identifiers written byte by byte in the accepted transfer syntax (implicit
 * VR little endian, explicit VR little or big endian), never through dcmjs's denaturalizer:
 * that one throws on a stored value that breaks its VR's rules (a DA of "1997.04.24", a PN
 * over 64 characters), silently truncates others, and its exception took the whole association
 * down. Here values go out as the catalogue holds them (PS3.4 C.2.2.1: the SCP returns what it
 * has); only a value that cannot be written at all is left out and named in `dropped`: a text
 * too long for a 2-byte explicit length, a US/SS/UL/SL that is not a number in its range.
 * One IdentifierWriter serves a whole answer: the columns' headers are laid out once, and each
 * identifier is written into one buffer (find-answer.ts then frames and sends them).
 */
import { hasLongLength, isKnownVr } from '../dicom/vr.ts'
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from './syntaxes.ts'

export interface IdentifierElement {
  readonly keyword: string
  readonly tag: number
  readonly vr: string
  /** An SQ is written as an empty sequence whatever its value ('sequence' by convention); numbers of string VRs are written as text. */
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

function textOf (value: IdentifierElement['value']): string {
  return Array.isArray(value) ? value.join('\\') : String(value)
}

/** What stays the same for a column in every row: its element header but the length, and its limits. */
interface Column {
  readonly keyword: string
  readonly tag: number
  readonly vr: string
  /** Index of its value in a row. */
  readonly from: number
  /** The header's bytes before the length field (tag, VR and reserved bytes as the syntax has them). */
  readonly head: Buffer
  /** 2 or 4: the length field. */
  readonly lengthSize: number
  readonly limit: number
  readonly pad: number
}

function columnOf (keyword: string, tag: number, vr: string, from: number, syntax: string): Column {
  const big = syntax === EXPLICIT_BE
  const implicit = syntax === IMPLICIT_LE
  const long = implicit || hasLongLength(vr)
  const head = Buffer.alloc(implicit ? 4 : long ? 8 : 6)
  if (big) { head.writeUInt16BE(tag >>> 16, 0); head.writeUInt16BE(tag & 0xffff, 2) } else { head.writeUInt16LE(tag >>> 16, 0); head.writeUInt16LE(tag & 0xffff, 2) }
  if (!implicit) head.write(vr, 4, 'latin1')
  return { keyword, tag, vr, from, head, lengthSize: long ? 4 : 2, limit: long ? 0xfffffffe : 0xfffe, pad: vr === 'UI' ? 0x00 : 0x20 }
}

/** What could not be written at all; the element is left out. */
const UNWRITABLE = -1

/** What one identifier is about to carry: per column, its value's bytes or text and their size. */
interface Pending { bytes: Buffer | undefined, text: string, size: number }

/** What one column of an answer is: the same for every row. */
export type IdentifierColumn = Pick<IdentifierElement, 'keyword' | 'tag' | 'vr'>

/** A row's value for a column; undefined leaves the element out of that row's identifier. */
export type IdentifierValue = IdentifierElement['value'] | undefined

function checkSyntax (syntax: string): void {
  if (syntax !== IMPLICIT_LE && syntax !== EXPLICIT_LE && syntax !== EXPLICIT_BE) throw new RangeError(`identifiers are written in implicit or explicit VR uncompressed syntaxes, not ${syntax}`)
}

/**
 * Writes the identifiers of one answer: the columns are put in tag order (the first of a repeated
 * tag wins) and their headers laid out once; `write` then sizes each row's values and writes the
 * identifier into one buffer.
 */
export class IdentifierWriter {
  readonly #big: boolean
  readonly #columns: readonly Column[]
  readonly #pending: Pending[]

  constructor (columns: readonly IdentifierColumn[], syntax: string) {
    checkSyntax(syntax)
    this.#big = syntax === EXPLICIT_BE
    const seen = new Set<number>()
    this.#columns = columns.map((c, from) => ({ c, from })).sort((a, b) => a.c.tag - b.c.tag).flatMap(({ c, from }) => {
      if (seen.has(c.tag)) return []
      seen.add(c.tag)
      return [columnOf(c.keyword, c.tag, plainVr(c.vr), from, syntax)]
    })
    this.#pending = this.#columns.map(() => ({ bytes: undefined, text: '', size: 0 }))
  }

  /** One identifier's bytes from its values (in the order the columns were given); what could not be written is named, not fatal. */
  write (values: readonly IdentifierValue[], dropped: string[] = []): Buffer {
    const columns = this.#columns
    const pending = this.#pending
    let total = 0
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!
      const p = pending[i]!
      const v = values[c.from]
      p.bytes = undefined
      p.size = UNWRITABLE
      if (v === undefined) continue
      if (c.vr === 'SQ') {
        // An empty sequence, whatever the value (a value reading "sequence" of any other VR is text like any other).
        p.size = 0
      } else if (c.vr in BINARY) {
        p.bytes = binaryValue(c.vr, v, this.#big)
        if (p.bytes !== undefined) p.size = p.bytes.length
      } else {
        p.text = textOf(v)
        const length = Buffer.byteLength(p.text, 'utf8')
        p.size = length + (length % 2)
      }
      if (p.size > c.limit) p.size = UNWRITABLE
      if (p.size === UNWRITABLE) { dropped.push(c.keyword); continue }
      total += c.head.length + c.lengthSize + p.size
    }
    const out = Buffer.allocUnsafe(total)
    let at = 0
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!
      const p = pending[i]!
      if (p.size === UNWRITABLE) continue
      at += c.head.copy(out, at)
      if (c.lengthSize === 4) { if (this.#big) out.writeUInt32BE(p.size, at); else out.writeUInt32LE(p.size, at) } else if (this.#big) out.writeUInt16BE(p.size, at); else out.writeUInt16LE(p.size, at)
      at += c.lengthSize
      if (p.bytes !== undefined) {
        at += p.bytes.copy(out, at)
      } else if (p.size > 0) {
        const written = out.write(p.text, at, 'utf8')
        if (written < p.size) out[at + written] = c.pad
        at += p.size
      }
    }
    return out
  }
}

/** One identifier's bytes, elements in tag order; what could not be written is named, not fatal. */
export function writeIdentifier (elements: readonly IdentifierElement[], syntax: string): { bytes: Buffer, dropped: string[] } {
  const dropped: string[] = []
  const bytes = new IdentifierWriter(elements, syntax).write(elements.map((e) => e.value), dropped)
  return { bytes, dropped }
}
