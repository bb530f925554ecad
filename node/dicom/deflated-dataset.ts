/**
 * Inflates the dataset of a file in Deflated Explicit VR Little Endian (PS3.5 A.5): a raw
 * deflate stream (RFC 1951) that must end the file. Two kinds of bytes may follow the end of
 * the stream, and nothing else:
 *  - one NUL that pads an odd-length stream to even length (PS3.5 A.5; dcmtk sends it over
 *    the network);
 *  - the 8-byte gzip trailer (RFC 1952 §2.3: CRC-32 then length mod 2^32 of the inflated
 *    bytes, little endian), left by writers that strip a gzip header but not its trailer,
 *    optionally followed by that NUL pad. It is accepted only when both values match what was
 *    inflated, so it cannot carry anything else.
 * dcmtk ignores whatever follows the end of the stream (dcistrmz.cc: "there may be trailing
 * garbage"); peerpacs accepts only what is explainable, and the file is stored as it came.
 */
import { crc32, inflateRawSync } from 'node:zlib'
import { InvalidDicomError } from './errors.ts'

const GZIP_TRAILER = 8

export interface Inflated {
  readonly dataset: Uint8Array
  /** What followed the deflate stream, accepted: nothing, a pad byte, a gzip trailer (and pad). */
  readonly trailer: 'none' | 'pad' | 'gzip'
}

function isPad (bytes: Uint8Array, streamEnd: number): boolean {
  return bytes.length === 1 && bytes[0] === 0 && streamEnd % 2 === 1
}

function isGzipTrailer (bytes: Uint8Array, dataset: Uint8Array): boolean {
  if (bytes.length !== GZIP_TRAILER) return false
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return view.getUint32(0, true) === crc32(dataset) && view.getUint32(4, true) === dataset.length % 2 ** 32
}

/** Inflates `compressed` (everything after the file meta) to at most `maxOutput` bytes. */
export function inflateDataset (compressed: Uint8Array, maxOutput: number): Inflated {
  let dataset: Uint8Array
  let consumed: number
  try {
    const { buffer, engine } = inflateRawSync(compressed, { maxOutputLength: maxOutput, info: true }) as unknown as { buffer: Buffer, engine: { bytesWritten: number } }
    dataset = buffer
    consumed = engine.bytesWritten
  } catch (cause) {
    throw new InvalidDicomError(`deflated dataset does not inflate: ${(cause as Error).message}`, { cause })
  }
  const rest = compressed.subarray(consumed)
  if (rest.length === 0) return { dataset, trailer: 'none' }
  if (isPad(rest, consumed)) return { dataset, trailer: 'pad' }
  const trailer = rest.subarray(0, GZIP_TRAILER)
  if (isGzipTrailer(trailer, dataset) && (rest.length === GZIP_TRAILER || isPad(rest.subarray(GZIP_TRAILER), consumed + GZIP_TRAILER))) {
    return { dataset, trailer: 'gzip' }
  }
  const why = rest.length === GZIP_TRAILER || rest.length === GZIP_TRAILER + 1
    ? '; they are not a gzip trailer (CRC-32 and length of the inflated dataset)'
    : ''
  throw new InvalidDicomError(`${rest.length} bytes follow the end of the deflated dataset (trailing garbage${why}); only a pad byte or a gzip trailer may follow it`)
}
