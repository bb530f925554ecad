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

/** yamux's largest stream window (16 MiB) plus a frame or two of slack. */
const MAX_UNREAD_BYTES = 20 << 20

export function framed (stream: Stream, options: { maxFrameBytes: number, readTimeoutMs: number }): Framed {
  // Unread bytes held per stream: yamux lets a sender have up to its largest window (16 MiB)
  // unacknowledged, so a paused reader may still receive that much; beyond it, the sender waits.
  const lp = lpStream(stream, { maxDataLength: options.maxFrameBytes, maxBufferSize: MAX_UNREAD_BYTES })
  return {
    stream,
    read: async () => {
      try {
        // Between reads the stream is paused, so the muxer stops granting the sender window: a
        // reader busy with a frame (verifying a batch of ops) holds its sender up, instead of
        // letting unread bytes pile up past the byte stream's buffer (it was 4 MiB, below yamux's
        // 16 MiB window: "Read buffer overflow" ended a 100k-instance catch-up at its ~1,945th op).
        resume(stream)
        const frame = (await lp.read({ signal: AbortSignal.timeout(options.readTimeoutMs) })).subarray()
        pause(stream)
        return frame
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

function pause (stream: Stream): void {
  if (stream.readStatus === 'readable') stream.pause()
}

function resume (stream: Stream): void {
  if (stream.readStatus === 'paused') stream.resume()
}
