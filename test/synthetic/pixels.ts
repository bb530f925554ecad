// Synthetic pixel frames: smooth-ish seeded content that looks a little like an image (so
// compression and rendering behave plausibly), each frame starting with KNOWN_PIXEL_PATTERN
// so tests can prove that stored or transmitted bytes are not plaintext pixels.

import type { Prng } from './prng.ts';

const MARKER = 'PEERPACS-PIXEL-MARKER';

/**
 * 64 fixed bytes that begin every uncompressed synthetic frame: the ASCII text
 * "PEERPACS-PIXEL-MARKER" repeated and XORed with (0x3B + 0x9D·i) mod 256, so it is neither
 * readable text nor a run a compressor or a zero-filled buffer could produce by chance.
 * Treat it as read-only.
 */
export const KNOWN_PIXEL_PATTERN: Uint8Array = Uint8Array.from(
  { length: 64 },
  (_, i) => MARKER.charCodeAt(i % MARKER.length) ^ ((0x3b + 0x9d * i) & 0xff),
);

export type FrameSpec = {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: 8 | 16;
  /** Range of the smooth content, in stored pixel values. */
  low: number;
  high: number;
  /** Amplitude of the per-pixel noise added to the smooth content. */
  noise: number;
  /** If set, pixels outside a centred ellipse take this value (air around a body, a sector's edge). */
  background?: number;
  /**
   * The frame will be written as OW in Explicit VR Big Endian, which swaps each 16-bit word;
   * the pattern is pre-swapped here so that the *file* still carries it verbatim.
   */
  bigEndianFile?: boolean;
};

const GRID = 8; // control points per axis, interpolated bilinearly: smooth, but not flat

/** One frame of native pixel bytes: little endian, samples interleaved. */
export function syntheticFrame(rng: Prng, spec: FrameSpec): Uint8Array {
  const { rows, columns, samplesPerPixel: spp, bitsAllocated, low, high, noise, background } = spec;
  const bytes = bitsAllocated / 8;
  const out = new Uint8Array(rows * columns * spp * bytes);
  if (out.length < KNOWN_PIXEL_PATTERN.length) throw new RangeError(`frame of ${out.length} bytes cannot hold the ${KNOWN_PIXEL_PATTERN.length}-byte pixel pattern`);
  const max = 2 ** bitsAllocated - 1;
  const span = 2 * noise + 1;
  // Per-column grid cell and weight, computed once: the inner loop is the hot path for 512x512 series.
  const cell = new Int32Array(columns);
  const weight = new Float64Array(columns);
  for (let x = 0; x < columns; x++) {
    const fx = (x * GRID) / Math.max(1, columns - 1);
    cell[x] = Math.min(GRID - 1, Math.floor(fx));
    weight[x] = fx - cell[x]!;
  }
  const line = new Float64Array(GRID + 1);
  for (let s = 0; s < spp; s++) {
    const grid = Float64Array.from({ length: (GRID + 1) ** 2 }, () => low + rng.float() * (high - low));
    for (let y = 0; y < rows; y++) {
      const fy = (y * GRID) / Math.max(1, rows - 1);
      const gy = Math.min(GRID - 1, Math.floor(fy));
      const ty = fy - gy;
      for (let i = 0; i <= GRID; i++) line[i] = grid[gy * (GRID + 1) + i]! * (1 - ty) + grid[(gy + 1) * (GRID + 1) + i]! * ty;
      const dy = (2 * y) / rows - 1;
      for (let x = 0; x < columns; x++) {
        const gx = cell[x]!;
        let v = line[gx]! + (line[gx + 1]! - line[gx]!) * weight[x]! + (((rng.nextU32() & 0xffff) % span) - noise);
        const dx = (2 * x) / columns - 1;
        if (background !== undefined && dx * dx + dy * dy > 0.9) v = background;
        v = Math.min(max, Math.max(0, Math.round(v)));
        const o = ((y * columns + x) * spp + s) * bytes;
        out[o] = v & 0xff;
        if (bytes === 2) out[o + 1] = v >>> 8;
      }
    }
  }
  out.set(spec.bigEndianFile && bytes === 2 ? swap16(KNOWN_PIXEL_PATTERN) : KNOWN_PIXEL_PATTERN, 0);
  return out;
}

export function swap16(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) { out[i] = bytes[i + 1]!; out[i + 1] = bytes[i]!; }
  return out;
}
