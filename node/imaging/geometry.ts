/**
 * What the dataset says one frame is (rows, columns, samples per pixel, bits allocated, sign), and
 * what a decoder hands back: the frame's native bytes (little endian, samples interleaved, the
 * layout an uncompressed Explicit VR Little Endian frame with Planar Configuration 0 has) and the
 * photometric interpretation those bytes are in (a JPEG baseline decoder returns RGB from YBR).
 */
import { CorruptPixelDataError } from './errors.ts'

export interface FrameGeometry {
  readonly rows: number
  readonly columns: number
  readonly samples: 1 | 3
  readonly bitsAllocated: 8 | 16
  readonly signed: boolean
  /** Photometric Interpretation as stored (MONOCHROME2, RGB, YBR_FULL_422, YBR_RCT...). */
  readonly photometric: string
}

export interface DecodedFrame {
  /** rows × columns × samples × bitsAllocated/8 bytes, little endian, samples interleaved. */
  readonly bytes: Uint8Array
  /** The photometric interpretation of `bytes` (may differ from the stored one). */
  readonly photometric: string
}

export function frameByteLength (g: FrameGeometry): number {
  return g.rows * g.columns * g.samples * (g.bitsAllocated / 8)
}

/** A decoder's view of the codestream must match the dataset before anything is allocated for it. */
export function checkDimensions (what: string, g: FrameGeometry, found: { columns: number, rows: number, components: number }): void {
  if (found.columns !== g.columns || found.rows !== g.rows || found.components !== g.samples) {
    throw new CorruptPixelDataError(`the ${what} codestream is ${found.columns}x${found.rows} with ${found.components} component(s), but the dataset says ${g.columns}x${g.rows} with ${g.samples} sample(s) per pixel`)
  }
}

/** Checks a decoded buffer's length and copies it out of codec memory. */
export function decodedBytes (what: string, g: FrameGeometry, bytes: Uint8Array): Uint8Array {
  const expected = frameByteLength(g)
  if (bytes.length !== expected) {
    throw new CorruptPixelDataError(`the ${what} decoder produced ${bytes.length} bytes, but ${g.columns}x${g.rows}x${g.samples} samples of ${g.bitsAllocated} bits are ${expected} bytes`)
  }
  return bytes.slice()
}
