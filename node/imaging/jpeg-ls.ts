/**
 * JPEG-LS, lossless and near-lossless (1.2.840.10008.1.2.4.80 and .81), decoded with CharLS
 * (@cornerstonejs/codec-charls). Colour frames coded with interleave mode "none" (one scan per
 * component) come out planar and are interleaved here.
 */
import type { Module } from '@cornerstonejs/codec-charls/decodewasmjs'
import { CorruptPixelDataError } from './errors.ts'
import { checkDimensions, decodedBytes, type DecodedFrame, type FrameGeometry } from './geometry.ts'
import { readJpegFrameHeader } from './jpeg-header.ts'
import { interleave } from './planar.ts'
import { lazyModule } from './wasm-module.ts'

const charls = lazyModule<Module>('JPEG-LS (CharLS)', async () => await import('@cornerstonejs/codec-charls/decodewasmjs'))

export async function decodeJpegLs (bytes: Uint8Array, g: FrameGeometry): Promise<DecodedFrame> {
  const header = readJpegFrameHeader(bytes)
  if (header.marker !== 0xf7) throw new CorruptPixelDataError(`a JPEG-LS frame has a SOF55 frame header; this one has FF${header.marker.toString(16)}`)
  if (header.precision < 2 || header.precision > g.bitsAllocated) {
    throw new CorruptPixelDataError(`the JPEG-LS codestream has ${header.precision}-bit samples, which do not fit the dataset's Bits Allocated ${g.bitsAllocated}`)
  }
  checkDimensions('JPEG-LS', g, header)
  return await charls.use((m) => {
    const decoder = new m.JpegLSDecoder()
    try {
      decoder.getEncodedBuffer(bytes.length).set(bytes)
      decoder.decode()
      const info = decoder.getFrameInfo()
      checkDimensions('JPEG-LS', g, { columns: info.width, rows: info.height, components: info.componentCount })
      let out = decodedBytes('JPEG-LS', g, decoder.getDecodedBuffer())
      if (g.samples === 3 && decoder.getInterleaveMode() === 0) out = interleave(out, g)
      return { bytes: out, photometric: g.photometric }
    } finally {
      decoder.delete()
    }
  })
}
