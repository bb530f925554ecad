/**
 * One compressed frame to native pixels, by transfer syntax. Each decoder module (and the codec
 * package behind it) is imported on the first frame that needs it, so start-up and memory do not
 * grow with codecs nobody uses. A transfer syntax without a decoder here is an
 * UnsupportedPixelDataError naming it.
 */
import { UnsupportedPixelDataError } from './errors.ts'
import type { DecodedFrame, FrameGeometry } from './geometry.ts'

type Decode = (bytes: Uint8Array, g: FrameGeometry) => DecodedFrame | Promise<DecodedFrame>

const DECODERS: Readonly<Record<string, { name: string, load: () => Promise<Decode> }>> = {
  '1.2.840.10008.1.2.4.50': { name: 'JPEG baseline', load: async () => (await import('./jpeg-baseline.ts')).decodeJpegBaseline },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG extended', load: async () => (await import('./jpeg-baseline.ts')).decodeJpegBaseline },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG lossless', load: async () => (await import('./jpeg-lossless.ts')).decodeJpegLossless },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG lossless SV1', load: async () => (await import('./jpeg-lossless.ts')).decodeJpegLossless },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS lossless', load: async () => (await import('./jpeg-ls.ts')).decodeJpegLs },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS near-lossless', load: async () => (await import('./jpeg-ls.ts')).decodeJpegLs },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 lossless', load: async () => (await import('./jpeg-2000.ts')).decodeJpeg2000 },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', load: async () => (await import('./jpeg-2000.ts')).decodeJpeg2000 },
  '1.2.840.10008.1.2.5': { name: 'RLE lossless', load: async () => (await import('./rle.ts')).decodeRle }
}

/** The transfer syntaxes whose frames peerpacs decodes. */
export const DECODABLE_SYNTAXES: readonly string[] = Object.keys(DECODERS)

export async function decodeFrame (transferSyntaxUid: string, bytes: Uint8Array, g: FrameGeometry): Promise<DecodedFrame> {
  const entry = DECODERS[transferSyntaxUid]
  if (entry === undefined) {
    throw new UnsupportedPixelDataError(`peerpacs has no decoder for transfer syntax ${transferSyntaxUid}; it decodes ${Object.values(DECODERS).map((d) => d.name).filter((n, i, all) => all.indexOf(n) === i).join(', ')}`)
  }
  const decode = await entry.load()
  return await decode(bytes, g)
}
