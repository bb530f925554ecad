/**
 * Reads the frame header (SOFn, ISO/IEC 10918-1 B.2.2; SOF55 for JPEG-LS, ISO/IEC 14495-1 C.2.2)
 * of a JPEG-family codestream without decoding it: sample precision, size, component count and
 * which process it is. Decoders check it against the dataset before they allocate anything.
 */
import { CorruptPixelDataError } from './errors.ts'

export interface JpegFrameHeader {
  /** The SOF marker's low byte: 0xC0 baseline, 0xC1 extended, 0xC3 lossless, 0xF7 JPEG-LS... */
  readonly marker: number
  readonly precision: number
  readonly rows: number
  readonly columns: number
  readonly components: number
}

/** Markers with no length field after them (TEM, RSTn, SOI, EOI). */
function standalone (m: number): boolean { return m === 0x01 || (m >= 0xd0 && m <= 0xd9) }

function isFrameMarker (m: number): boolean {
  return (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7
}

export function readJpegFrameHeader (bytes: Uint8Array): JpegFrameHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new CorruptPixelDataError(`a JPEG codestream starts with the SOI marker FFD8; this frame starts with ${Buffer.from(bytes.subarray(0, 2)).toString('hex') || 'nothing'}`)
  }
  let at = 2
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new CorruptPixelDataError(`expected a JPEG marker at byte ${at}, found 0x${bytes[at]!.toString(16)}`)
    const marker = bytes[at + 1]!
    if (marker === 0xff) { at += 1; continue } // fill byte
    if (standalone(marker)) { at += 2; continue }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!
    if (length < 2) throw new CorruptPixelDataError(`JPEG marker FF${marker.toString(16)} at byte ${at} has length ${length}`)
    if (isFrameMarker(marker)) {
      if (at + 10 > bytes.length) break
      return {
        marker,
        precision: bytes[at + 4]!,
        rows: (bytes[at + 5]! << 8) | bytes[at + 6]!,
        columns: (bytes[at + 7]! << 8) | bytes[at + 8]!,
        components: bytes[at + 9]!
      }
    }
    if (marker === 0xda) break // start of scan before any frame header
    at += 2 + length
  }
  throw new CorruptPixelDataError('the JPEG codestream has no frame header (SOF) before its first scan or its end')
}
