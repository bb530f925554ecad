/**
 * The smallest PNG encoder that does the job (ISO/IEC 15948): 8-bit greyscale or RGB, one IDAT,
 * filter type 0 on every row, zlib from node:zlib. Rendered and thumbnail images need nothing more.
 */
import { crc32, deflateSync } from 'node:zlib'

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function chunk (type: string, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'latin1')
  out.set(data, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

/** `pixels`: rows × columns × channels bytes, row by row; channels 1 (grey) or 3 (RGB). */
export function encodePng (pixels: Uint8Array, columns: number, rows: number, channels: 1 | 3): Uint8Array {
  const stride = columns * channels
  if (pixels.length !== stride * rows) throw new RangeError(`encodePng: ${pixels.length} bytes for ${columns}x${rows}x${channels}`)
  const raw = Buffer.alloc((stride + 1) * rows)
  for (let y = 0; y < rows; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1)
  const header = Buffer.alloc(13)
  header.writeUInt32BE(columns, 0)
  header.writeUInt32BE(rows, 4)
  header[8] = 8
  header[9] = channels === 1 ? 0 : 2
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))])
}
