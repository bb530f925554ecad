/**
 * JPEG baseline and extended, 8-bit (1.2.840.10008.1.2.4.50 and .51 with 8-bit samples), decoded
 * with libjpeg-turbo. Three-component frames come out as RGB (libjpeg converts from YCbCr, as
 * PS3.5 8.2.1 expects of YBR_FULL_422 and YBR_FULL). 12-bit extended frames are refused as
 * unsupported: this build of libjpeg-turbo decodes 8-bit samples only.
 */
import { UnsupportedPixelDataError } from './errors.ts'
import { checkDimensions, decodedBytes, type DecodedFrame, type FrameGeometry } from './geometry.ts'
import { readJpegFrameHeader } from './jpeg-header.ts'
import { libjpegTurbo } from './libjpeg-turbo.ts'

export async function decodeJpegBaseline (bytes: Uint8Array, g: FrameGeometry): Promise<DecodedFrame> {
  const header = readJpegFrameHeader(bytes)
  if (header.marker !== 0xc0 && header.marker !== 0xc1) {
    throw new UnsupportedPixelDataError(`the frame is a JPEG codestream of process SOF${(header.marker - 0xc0).toString(16)}, not the baseline or extended process its transfer syntax names`)
  }
  if (header.precision !== 8 || g.bitsAllocated !== 8) {
    throw new UnsupportedPixelDataError(`peerpacs renders 8-bit JPEG baseline/extended frames; this one has ${header.precision}-bit samples (Bits Allocated ${g.bitsAllocated}). Retrieve the frames and decode them in the viewer`)
  }
  checkDimensions('JPEG', g, header)
  return await libjpegTurbo.use((m) => {
    const decoder = new m.JPEGDecoder()
    try {
      decoder.getEncodedBuffer(bytes.length).set(bytes)
      decoder.decode()
      const info = decoder.getFrameInfo()
      checkDimensions('JPEG', g, { columns: info.width, rows: info.height, components: info.componentCount })
      return { bytes: decodedBytes('JPEG', g, decoder.getDecodedBuffer()), photometric: g.samples === 3 ? 'RGB' : g.photometric }
    } finally {
      decoder.delete()
    }
  })
}
