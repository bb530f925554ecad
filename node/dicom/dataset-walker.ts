/**
 * Walks the structure of a DICOM dataset as a stream, without holding values: every element's
 * header is read and its value skipped, sequences and items are tracked on a stack. It proves
 * that every length fits inside its container and the file, that delimiters match, and that the
 * file ends exactly at the end of the last element. dcmjs, which reads values, silently accepts
 * truncated files and impossible lengths; this walker is what rejects them, in bounded memory
 * whatever the file size. It also finds where the "header" ends, so the attributes before it can
 * be parsed from a small prefix: at the first top-level element of the pixel data group (7FE0),
 * or at the first top-level value of 8 MiB or more (an encapsulated document, a waveform).
 * A listener may be told where each top-level element of defined length lies, so the attributes
 * that are wanted can be cut out of the prefix without another parser walking the rest (private
 * sequences, nested items) a second time.
 */
import { InvalidDicomError, tagString } from './errors.ts'
import { IMPLICIT_LE, type DatasetEncoding } from './transfer-syntax.ts'
import { hasLongLength, isKnownVr, printable, readVr } from './vr.ts'

type ContainerKind = 'dataset' | 'sequence' | 'item' | 'fragments'

interface Container {
  readonly kind: ContainerKind
  /** Absolute offset where a defined-length container ends; undefined until its delimiter. */
  readonly end: number | undefined
  readonly encoding: DatasetEncoding
  readonly tag: number
}

const UNDEFINED_LENGTH = 0xffffffff
const PIXEL_DATA = 0x7fe00010
/** The first tag of the pixel data group: Float and Double Float Pixel Data sort before Pixel Data. */
const PIXEL_GROUP = 0x7fe00000
/** A top-level value this large is bulk data (an encapsulated document, a waveform) and ends the header too. */
const BULK_VALUE = 8 << 20
const ITEM = 0xfffee000
const ITEM_DELIMITATION = 0xfffee00d
const SEQUENCE_DELIMITATION = 0xfffee0dd
/** Sequences nested deeper than this are refused (real data rarely nests more than a few). */
const MAX_SEQUENCE_DEPTH = 32

/** Told of each top-level element of defined length: its tag, where its header starts and its value ends. */
export type TopLevelListener = (tag: number, start: number, end: number) => void

const NAMES: Record<ContainerKind, string> = {
  dataset: 'the dataset',
  sequence: 'sequence',
  item: 'item of sequence',
  fragments: 'encapsulated pixel data'
}

function describeContainer (c: Container): string {
  return c.kind === 'dataset' ? NAMES.dataset : `${NAMES[c.kind]} ${tagString(c.tag)}`
}

export class DatasetWalker {
  #limit: number
  readonly #stack: Container[]
  readonly #header = new Uint8Array(12)
  #headerFill = 0
  #pos: number
  #skip = 0
  #headerEnd: number | undefined
  readonly #onTopLevel: TopLevelListener | undefined

  /** Walks the dataset that occupies bytes [start, end) of a file, in `encoding`. */
  constructor (start: number, end: number, encoding: DatasetEncoding, onTopLevel?: TopLevelListener) {
    this.#onTopLevel = onTopLevel
    this.#pos = start
    this.#limit = end
    this.#stack = [{ kind: 'dataset', end, encoding, tag: 0 }]
  }

