/**
 * 8-bit greyscale or RGB pixels to a JPEG baseline file (ISO/IEC 10918-1 baseline sequential,
 * Huffman, 4:4:4: the process PS3.18 §8.7.4 requires of rendered image/jpeg), with jpeg-js.
 * Pure JavaScript on purpose: the encoder in the libjpeg-turbo WASM build sizes its output
 * buffer to the raw input and writes past it when the JPEG comes out larger (small or noisy
 * images), which inside WASM memory corrupts the heap silently instead of failing.
 */
import jpeg from 'jpeg-js'

export function encodeJpeg (pixels: Uint8Array, columns: number, rows: number, channels: 1 | 3, quality = 90): Uint8Array {
  if (pixels.length !== columns * rows * channels) throw new RangeError(`encodeJpeg: ${pixels.length} bytes for ${columns}x${rows}x${channels}`)
  if (!(quality >= 1 && quality <= 100)) throw new RangeError(`encodeJpeg: quality 1..100 expected, got ${quality}`)
  const count = columns * rows
  const rgba = Buffer.alloc(count * 4, 255)
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = pixels[i * channels + (channels === 1 ? 0 : c)]!
  }
  const encoded = jpeg.encode({ data: rgba, width: columns, height: rows }, quality).data
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength)
}
