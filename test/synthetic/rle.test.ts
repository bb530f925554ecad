// The RLE Lossless encoder, judged by dcmtk's decoder: frames with long runs, long literals,
// row-end stragglers, 16-bit and colour, each decoded by dcmdrle back to the exact input.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRleFrame, type RleFrameInput } from './rle.ts';
import { writePart10, TRANSFER_SYNTAX as TS, type DicomElement } from './part10-writer.ts';
import { Prng } from './prng.ts';
import { dcmdrlePixels, tempDir } from './dcmtk.ts';

const tmp = tempDir();
after(tmp.remove);

// Rows that stress PackBits boundaries: runs longer than 128, literals longer than 128,
// pairs, a lone byte at a row's end, noise.
function trickyPixels(rows: number, columns: number, sampleBytes: number): Uint8Array {
  const rng = new Prng(7);
  const n = columns * sampleBytes;
  const out = new Uint8Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      const kind = r % 5;
      out[r * n + i] = kind === 0 ? 0x42
        : kind === 1 ? i % 256
          : kind === 2 ? Math.floor(i / 2) % 7
            : kind === 3 ? (i === n - 1 ? 9 : 3)
              : rng.int(0, 255);
    }
  }
  return out;
}

function rleFile(frame: RleFrameInput): Uint8Array {
  const { rows, columns, samplesPerPixel: spp, bitsAllocated: bits } = frame;
  const e = (tag: number, vr: string, value: DicomElement['value']): DicomElement => ({ tag, vr, value });
  return writePart10({
    sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '2.25.42', transferSyntaxUid: TS.rleLossless,
    elements: [
      e(0x0008_0016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), e(0x0008_0018, 'UI', '2.25.42'),
      e(0x0028_0002, 'US', [spp]), e(0x0028_0004, 'CS', spp === 3 ? 'RGB' : 'MONOCHROME2'),
      ...(spp === 3 ? [e(0x0028_0006, 'US', [0])] : []),
      e(0x0028_0010, 'US', [rows]), e(0x0028_0011, 'US', [columns]),
      e(0x0028_0100, 'US', [bits]), e(0x0028_0101, 'US', [bits]), e(0x0028_0102, 'US', [bits - 1]), e(0x0028_0103, 'US', [0]),
    ],
    encapsulatedFrames: [encodeRleFrame(frame)],
  });
}

const CASES: [string, RleFrameInput][] = [
  ['8-bit mono, 300 columns', { rows: 10, columns: 300, samplesPerPixel: 1, bitsAllocated: 8, pixels: trickyPixels(10, 300, 1) }],
  ['16-bit mono, odd size', { rows: 7, columns: 129, samplesPerPixel: 1, bitsAllocated: 16, pixels: trickyPixels(7, 129, 2) }],
  ['8-bit RGB', { rows: 6, columns: 33, samplesPerPixel: 3, bitsAllocated: 8, pixels: trickyPixels(6, 33, 3) }],
  ['16-bit RGB (6 segments)', { rows: 5, columns: 20, samplesPerPixel: 3, bitsAllocated: 16, pixels: trickyPixels(5, 20, 6) }],
  ['1x1', { rows: 1, columns: 1, samplesPerPixel: 1, bitsAllocated: 8, pixels: new Uint8Array([200]) }],
  // PackBits' worst case (a lone literal before each pair: 4 bytes for 3) overran the output buffer.
  ['literal-pair rows (x y y ...)', { rows: 4, columns: 300, samplesPerPixel: 1, bitsAllocated: 8, pixels: Uint8Array.from({ length: 1200 }, (_, i) => i % 3 === 0 ? (i * 7) % 256 : 0x55) }],
];

for (const [name, frame] of CASES) {
  test(`dcmdrle decodes ${name} to the input pixels`, () => {
    assert.deepEqual(dcmdrlePixels(rleFile(frame), frame.pixels.length, tmp.path), frame.pixels);
  });
}

test('header counts one segment per byte plane, segments are even and in order', () => {
  const [, frame] = CASES[3]!;
  const out = encodeRleFrame(frame);
  const view = new DataView(out.buffer, out.byteOffset);
  assert.equal(view.getUint32(0, true), 6);
  const offsets = Array.from({ length: 15 }, (_, i) => view.getUint32(4 + 4 * i, true));
  assert.equal(offsets[0], 64);
  for (let i = 1; i < 6; i++) assert.ok(offsets[i]! > offsets[i - 1]! && (offsets[i]! - offsets[i - 1]!) % 2 === 0);
  assert.deepEqual(offsets.slice(6), new Array(9).fill(0));
  assert.equal(out.length % 2, 0);
});

test('refuses inputs it cannot encode', () => {
  const ok: RleFrameInput = { rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 8, pixels: new Uint8Array(4) };
  assert.throws(() => encodeRleFrame({ ...ok, pixels: new Uint8Array(5) }), /4 pixel bytes expected.*got 5/);
  assert.throws(() => encodeRleFrame({ ...ok, bitsAllocated: 12 as 8 }), /bitsAllocated 8 or 16/);
  assert.throws(() => encodeRleFrame({ ...ok, rows: 0 }), /positive integer/);
  assert.throws(() => encodeRleFrame({ ...ok, samplesPerPixel: 8, bitsAllocated: 16, pixels: new Uint8Array(64) }), /at most 15/);
});
