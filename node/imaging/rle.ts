/**
 * RLE Lossless (1.2.840.10008.1.2.5, PS3.5 Annex G) decoder for one frame. A frame is a 64-byte
 * header (segment count, then 15 segment offsets, uint32 little endian) and one PackBits segment
 * per byte plane: for each sample in turn, its most significant byte first. Every offset and
 * every run is checked against the bytes that are there and the bytes the dataset expects, so a
 * damaged or hostile frame is an error naming what was wrong, never a read past the end or an
 * output larger than rows × columns.
 */
import { CorruptPixelDataError } from './errors.ts'
import { type DecodedFrame, type FrameGeometry } from './geometry.ts'

/** PackBits into `out` (exactly out.length bytes); returns how many bytes were produced. */
function unpackBits (input: Uint8Array, out: Uint8Array): number {
  let i = 0
  let o = 0
  while (i < input.length && o < out.length) {
    const n = input[i++]!
    if (n < 128) {
      const count = n + 1
      if (i + count > input.length || o + count > out.length) throw new CorruptPixelDataError(`an RLE literal run of ${count} bytes at segment byte ${i - 1} goes past the ${i + count > input.length ? 'end of the segment' : 'end of the byte plane'}`)
      out.set(input.subarray(i, i + count), o)
      i += count
      o += count
    } else if (n > 128) {
      const count = 257 - n
      if (i >= input.length || o + count > out.length) throw new CorruptPixelDataError(`an RLE repeat run of ${count} bytes at segment byte ${i - 1} goes past the ${i >= input.length ? 'end of the segment' : 'end of the byte plane'}`)
      out.fill(input[i++]!, o, o + count)
      o += count
    }
    // n === 128 is a no-op (PS3.5 G.3.1).
  }
  return o
}

export function decodeRle (frame: Uint8Array, g: FrameGeometry): DecodedFrame {
  const width = g.bitsAllocated / 8
  const planes = g.samples * width
  if (frame.length < 64) throw new CorruptPixelDataError(`an RLE frame starts with a 64-byte header; this one is ${frame.length} bytes`)
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const count = view.getUint32(0, true)
  if (count !== planes) throw new CorruptPixelDataError(`the RLE header lists ${count} segment(s); ${g.samples} sample(s) of ${g.bitsAllocated} bits need ${planes}`)
  const offsets: number[] = []
  for (let s = 0; s < count; s++) {
    const offset = view.getUint32(4 + 4 * s, true)
    const previous = offsets[s - 1] ?? 63
    if (offset < 64 || offset <= previous || offset >= frame.length) {
      throw new CorruptPixelDataError(`RLE segment ${s + 1} starts at byte ${offset}, outside the frame's ${frame.length} bytes or before the segment ahead of it`)
    }
    offsets.push(offset)
  }
  const pixels = g.rows * g.columns
  const plane = new Uint8Array(pixels)
  const out = new Uint8Array(pixels * planes)
  for (let s = 0; s < count; s++) {
    const end = offsets[s + 1] ?? frame.length
    const produced = unpackBits(frame.subarray(offsets[s], end), plane)
    if (produced !== pixels) throw new CorruptPixelDataError(`RLE segment ${s + 1} decodes to ${produced} bytes; ${g.columns}x${g.rows} needs ${pixels}`)
    const sample = Math.floor(s / width)
    const byte = width - 1 - (s % width) // most significant byte first; the output is little endian
    const at = sample * width + byte
    for (let p = 0; p < pixels; p++) out[p * planes + at] = plane[p]!
  }
  return { bytes: out, photometric: g.photometric }
}
