// RLE Lossless encoder for one frame (DICOM PS3.5 Annex G), so the synthetic set holds a
// compressed instance whose decoded pixels are known exactly.
//
// A frame is a 64-byte header (segment count, then 15 segment offsets, all uint32 LE) and one
// segment per byte plane: for each sample in turn (R, G, B for colour), its most significant
// byte first. Each segment is PackBits: a header byte n in 0..127 copies the next n+1 bytes,
// n in -1..-127 repeats the next byte 1-n times. Rows are encoded separately (G.3.1: a run
// never crosses a row boundary) and each segment is padded to an even length.

export type RleFrameInput = {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: 8 | 16;
  /** Native pixel bytes: little endian, samples interleaved (PlanarConfiguration 0). */
  pixels: Uint8Array;
};

const MAX_SEGMENTS = 15;

export function encodeRleFrame(input: RleFrameInput): Uint8Array {
  const { rows, columns, samplesPerPixel, bitsAllocated, pixels } = input;
  const bytesPerSample = bitsAllocated / 8;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw new RangeError(`RLE: bitsAllocated 8 or 16 expected, got ${bitsAllocated}`);
  if (![rows, columns, samplesPerPixel].every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(`RLE: positive integer rows, columns and samplesPerPixel expected, got ${rows}, ${columns}, ${samplesPerPixel}`);
  }
  const segmentCount = samplesPerPixel * bytesPerSample;
  if (segmentCount > MAX_SEGMENTS) throw new RangeError(`RLE: at most ${MAX_SEGMENTS} byte planes, got ${segmentCount}`);
  const expected = rows * columns * samplesPerPixel * bytesPerSample;
  if (pixels.length !== expected) throw new RangeError(`RLE: ${expected} pixel bytes expected for ${rows}x${columns}x${samplesPerPixel}x${bitsAllocated}, got ${pixels.length}`);

  const segments: Uint8Array[] = [];
  const stride = samplesPerPixel * bytesPerSample;
  const plane = new Uint8Array(rows * columns);
  for (let sample = 0; sample < samplesPerPixel; sample++) {
    for (let b = bytesPerSample - 1; b >= 0; b--) { // most significant byte first; input is LE
      const offset = sample * bytesPerSample + b;
      for (let p = 0; p < plane.length; p++) plane[p] = pixels[p * stride + offset]!;
      segments.push(packBitsRows(plane, rows, columns));
    }
  }

  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let at = header.length;
  segments.forEach((seg, i) => { view.setUint32(4 + 4 * i, at, true); at += seg.length; });
  const out = new Uint8Array(at);
  out.set(header);
  let pos = header.length;
  for (const seg of segments) { out.set(seg, pos); pos += seg.length; }
  return out;
}

/** PackBits over each row of a byte plane; the result is padded to an even length. */
function packBitsRows(plane: Uint8Array, rows: number, columns: number): Uint8Array {
  // Worst case is not all literals but a one-byte literal before each two-byte run (x y y x y y:
  // 4 bytes for 3), or a lone byte at a row's end (2 for 1): two bytes per byte bounds it, plus the pad.
  const out = new Uint8Array(rows * columns * 2 + 1);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const row = plane.subarray(r * columns, (r + 1) * columns);
    let i = 0;
    while (i < row.length) {
      let run = 1;
      while (i + run < row.length && run < 128 && row[i + run] === row[i]) run++;
      if (run >= 2) {
        out[o++] = 257 - run; // two's complement of -(run - 1)
        out[o++] = row[i]!;
        i += run;
        continue;
      }
      // Literal: extend until a repeated pair starts, which the next pass encodes as a run.
      const start = i++;
      while (i < row.length && i - start < 128 && !(i + 1 < row.length && row[i] === row[i + 1])) i++;
      out[o++] = i - start - 1;
      out.set(row.subarray(start, i), o);
      o += i - start;
    }
  }
  if (o % 2 !== 0) out[o++] = 0;
  return out.slice(0, o);
}
