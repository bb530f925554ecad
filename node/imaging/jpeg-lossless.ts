/**
 * JPEG lossless, non-hierarchical (process 14, 1.2.840.10008.1.2.4.57, and its first-order
 * prediction subset .70), decoded with jpeg-lossless-decoder-js: the decoder Cornerstone's
 * dicom-image-loader uses, plain JavaScript. Samples wider than 8 bits come out as 16-bit words
 * in the platform's order, which is little endian on every platform Node supports for peerpacs.
 */
import { Decoder } from 'jpeg-lossless-decoder-js'
import { codecMessage, CorruptPixelDataError } from './errors.ts'
import { checkDimensions, decodedBytes, type DecodedFrame, type FrameGeometry } from './geometry.ts'
import { readJpegFrameHeader } from './jpeg-header.ts'

export function decodeJpegLossless (bytes: Uint8Array, g: FrameGeometry): DecodedFrame {
  const header = readJpegFrameHeader(bytes)
  if (header.marker !== 0xc3) {
    throw new CorruptPixelDataError(`a JPEG lossless frame has a SOF3 frame header; this one has SOF${(header.marker - 0xc0).toString(16)}`)
  }
  if (header.precision < 2 || header.precision > g.bitsAllocated) {
    throw new CorruptPixelDataError(`the JPEG lossless codestream has ${header.precision}-bit samples, which do not fit the dataset's Bits Allocated ${g.bitsAllocated}`)
  }
  checkDimensions('JPEG lossless', g, header)
  if (g.samples === 3 && g.bitsAllocated !== 8) throw new CorruptPixelDataError('JPEG lossless colour frames must have 8-bit samples')
  let out: Uint8Array | Uint16Array
  try {
    out = new Decoder().decode(bytes.buffer, bytes.byteOffset, bytes.byteLength, g.bitsAllocated / 8)
  } catch (error) {
    throw new CorruptPixelDataError(`the JPEG lossless decoder could not decode this frame: ${codecMessage(error)}`, { cause: error })
  }
  return { bytes: decodedBytes('JPEG lossless', g, new Uint8Array(out.buffer, out.byteOffset, out.byteLength)), photometric: g.photometric }
}
