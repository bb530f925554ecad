/**
 * Length-prefixed frames over a libp2p stream, with the two limits every peerpacs protocol
 * needs: a largest frame (an announced length above it ends the stream before anything is
 * buffered) and a timeout on each read, so a silent or trickling peer cannot hold a stream open.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { PeerpacsError } from '../../protocol/errors.ts'

export class FrameError extends PeerpacsError {
  static readonly code = 'MESH_FRAME'
  constructor (message: string, options: { cause?: unknown } = {}) { super(FrameError.code, message, options) }
}

export interface Framed {
  /** The next frame; throws FrameError on timeout, oversize, or end of stream. */
  read (): Promise<Uint8Array>
  write (frame: Uint8Array): Promise<void>
  readonly stream: Stream
}

/** Most unread bytes a framed stream holds before it fails (the library's default is 4 MiB). */
const MAX_UNREAD_BYTES = 20 << 20

export function framed (stream: Stream, options: { maxFrameBytes: number, readTimeoutMs: number }): Framed {
  // Unread bytes held per stream. A reader busy with a frame (a site verifying a batch of ops)
  // keeps receiving what the sender writes meanwhile; the library's 4 MiB ("Read buffer
  // overflow", taken for a violation) ended a 100k-instance catch-up at its ~1,945th op. Pausing
  // the stream between reads did not hold yamux's sender up (tried): log sync needs flow
  // control of its own for catch-ups larger than this (docs/scale.md).
  const lp = lpStream(stream, { maxDataLength: options.maxFrameBytes, maxBufferSize: MAX_UNREAD_BYTES })
  return {
    stream,
    read: async () => {
      try {
        return (await lp.read({ signal: AbortSignal.timeout(options.readTimeoutMs) })).subarray()
      } catch (cause) {
        const name = (cause as Error).name
        if (name === 'TimeoutError' || name === 'AbortError') throw new FrameError(`no frame within ${options.readTimeoutMs} ms`, { cause })
        if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'InvalidMessageLengthError') {
          throw new FrameError(`a frame over the limit of ${options.maxFrameBytes} bytes was announced`, { cause })
        }
        if (name === 'UnexpectedEOFError') throw new FrameError('the stream ended in the middle of the exchange', { cause })
        throw new FrameError(`reading a frame failed: ${(cause as Error).message}`, { cause })
      }
    },
    write: async (frame) => {
      await lp.write(frame, { signal: AbortSignal.timeout(options.readTimeoutMs) })
    }
  }
}

