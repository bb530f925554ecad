/**
 * Inspects a DICOM Part 10 file as it streams past: checks its whole structure (file-meta.ts,
 * dataset-walker.ts) and extracts its catalogue attributes (instance-header.ts) as soon as the
 * part before Pixel Data has gone by, so a caller can act on them (find the study, spot a
 * duplicate) while the rest is still arriving. Only that prefix is held in memory.
 *
 * Deflated datasets are compressed as a whole, so a deflated file is held entire and inflated
 * at the end; they are rare and small, and capped.
 */
import { concatBytes } from '../../protocol/bytes.ts'
import { DatasetWalker } from './dataset-walker.ts'
import { inflateDataset } from './deflated-dataset.ts'
import { InvalidDicomError, NotAnInstanceError } from './errors.ts'
import { parseFileMeta, type FileMeta } from './file-meta.ts'
import { DICOMDIR_REASON, HEADER_TAGS, MEDIA_STORAGE_DIRECTORY, readInstanceHeader, type InstanceHeader } from './instance-header.ts'
import { EXPLICIT_LE, encodingOf, isDeflated, type DatasetEncoding } from './transfer-syntax.ts'

/** Where one wanted top-level element lies: [start, end) in the walked bytes. */
type Range = readonly [number, number]

/** The bytes of the wanted elements, one after another, cut from `bytes` (whose offset 0 is `base` in the walk). */
function cut (bytes: Uint8Array, ranges: Range[], base = 0): Uint8Array {
  return concatBytes(...ranges.map(([start, end]) => bytes.subarray(start - base, end - base)))
}

/** Most bytes held before Pixel Data (attributes, embedded documents). */
export const MAX_HEADER_BYTES = 64 << 20
/** Largest deflated file, and largest inflated dataset, accepted. */
export const MAX_DEFLATED_BYTES = 64 << 20
export const MAX_INFLATED_BYTES = 512 << 20

export interface InspectOptions {
  /**
   * Whether a dataset without SOP Class/Instance UID takes them from the file meta (default
   * true: the sender's own file meta says what the file holds). False where peerpacs wrote the
   * meta itself from a C-STORE command: the dataset must then name its instance.
   */
  readonly uidsFromFileMeta?: boolean
}

/** Bound for a stream whose length is known only at its end (a C-STORE or STOW-RS part). */
const UNKNOWN_SIZE = Number.MAX_SAFE_INTEGER

export class Part10Inspector {
  readonly #fileSize: number
  readonly #sizeKnown: boolean
  readonly #uidsFromFileMeta: boolean
  #held: Uint8Array[] = []
  #heldLength = 0
  #meta: FileMeta | undefined
  #walker: DatasetWalker | undefined
  #header: InstanceHeader | undefined
  #received = 0
  /** The top-level elements the header is read from, as the walker passes them. */
  #ranges: Range[] = []
  readonly #want = (tag: number, start: number, end: number): void => {
    if (this.#header === undefined && HEADER_TAGS.has(tag)) this.#ranges.push([start, end])
  }

  /** `fileSize` undefined: the length is learnt at finish() (network streams). */
  constructor (fileSize?: number, options: InspectOptions = {}) {
    this.#uidsFromFileMeta = options.uidsFromFileMeta ?? true
    this.#sizeKnown = fileSize !== undefined
    this.#fileSize = fileSize ?? UNKNOWN_SIZE
  }

