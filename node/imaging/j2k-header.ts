/**
 * Reads the image and tile size marker (SIZ, ISO/IEC 15444-1 A.5.1) that follows SOC at the start
 * of a JPEG 2000 codestream: image size, component count and each component's precision and
 * sign. The decoder checks it against the dataset before OpenJPEG allocates anything.
 */
import { CorruptPixelDataError } from './errors.ts'

export interface J2kHeader {
  readonly columns: number
  readonly rows: number
  readonly components: number
  /** Bits per sample of the first component (1..38). */
  readonly precision: number
  readonly signed: boolean
}

export function readJ2kHeader (bytes: Uint8Array): J2kHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 42 || view.getUint16(0) !== 0xff4f || view.getUint16(2) !== 0xff51) {
    throw new CorruptPixelDataError(`a JPEG 2000 frame is a codestream that starts with SOC and SIZ (FF4F FF51); this one starts with ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'nothing'}`)
  }
  const columns = view.getUint32(8) - view.getUint32(16)
  const rows = view.getUint32(12) - view.getUint32(20)
  const components = view.getUint16(40)
  if (components === 0 || bytes.length < 42 + 3 * components) throw new CorruptPixelDataError(`the JPEG 2000 SIZ marker lists ${components} component(s) in a ${bytes.length}-byte frame`)
  const ssiz = bytes[42]!
  return { columns, rows, components, precision: (ssiz & 0x7f) + 1, signed: (ssiz & 0x80) !== 0 }
}