  /** Offset of the first top-level element at or after Pixel Data, once the walk has reached it. */
  get headerEnd (): number | undefined { return this.#headerEnd }

  /** Offset of the next byte the walker expects. */
  get position (): number { return this.#pos + this.#headerFill }

  push (chunk: Uint8Array): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i)
        this.#skip -= n
        this.#pos += n
        i += n
        continue
      }
      if (this.#headerFill === 0) this.#closeFinished()
      const need = this.#headerLength()
      const n = Math.min(need - this.#headerFill, chunk.length - i)
      this.#header.set(chunk.subarray(i, i + n), this.#headerFill)
      this.#headerFill += n
      i += n
      if (this.#headerFill === need && need === this.#headerLength()) this.#element()
    }
  }

  /**
   * Call at the end of input; throws unless the dataset ended cleanly. Returns where the header
   * ends. `end` is where the input actually stopped, for a walker started without knowing it.
   */
  finish (end?: number): number {
    if (end !== undefined) {
      if (end > this.#limit) throw this.#error(`dataset ended at byte ${end}, past its limit of byte ${this.#limit}`)
      this.#limit = end
      this.#stack[0] = { ...this.#stack[0]!, end }
    }
    if (this.#headerFill > 0) throw this.#error(`file ends inside an element header at byte ${this.#pos}`)
    if (this.#skip > 0) throw this.#error(`file ends ${this.#skip} bytes short of the value that should end at byte ${this.#pos + this.#skip}`)
    this.#closeFinished()
    if (this.#stack.length > 1) {
      throw this.#error(`file ends at byte ${this.#pos} inside ${describeContainer(this.#stack[this.#stack.length - 1]!)} (truncated, or a delimiter is missing)`)
    }
    if (this.#pos !== this.#limit) throw this.#error(`dataset ended at byte ${this.#pos}, expected byte ${this.#limit}`)
    return this.#headerEnd ?? this.#limit
  }

  #top (): Container { return this.#stack[this.#stack.length - 1]! }

  #closeFinished (): void {
    for (;;) {
      const top = this.#top()
      if (top.kind === 'dataset' || top.end === undefined || this.#pos < top.end) return
      this.#stack.pop()
    }
  }

  #headerLength (): number {
    if (this.#headerFill < 8) return 8
    const top = this.#top()
    if (!top.encoding.explicitVr || this.#group() === 0xfffe) return 8
    return hasLongLength(readVr(this.#header, 4)) ? 12 : 8
  }

  #u16 (offset: number): number {
    const h = this.#header
    return this.#top().encoding.littleEndian ? h[offset]! | h[offset + 1]! << 8 : h[offset]! << 8 | h[offset + 1]!
  }

  #u32 (offset: number): number {
    const h = this.#header
    const v = this.#top().encoding.littleEndian
      ? h[offset]! | h[offset + 1]! << 8 | h[offset + 2]! << 16 | h[offset + 3]! << 24
      : h[offset]! << 24 | h[offset + 1]! << 16 | h[offset + 2]! << 8 | h[offset + 3]!
    return v >>> 0
  }

  #group (): number { return this.#u16(0) }

  #error (message: string): InvalidDicomError { return new InvalidDicomError(message) }

  #push (container: Container): void {
    if (container.kind === 'sequence' || container.kind === 'fragments') {
      const depth = this.#stack.filter((c) => c.kind === 'sequence' || c.kind === 'fragments').length
      if (depth >= MAX_SEQUENCE_DEPTH) throw this.#error(`sequences nested more than ${MAX_SEQUENCE_DEPTH} deep at byte ${this.#pos}`)
    }
    this.#stack.push(container)
  }

  /** Checks that a value of `length` bytes starting at the current position fits its container and the file. */
  #fits (tag: number, start: number, length: number): number {
    const end = start + length
    const top = this.#top()
    if (end > this.#limit) {
      throw this.#error(`element ${tagString(tag)} at byte ${start} claims ${length} bytes but the file ends at byte ${this.#limit} (truncated, or a corrupt length)`)
    }
    if (top.end !== undefined && end > top.end) {
      throw this.#error(`element ${tagString(tag)} at byte ${start} claims ${length} bytes, past the end of ${describeContainer(top)} at byte ${top.end}`)
    }
    return end
  }

  #element (): void {
    const top = this.#top()
    const start = this.#pos
    const group = this.#group()
    const tag = (group << 16 | this.#u16(2)) >>> 0
    this.#headerFill = 0

    if (group === 0xfffe) {
      const length = this.#u32(4)
      this.#pos += 8
      this.#delimiter(top, tag, start, length)
      return
    }
    if (top.kind === 'sequence') throw this.#error(`${describeContainer(top)} holds ${tagString(tag)} at byte ${start} where an item was expected`)
    // PS3.5 §7.1: groups 0000 (commands), 0002 (file meta), the odd groups 0001-0007 and FFFF never
    // occur in a stored dataset. Zero bytes appended to an implicit VR file read as (0000,0000).
    if (group < 0x0008 || group === 0xffff) {
      throw this.#error(`element ${tagString(tag)} at byte ${start} cannot occur in a dataset (trailing garbage or a corrupt length before it)`)
    }
    if (top.kind === 'fragments') throw this.#error(`${describeContainer(top)} holds ${tagString(tag)} at byte ${start} where a fragment item was expected`)

    let vr: string | undefined
    let length: number
    if (top.encoding.explicitVr) {
      vr = readVr(this.#header, 4)
      if (!isKnownVr(vr)) throw this.#error(`element ${tagString(tag)} at byte ${start} has an invalid VR "${printable(vr)}"`)
      const long = hasLongLength(vr)
      length = long ? this.#u32(8) : this.#u16(6)
      this.#pos += long ? 12 : 8
    } else {
      length = this.#u32(4)
      this.#pos += 8
    }
    if (top.kind === 'dataset' && this.#headerEnd === undefined && (tag >= PIXEL_GROUP || (length !== UNDEFINED_LENGTH && length >= BULK_VALUE))) {
      this.#headerEnd = start
    }

    if (length === UNDEFINED_LENGTH) {
      if (vr === undefined || vr === 'SQ') {
        this.#push({ kind: 'sequence', end: undefined, encoding: top.encoding, tag })
      } else if (vr === 'UN') {
        // CP-246: an undefined-length UN is a sequence encoded in implicit VR little endian.
        this.#push({ kind: 'sequence', end: undefined, encoding: IMPLICIT_LE, tag })
      } else if (tag === PIXEL_DATA && (vr === 'OB' || vr === 'OW')) {
        this.#push({ kind: 'fragments', end: undefined, encoding: top.encoding, tag })
      } else {
        throw this.#error(`element ${tagString(tag)} (${vr}) at byte ${start} has undefined length, which only sequences and encapsulated pixel data may have`)
      }
      return
    }
    const end = this.#fits(tag, this.#pos, length)
    if (top.kind === 'dataset') this.#onTopLevel?.(tag, start, end)
    if (vr === 'SQ') {
      this.#push({ kind: 'sequence', end, encoding: top.encoding, tag })
    } else {
      this.#skip = length
    }
  }

  #delimiter (top: Container, tag: number, start: number, length: number): void {
    if (tag === ITEM) {
      if (top.kind === 'sequence') {
        if (length === UNDEFINED_LENGTH) {
          this.#push({ kind: 'item', end: undefined, encoding: top.encoding, tag: top.tag })
        } else {
          this.#push({ kind: 'item', end: this.#fits(tag, this.#pos, length), encoding: top.encoding, tag: top.tag })
        }
        return
      }
      if (top.kind === 'fragments') {
        if (length === UNDEFINED_LENGTH) throw this.#error(`fragment of ${describeContainer(top)} at byte ${start} has undefined length`)
        this.#fits(tag, this.#pos, length)
        this.#skip = length
        return
      }
      throw this.#error(`item tag (FFFE,E000) at byte ${start} outside any sequence, in ${describeContainer(top)}`)
    }
    if (tag === ITEM_DELIMITATION || tag === SEQUENCE_DELIMITATION) {
      const closes = tag === ITEM_DELIMITATION ? top.kind === 'item' : top.kind === 'sequence' || top.kind === 'fragments'
      const name = tag === ITEM_DELIMITATION ? 'item delimiter (FFFE,E00D)' : 'sequence delimiter (FFFE,E0DD)'
      if (!closes || top.end !== undefined) throw this.#error(`${name} at byte ${start} does not close anything open (in ${describeContainer(top)})`)
      if (length !== 0) throw this.#error(`${name} at byte ${start} has length ${length}, expected 0`)
      this.#stack.pop()
      return
    }
    throw this.#error(`unknown delimiter tag ${tagString(tag)} at byte ${start}`)
  }
}