  /** Bytes pushed so far. */
  get received (): number { return this.#received }

  /** The instance's attributes, once the part before Pixel Data has been seen. */
  get header (): InstanceHeader | undefined { return this.#header }

  get transferSyntaxUid (): string | undefined { return this.#meta?.transferSyntaxUid }

  /** Takes the next piece of the file. The inspector may keep it: do not modify it afterwards. */
  push (chunk: Uint8Array): void {
    this.#received += chunk.length
    if (this.#received > this.#fileSize) throw new InvalidDicomError(`file grew while it was being read (more than ${this.#fileSize} bytes)`)
    if (this.#header === undefined) this.#hold(chunk)
    if (this.#meta === undefined) {
      const prefix = this.#joined()
      this.#meta = parseFileMeta(prefix, this.#fileSize)
      if (this.#meta === undefined) return
      if (this.#meta.mediaStorageSopClassUid === MEDIA_STORAGE_DIRECTORY) throw new NotAnInstanceError(DICOMDIR_REASON)
      if (isDeflated(this.#meta.transferSyntaxUid)) return
      this.#walker = new DatasetWalker(this.#meta.metaEnd, this.#fileSize, encodingOf(this.#meta.transferSyntaxUid), this.#want)
      this.#walker.push(prefix.subarray(this.#meta.metaEnd))
    } else if (this.#walker !== undefined) {
      this.#walker.push(chunk)
    }
    const headerEnd = this.#walker?.headerEnd
    if (this.#header === undefined && headerEnd !== undefined) this.#parseHeader(headerEnd)
  }

  /** Call at the end of the file: throws unless it was a whole, well-formed instance. */
  finish (): InstanceHeader {
    if (this.#sizeKnown && this.#received !== this.#fileSize) {
      throw new InvalidDicomError(`file changed while it was being read: ${this.#received} bytes read, ${this.#fileSize} expected`)
    }
    if (this.#meta === undefined) {
      this.#meta = parseFileMeta(this.#joined(), this.#received)
      if (this.#meta === undefined) throw new InvalidDicomError(`file ends at byte ${this.#fileSize} inside the file meta information`)
      if (this.#meta.mediaStorageSopClassUid === MEDIA_STORAGE_DIRECTORY) throw new NotAnInstanceError(DICOMDIR_REASON)
    }
    const ts = this.#meta.transferSyntaxUid
    if (isDeflated(ts)) return this.#finishDeflated(this.#meta)
    // The walker exists once the meta is parsed, unless the meta ended exactly at the end of input.
    if (this.#walker === undefined) this.#walker = new DatasetWalker(this.#meta.metaEnd, this.#received, encodingOf(ts), this.#want)
    const headerEnd = this.#walker.finish(this.#sizeKnown ? undefined : this.#received)
    if (this.#header === undefined) this.#parseHeader(headerEnd)
    return this.#header!
  }

  #hold (chunk: Uint8Array): void {
    const limit = this.#meta !== undefined && isDeflated(this.#meta.transferSyntaxUid) ? MAX_DEFLATED_BYTES : MAX_HEADER_BYTES
    if (this.#heldLength + chunk.length > limit) {
      throw new InvalidDicomError(this.#meta !== undefined && isDeflated(this.#meta.transferSyntaxUid)
        ? `deflated files larger than ${limit >> 20} MiB are not accepted`
        : `more than ${limit >> 20} MiB of attributes before Pixel Data; not accepted`)
    }
    this.#held.push(chunk)
    this.#heldLength += chunk.length
  }

  #joined (): Uint8Array {
    if (this.#held.length > 1) this.#held = [concatBytes(...this.#held)]
    return this.#held[0] ?? new Uint8Array(0)
  }

  #parseHeader (headerEnd: number): void {
    const meta = this.#meta!
    this.#header = this.#read(cut(this.#joined().subarray(0, headerEnd), this.#ranges), encodingOf(meta.transferSyntaxUid), meta)
    this.#held = []
    this.#heldLength = 0
    this.#ranges = []
  }

  #read (elements: Uint8Array, encoding: DatasetEncoding, meta: FileMeta): InstanceHeader {
    const uids = this.#uidsFromFileMeta ? { sopClassUid: meta.mediaStorageSopClassUid, sopInstanceUid: meta.mediaStorageSopInstanceUid } : {}
    return readInstanceHeader(elements, encoding, meta.transferSyntaxUid, uids)
  }

  #finishDeflated (meta: FileMeta): InstanceHeader {
    const file = this.#joined()
    const { dataset } = inflateDataset(file.subarray(meta.metaEnd), MAX_INFLATED_BYTES)
    const walker = new DatasetWalker(0, dataset.length, EXPLICIT_LE, this.#want)
    walker.push(dataset)
    walker.finish()
    this.#header = this.#read(cut(dataset, this.#ranges), EXPLICIT_LE, meta)
    this.#held = []
    this.#ranges = []
    return this.#header
  }
}
