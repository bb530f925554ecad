/**
 * The frames of /peerpacs/blocks on a libp2p stream (wire.ts): a varint-length-prefixed reader
 * with a largest frame, a bound on unread bytes and a timeout per read, and a writer that sends
 * a frame in parts (a 5-byte header, then a 1 MiB block as it came from disk, never copied
 * together) and waits for the stream to drain when the muxer is full, so a slow receiver holds
 * up its sender instead of filling memory. Failures are one typed error whose `reason` tells a
 * peer's misbehaviour (too-large, overflow) from a plain network failure.
 */
import type { Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { PeerpacsError } from '../../../protocol/errors.ts'
import { encodeVarint } from '../../../protocol/wire/blocks.ts'

export type FrameFailure = 'timeout' | 'too-large' | 'malformed' | 'overflow' | 'ended' | 'closed' | 'aborted'

export class FrameStreamError extends PeerpacsError {
  static readonly code = 'BLOCKS_STREAM'
  readonly reason: FrameFailure
  constructor (reason: FrameFailure, message: string, options: { cause?: unknown } = {}) {
    super(FrameStreamError.code, message, options)
    this.reason = reason
  }

  /** The peer broke a limit of the protocol (as opposed to going away or being slow). */
  get violation (): boolean { return this.reason === 'too-large' || this.reason === 'malformed' || this.reason === 'overflow' }
}

export interface FrameStream {
  /** The next frame, or undefined when the peer ended its side cleanly. */
  read (timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | undefined>
  /** Sends the parts as one frame; resolves once the stream can take more. */
  write (parts: readonly Uint8Array[], timeoutMs: number, signal?: AbortSignal): Promise<void>
  readonly stream: Stream
}

export interface FrameLimits {
  /** Largest frame body this side accepts. */
  readonly maxFrameBytes: number
  /** Largest number of received bytes waiting to be read before the stream is reset. */
  readonly maxUnreadBytes: number
}

function signalFor (timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal])
}

export function frameStream (stream: Stream, limits: FrameLimits): FrameStream {
  const bytes = byteStream(stream, { maxBufferSize: limits.maxUnreadBytes })
  const maxPrefixBytes = encodeVarint(limits.maxFrameBytes).length
  let overflowed = false
  stream.addEventListener('close', (event) => {
    if ((event as { error?: Error }).error?.name === 'StreamBufferError') overflowed = true
  }, { once: true })

  const failure = (cause: unknown, timeoutMs: number, signal: AbortSignal | undefined, doing: string): FrameStreamError => {
    if (cause instanceof FrameStreamError) return cause
    const name = (cause as Error)?.name
    if (overflowed || name === 'StreamBufferError') {
      return new FrameStreamError('overflow', `more than ${limits.maxUnreadBytes} bytes arrived unasked`, { cause })
    }
    if (signal?.aborted === true) return new FrameStreamError('aborted', `${doing} was cancelled`, { cause })
    if (name === 'TimeoutError' || name === 'AbortError') return new FrameStreamError('timeout', `${doing}: nothing within ${timeoutMs} ms`, { cause })
    if (name === 'UnexpectedEOFError') return new FrameStreamError('ended', 'the stream ended in the middle of a frame', { cause })
    return new FrameStreamError('closed', `${doing} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause })
  }

  const readFrame = async (signal: AbortSignal): Promise<Uint8Array | undefined> => {
    let length = 0
    for (let i = 0; ; i++) {
      let next
      try {
        next = await bytes.read({ bytes: 1, signal })
      } catch (cause) {
        // Ended (not reset) between frames: the peer has nothing more to say.
        if (i === 0 && (cause as Error)?.name === 'UnexpectedEOFError' && stream.status !== 'reset' && stream.status !== 'aborted') return undefined
        throw cause
      }
      const byte = next.get(0)
      if (i > 0 && byte === 0) throw new FrameStreamError('malformed', 'a frame length was not minimally encoded')
      length += (byte & 0x7f) * 2 ** (7 * i)
      if (length > limits.maxFrameBytes || (i + 1 === maxPrefixBytes && (byte & 0x80) !== 0)) {
        throw new FrameStreamError('too-large', `a frame longer than the ${limits.maxFrameBytes} bytes allowed was announced`)
      }
      if ((byte & 0x80) === 0) break
    }
    if (length === 0) return new Uint8Array(0)
    return (await bytes.read({ bytes: length, signal })).subarray()
  }

  return {
    stream,
    read: async (timeoutMs, signal) => {
      const combined = signalFor(timeoutMs, signal)
      try {
        return await readFrame(combined)
      } catch (cause) {
        throw failure(cause, timeoutMs, signal, 'reading a frame')
      }
    },
    write: async (parts, timeoutMs, signal) => {
      try {
        let length = 0
        for (const part of parts) length += part.length
        let more = stream.send(encodeVarint(length))
        for (const part of parts) more = stream.send(part) && more
        if (!more) await stream.onDrain({ signal: signalFor(timeoutMs, signal) })
      } catch (cause) {
        throw failure(cause, timeoutMs, signal, 'sending a frame')
      }
    }
  }
}
