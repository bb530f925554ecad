/**
 * The RLE Lossless decoder (PS3.5 Annex G): the PackBits vector of Apple's TN1023, byte planes
 * most significant first into little-endian samples, planes of colour interleaved, round trips
 * with the synthetic encoder, and a table of damaged frames, each refused with what was wrong.
 * (dcmtk-made RLE frames are checked in decoders.test.ts.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CorruptPixelDataError } from '../../../../node/imaging/errors.ts'
import type { FrameGeometry } from '../../../../node/imaging/geometry.ts'
import { decodeRle } from '../../../../node/imaging/rle.ts'
import { encodeRleFrame } from '../../../synthetic/rle.ts'

function frame (segments: number[][], offsets?: number[]): Uint8Array {
  const header = new Uint8Array(64)
  const view = new DataView(header.buffer)
  view.setUint32(0, segments.length, true)
  let at = 64
  segments.forEach((s, i) => { view.setUint32(4 + 4 * i, offsets?.[i] ?? at, true); at += s.length })
  return Uint8Array.from([...header, ...segments.flat()])
}

const mono8 = (rows: number, columns: number): FrameGeometry => ({ rows, columns, samples: 1, bitsAllocated: 8, signed: false, photometric: 'MONOCHROME2' })

test('TN1023 PackBits vector', () => {
  const packed = [0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa]
  const expected = [0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22, ...Array(10).fill(0xaa)]
  assert.deepEqual([...decodeRle(frame([packed]), mono8(1, 24)).bytes], expected)
  // -128 is a no-op wherever it stands.
  assert.deepEqual([...decodeRle(frame([[0x80, ...packed, 0x80]]), mono8(2, 12)).bytes], expected)
})

test('16-bit samples: the most significant plane first, little-endian out; colour planes interleaved', () => {
  const g16: FrameGeometry = { ...mono8(1, 3), bitsAllocated: 16 }
  assert.deepEqual([...decodeRle(frame([[0x02, 0x01, 0x02, 0x03], [0x02, 0xa1, 0xa2, 0xa3]]), g16).bytes], [0xa1, 0x01, 0xa2, 0x02, 0xa3, 0x03])
  const rgb: FrameGeometry = { ...mono8(1, 2), samples: 3, photometric: 'RGB' }
  assert.deepEqual([...decodeRle(frame([[0xff, 0x10], [0xff, 0x20], [0x01, 0x30, 0x31]]), rgb).bytes], [0x10, 0x20, 0x30, 0x10, 0x20, 0x31])
})

test('round trips with the synthetic encoder, 8 and 16 bits, grey and colour, odd sizes', () => {
  for (const [rows, columns, samples, bits] of [[7, 5, 1, 8], [9, 300, 1, 16], [16, 17, 3, 8], [3, 129, 3, 16]] as const) {
    const width = bits / 8
    const pixels = Uint8Array.from({ length: rows * columns * samples * width }, (_, i) => (Math.floor(i / (6 * samples * width)) * 37 + (i % (samples * width)) * 11) & 0xff)
    const encoded = encodeRleFrame({ rows, columns, samplesPerPixel: samples, bitsAllocated: bits, pixels })
    const g: FrameGeometry = { rows, columns, samples, bitsAllocated: bits, signed: false, photometric: samples === 1 ? 'MONOCHROME2' : 'RGB' }
    assert.ok(Buffer.from(decodeRle(encoded, g).bytes).equals(Buffer.from(pixels)), `${rows}x${columns}x${samples}x${bits}`)
  }
})

test('damaged frames are refused with what was wrong', () => {
  const g = mono8(2, 2)
  const good = [0x03, 1, 2, 3, 4]
  const cases: Array<[string, Uint8Array, FrameGeometry, RegExp]> = [
    ['shorter than the header', new Uint8Array(63), g, /64-byte header/],
    ['segment count for another bit depth', frame([good, good]), g, /lists 2 segment\(s\); 1 sample\(s\) of 8 bits need 1/],
    ['no segments', frame([]), g, /lists 0 segment/],
    ['offset inside the header', frame([good], [12]), g, /starts at byte 12/],
    ['offset past the end', frame([good], [4000]), g, /starts at byte 4000/],
    ['offsets going backwards', frame([good, good], [69, 64]), { ...g, bitsAllocated: 16 }, /segment 2 starts at byte 64/],
    ['literal past the segment', frame([[0x05, 1, 2]]), g, /literal run of 6 bytes .* end of the segment/],
    ['literal past the plane', frame([[0x05, 1, 2, 3, 4, 5, 6]]), g, /literal run of 6 bytes .* end of the byte plane/],
    ['repeat past the plane', frame([[0xfb, 7]]), g, /repeat run of 6 bytes .* end of the byte plane/],
    ['repeat with no byte to repeat', frame([[0x01, 1, 2, 0xff]]), g, /repeat run of 2 bytes .* end of the segment/],
    ['segment too short', frame([[0x01, 1, 2]]), g, /decodes to 2 bytes; 2x2 needs 4/]
  ]
  for (const [name, bytes, geometry, message] of cases) {
    assert.throws(() => decodeRle(bytes, geometry), (e: unknown) => {
      assert.ok(e instanceof CorruptPixelDataError, name)
      assert.equal(e.code, 'PIXEL_DATA_CORRUPT')
      assert.match(e.message, message, name)
      return true
    }, name)
  }
  // Bytes after a complete plane (padding) are ignored.
  assert.deepEqual([...decodeRle(frame([[...good, 0, 0]]), g).bytes], [1, 2, 3, 4])
})
