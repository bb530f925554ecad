/**
 * Errors of the pixel codecs. `UnsupportedPixelDataError`: peerpacs has no decoder for this kind
 * of pixel data (a transfer syntax, a precision, a colour model); the client can still retrieve
 * the frames and decode them itself. `CorruptPixelDataError`: the stored bytes do not decode, or
 * decode to something other than the dataset describes (rows, columns, samples, bits).
 */
import { PeerpacsError, type ErrorOptions } from '../../protocol/errors.ts'

export class UnsupportedPixelDataError extends PeerpacsError {
  static readonly code = 'PIXEL_DATA_UNSUPPORTED'
  constructor (message: string, options?: ErrorOptions) { super(UnsupportedPixelDataError.code, message, options) }
}

export class CorruptPixelDataError extends PeerpacsError {
  static readonly code = 'PIXEL_DATA_CORRUPT'
  constructor (message: string, options?: ErrorOptions) { super(CorruptPixelDataError.code, message, options) }
}

/** The text of whatever a codec threw (emscripten throws numbers and strings too), bounded. */
export function codecMessage (error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'string' ? error : `codec error ${String(error)}`
  return text.length > 200 ? `${text.slice(0, 197)}...` : text
}

/** More frames are waiting to be decoded than the decoder queues; the client may retry shortly. */
export class DecoderBusyError extends PeerpacsError {
  static readonly code = 'DECODER_BUSY'
  constructor (message: string, options?: ErrorOptions) { super(DecoderBusyError.code, message, options) }
}
