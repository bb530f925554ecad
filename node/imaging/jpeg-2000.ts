/**
 * JPEG 2000, lossless only and lossy (1.2.840.10008.1.2.4.90 and .91), decoded with OpenJPEG
 * (@cornerstonejs/codec-openjpeg). The SIZ header is read first and checked against the dataset
 * before OpenJPEG sees the frame. A codestream with the multiple-component transform (Photometric
 * Interpretation YBR_RCT or YBR_ICT) comes out as RGB, since OpenJPEG inverts the transform.
 */
import type { Module } from '@cornerstonejs/codec-openjpeg/decodewasmjs'
import { CorruptPixelDataError } from './errors.ts'
import { checkDimensions, decodedBytes, type DecodedFrame, type FrameGeometry } from './geometry.ts'
import { readJ2kHeader } from './j2k-header.ts'
import { lazyModule } from './wasm-module.ts'

const openjpeg = lazyModule<Module>('JPEG 2000 (OpenJPEG)', async () => await import('@cornerstonejs/codec-openjpeg/decodewasmjs'))

export async function decodeJpeg2000 (bytes: Uint8Array, g: FrameGeometry): Promise<DecodedFrame> {
  const header = readJ2kHeader(bytes)
  checkDimensions('JPEG 2000', g, header)
  if (header.precision > g.bitsAllocated || (g.bitsAllocated === 16 && header.precision <= 8)) {
    throw new CorruptPixelDataError(`the JPEG 2000 codestream has ${header.precision}-bit samples, which do not match the dataset's Bits Allocated ${g.bitsAllocated}`)
  }
  return await openjpeg.use((m) => {
    const decoder = new m.J2KDecoder()
    try {
      decoder.getEncodedBuffer(bytes.length).set(bytes)
      decoder.decode()
      const info = decoder.getFrameInfo()
      checkDimensions('JPEG 2000', g, { columns: info.width, rows: info.height, components: info.componentCount })
      const photometric = g.photometric === 'YBR_RCT' || g.photometric === 'YBR_ICT' ? 'RGB' : g.photometric
      return { bytes: decodedBytes('JPEG 2000', g, decoder.getDecodedBuffer()), photometric }
    } finally {
      decoder.delete()
    }
  })
}
