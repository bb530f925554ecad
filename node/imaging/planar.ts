/** Planar (R plane, G plane, B plane) to interleaved (RGBRGB...) samples, for 8- or 16-bit samples. */
import type { FrameGeometry } from './geometry.ts'

export function interleave (planar: Uint8Array, g: Pick<FrameGeometry, 'rows' | 'columns' | 'samples' | 'bitsAllocated'>): Uint8Array {
  const width = g.bitsAllocated / 8
  const count = g.rows * g.columns
  const out = new Uint8Array(planar.length)
  for (let s = 0; s < g.samples; s++) {
    for (let i = 0; i < count; i++) {
      for (let b = 0; b < width; b++) out[(i * g.samples + s) * width + b] = planar[(s * count + i) * width + b]!
    }
  }
  return out
}
