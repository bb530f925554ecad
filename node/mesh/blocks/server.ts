/**
 * The serving side of /peerpacs/blocks/1.0.0 (wire.ts): a libp2p stream handler that answers a
 * peer's requests, several per stream and in order, with blocks read from the blob store one at
 * a time. It sends a block only when the stream can take it (the muxer's window), so a slow
 * receiver costs one block of memory, not the object. What it will not serve it says so
 * (NOT_HELD, REFUSED); what breaks the protocol (garbage, an oversized frame, requests piled far
 * ahead) is reported as a violation and the stream is reset — the node goes on serving others.
 *
 * Register it with a bound on streams per connection, e.g.
 *   host.handle(BLOCKS_PROTOCOL, handleBlocks(ctx), { maxInboundStreams: 8 })
 */
import type { PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { blockCount, BLOCK_SIZE, type BlobId } from '../../../protocol/blob-id.ts'
import { concatBytes, equalBytes } from '../../../protocol/bytes.ts'
import type { CryptoProvider } from '../../../protocol/crypto-provider.ts'
import type { BlobInfo } from '../../../protocol/log/body-content.ts'
import { silentLogger, type Logger } from '../../logging/logger.ts'
import type { BlobStore } from '../../store/blob-store.ts'
import { FrameStreamError, frameStream, type FrameStream } from './frame-stream.ts'
import {
  BlocksProtocolError, decodeRequest, encodeBlockHeader, encodeError, encodeNotHeld, encodeRefused,
  encodeVarint, MAX_REQUEST_FRAME, MAX_UNREAD_REQUEST_BYTES, REQUEST_IDLE_TIMEOUT_MS, SEND_TIMEOUT_MS, type BlocksRequest
} from '../../../protocol/wire/blocks.ts'

export interface BlocksServerContext {
  readonly blobs: BlobStore
  /** Whether `peer` may receive `blob` (the log's permissions decide). */
  readonly may: (peer: PeerId, blob: BlobId) => boolean
  /** Called once per stream that broke the protocol, with what it did. */
  readonly onViolation: (peer: PeerId, reason: string) => void
  readonly log?: Logger
  /**
   * Optional: the signed record of a blob, to check each block before it is sent (invariant 5:
   * a damaged stored block is answered with ERROR unavailable, never served). Needs `provider`.
   */
  readonly digestOf?: (blob: BlobId) => BlobInfo | undefined | Promise<BlobInfo | undefined>
  readonly provider?: CryptoProvider
  /**
   * Optional: a blob this node should hold (digestOf knows it) turned out missing, unreadable or
   * damaged while serving it; the node sets it aside and fetches it again from its peers.
   */
  readonly onDamaged?: (blob: BlobId, reason: string) => void
  readonly idleTimeoutMs?: number
  readonly sendTimeoutMs?: number
}

/** The request could not be served and the stream should end (after the ERROR frame sent). */
class StopServing extends Error {}

export function handleBlocks (ctx: BlocksServerContext): StreamHandler {
  const log = ctx.log ?? silentLogger
  const idleTimeoutMs = ctx.idleTimeoutMs ?? REQUEST_IDLE_TIMEOUT_MS
  const sendTimeoutMs = ctx.sendTimeoutMs ?? SEND_TIMEOUT_MS
  if (ctx.digestOf !== undefined && ctx.provider === undefined) throw new TypeError('handleBlocks: digestOf needs a provider to check blocks with')

  const serve = async (frames: FrameStream, peer: PeerId, request: BlocksRequest): Promise<void> => {
    const send = async (...parts: Uint8Array[]): Promise<void> => { await frames.write(parts, sendTimeoutMs) }
    const { blob, indexes } = request
    let allowed = false
    try {
      allowed = ctx.may(peer, blob)
    } catch (error) {
      log.error('blocks.may-failed', { peer: peer.toString(), blob, error: (error as Error).message })
    }
    if (!allowed) { await send(encodeRefused(blob)); return }
    const size = await ctx.blobs.size(blob)
    const damagedHere = (reason: string): void => { try { ctx.onDamaged?.(blob, reason) } catch {} }
    if (size === undefined) {
      if (ctx.digestOf !== undefined && await ctx.digestOf(blob) !== undefined) damagedHere('the blob file is missing')
      await send(encodeNotHeld(blob))
      return
    }
    const count = blockCount(size, BLOCK_SIZE)
    const last = indexes[indexes.length - 1]!
    if (last >= count) {
      // Not a violation: a damaged (short) stored copy would make an honest request look like this.
      await send(encodeError('out-of-range', `block ${last} asked for; blob ${blob} has ${count} blocks (${size} bytes) here`))
      throw new StopServing()
    }
    const digest = ctx.digestOf === undefined ? undefined : await ctx.digestOf(blob)
    for (const index of indexes) {
      const start = index * BLOCK_SIZE
      const end = Math.min(size, start + BLOCK_SIZE)
      const parts: Uint8Array[] = []
      let length = 0
      try {
        for await (const chunk of ctx.blobs.read(blob, { start, end })) { parts.push(chunk); length += chunk.length }
      } catch (error) {
        log.warn('blocks.read-failed', { peer: peer.toString(), blob, index, error: (error as Error).message })
        damagedHere(`block ${index} could not be read`)
        await send(encodeError('unavailable', `block ${index} of blob ${blob} could not be read here`))
        throw new StopServing()
      }
      const damaged = length !== end - start || (digest !== undefined && !matches(ctx.provider!, digest, index, parts))
      if (damaged) {
        log.error('blocks.stored-block-damaged', { blob, index, length, expected: end - start })
        damagedHere(`block ${index} does not match its hash`)
        await send(encodeError('unavailable', `block ${index} of blob ${blob} is damaged here`))
        throw new StopServing()
      }
      await send(encodeBlockHeader(index), ...parts)
    }
  }

  return async (stream: Stream, connection) => {
    const peer = connection.remotePeer
    const frames = frameStream(stream, { maxFrameBytes: MAX_REQUEST_FRAME, maxUnreadBytes: MAX_UNREAD_REQUEST_BYTES })
    try {
      for (;;) {
        const frame = await frames.read(idleTimeoutMs)
        if (frame === undefined) break
        await serve(frames, peer, decodeRequest(frame))
      }
      await stream.close()
    } catch (error) {
      if (error instanceof StopServing) {
        await stream.close().catch(() => stream.abort(error))
        return
      }
      const violation = error instanceof BlocksProtocolError || (error instanceof FrameStreamError && error.violation)
      if (violation) {
        const reason = (error as Error).message
        log.warn('blocks.violation', { peer: peer.toString(), reason })
        try { ctx.onViolation(peer, reason) } catch {}
        // Best effort: say why before the reset (a peer that does not read never sees it).
        if (error instanceof BlocksProtocolError) {
          const body = encodeError('bad-request', reason)
          try { stream.send(concatBytes(encodeVarint(body.length), body)) } catch {}
        }
        stream.abort(error as Error)
        return
      }
      if (error instanceof FrameStreamError && error.reason === 'timeout') {
        log.debug('blocks.idle', { peer: peer.toString() })
        await stream.close().catch(() => stream.abort(error))
        return
      }
      log.debug('blocks.stream-ended', { peer: peer.toString(), error: (error as Error).message })
      stream.abort(error as Error)
    }
  }
}

/** Whether the block read in `parts` hashes to the digest's entry for `index`. */
function matches (provider: CryptoProvider, digest: BlobInfo, index: number, parts: readonly Uint8Array[]): boolean {
  if (digest.blockSize !== BLOCK_SIZE || (index + 1) * 32 > digest.blockHashes.length) return false
  const hasher = provider.createSha256()
  for (const part of parts) hasher.update(part)
  return equalBytes(hasher.digest(), digest.blockHashes.subarray(index * 32, index * 32 + 32))
}
