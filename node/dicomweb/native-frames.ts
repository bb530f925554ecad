/**
 * Frames of uncompressed Pixel Data read straight from the stored stream, so WADO-RS frames and
 * Pixel Data bulk data of a large multi-frame instance pass through in bounded memory (one frame
 * at a time) instead of the instance being opened whole. One pass finds where Pixel Data lies and
 * parses everything before it (dcmjs, the header only); each answer then reads the stream again,
 * skipping to the frames it names. Frames are cut from one pass, so they must be named in
 * ascending order; any other order, deflated or encapsulated pixel data, or packed bits use the
 * opened instance (instance-data.ts) as before.
 */
import dcmjs from 'dcmjs'
import { DatasetWalker } from '../dicom/dataset-walker.ts'
import { parseFileMeta } from '../dicom/file-meta.ts'
import { EXPLICIT_VR_BIG_ENDIAN, encodingOf, isDeflated } from '../dicom/transfer-syntax.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { CatalogInstance } from '../query/attributes.ts'
import { unreadable } from './http-errors.ts'
import { NATIVE_SYNTAXES, pixelLayout, type Dataset, type PixelLayout } from './instance-data.ts'

const PIXEL_DATA = 0x7fe00010
/** Most bytes before Pixel Data that are held to parse the header. */
const MAX_PREFIX = 64 << 20

export interface NativePixels {
  readonly instance: CatalogInstance
  readonly transferSyntaxUid: string
  readonly dataset: Dataset
  readonly layout: PixelLayout
  /** File offset of Pixel Data's value, and its length. */
  readonly valueStart: number
  readonly valueLength: number
}

function concat (parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/**
 * Where an uncompressed instance's Pixel Data lies, with the header parsed; undefined when the
 * instance is not one this path serves (compressed, deflated, no Pixel Data, packed bits).
 */
export async function locatePixels (pacs: Pacs, instance: CatalogInstance): Promise<NativePixels | undefined> {
  const ts = instance.transferSyntaxUid
  if (!NATIVE_SYNTAXES.has(ts) || isDeflated(ts)) return undefined
  const held: Uint8Array[] = []
  let length = 0
  let walker: DatasetWalker | undefined
  let pixels: { start: number, end: number } | undefined
  const source = pacs.read(instance)[Symbol.asyncIterator]()
  try {
    for (;;) {
      const next = await source.next()
      if (next.done === true) break
      held.push(next.value)
      length += next.value.length
      if (walker === undefined) {
        const prefix = concat(held, length)
        const meta = parseFileMeta(prefix, Number.MAX_SAFE_INTEGER)
        if (meta === undefined) continue
        if (meta.transferSyntaxUid !== ts) return undefined
        walker = new DatasetWalker(meta.metaEnd, Number.MAX_SAFE_INTEGER, encodingOf(ts), (tag, start, end) => {
          if (tag === PIXEL_DATA && pixels === undefined) pixels = { start, end }
        })
        walker.push(prefix.subarray(meta.metaEnd))
      } else {
        walker.push(next.value)
      }
      if (pixels !== undefined || walker.headerEnd !== undefined) break
      if (length > MAX_PREFIX) return undefined
    }
  } finally {
    await source.return?.(undefined)
  }
  if (pixels === undefined || walker?.headerEnd !== pixels.start) return undefined
  const headerBytes = concat(held, length).subarray(0, pixels.start)
  let parsed
  try {
    parsed = dcmjs.data.DicomMessage.readFile(headerBytes.buffer.slice(headerBytes.byteOffset, headerBytes.byteOffset + headerBytes.byteLength) as ArrayBuffer, { ignoreErrors: true })
  } catch {
    return undefined
  }
  const dataset = parsed.dict as Dataset
  const layout = pixelLayout(dataset)
  if (layout.bitsAllocated % 8 !== 0 || layout.frameBytes === 0) return undefined
  // Pixel Data is OB/OW: a 12-byte element header in explicit VR, 8 in implicit.
  const valueStart = pixels.start + (encodingOf(ts).explicitVr ? 12 : 8)
  const valueLength = pixels.end - valueStart
  if (valueLength < layout.frames * layout.frameBytes) {
    throw unreadable('the stored Pixel Data is shorter than its rows, columns and frames say')
  }
  return { instance, transferSyntaxUid: ts, dataset, layout, valueStart, valueLength }
}

/** Whether frames `numbers` can be cut in one pass (each after the one before). */
export function ascending (numbers: readonly number[]): boolean {
  return numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)
}

function swapped (bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i + width <= bytes.length; i += width) for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j]!
  return out
}

/**
 * Frames `numbers` (1-based, ascending), each as explicit VR little endian bytes, read from the
 * stored stream: the bytes before a frame are skipped as they pass, one frame is held at a time.
 */
export async function * readFrames (pacs: Pacs, pixels: NativePixels, numbers: readonly number[]): AsyncGenerator<{ n: number, bytes: Uint8Array }> {
  const { frameBytes, bitsAllocated } = pixels.layout
  const swap = pixels.transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN && bitsAllocated > 8
  let offset = 0
  let index = 0
  let frame: Uint8Array | undefined
  let filled = 0
  const startOf = (n: number): number => pixels.valueStart + (n - 1) * frameBytes
  const source = pacs.read(pixels.instance)[Symbol.asyncIterator]()
  try {
    while (index < numbers.length) {
      const next = await source.next()
      if (next.done === true) throw unreadable('the stored instance ended before the frames its header names')
      let chunk = next.value
      let chunkStart = offset
      offset += chunk.length
      while (index < numbers.length && chunk.length > 0) {
        const want = startOf(numbers[index]!) + filled
        if (want >= offset) break
        if (want > chunkStart) { chunk = chunk.subarray(want - chunkStart); chunkStart = want }
        frame ??= new Uint8Array(frameBytes)
        const n = Math.min(frameBytes - filled, chunk.length)
        frame.set(chunk.subarray(0, n), filled)
        filled += n
        chunk = chunk.subarray(n)
        chunkStart += n
        if (filled === frameBytes) {
          yield { n: numbers[index]!, bytes: swap ? swapped(frame, bitsAllocated / 8) : frame }
          frame = undefined
          filled = 0
          index++
        }
      }
    }
  } finally {
    await source.return?.(undefined)
  }
}
