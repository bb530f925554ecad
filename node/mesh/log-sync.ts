/**
 * The log sync protocol's sessions (protocol/wire/log-sync.ts is the wire format): a full sync
 * (one round trip: vectors, then each side sends what the other lacks) and a push of new ops.
 * Received ops go through NodeLog.receive, which validates each one as any op is; an op whose
 * bytes are bad (forged, malformed, another org) is a violation: the stream is aborted and the
 * mesh disconnects and reports the peer. Nothing here decides who may connect: the gater did.
 *
 * Over `/peerpacs/log/1.1.0` each hello also carries the sender's tips (the op id at each
 * author's vector seq): an author whose tip differs at a seq both hold has forked, and the
 * side that notices sends every op of that author, so the fork becomes evident on both sides.
 * Over 1.0.0 (older nodes) hellos carry no tips.
 *
 * Over 1.2.0 each ops or push frame is acknowledged once handled, and a sender keeps at most
 * WINDOW_FRAMES unacknowledged: a site verifying a large catch-up holds its sender up, where it
 * used to buffer everything sent meanwhile and fail past the framed stream's bound.
 */
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { decodeLogSync, encodeLogSync, LOG_PROTOCOL, LOG_PROTOCOL_1_0, LogSyncProtocolError, MAX_FRAME_BYTES, packOps, WINDOW_FRAMES, type LogSyncMessage } from '../../protocol/wire/log-sync.ts'
import type { NodeLog, ReceiveResult } from '../log/node-log.ts'
import { FrameError, framed, type Framed } from './frames.ts'

export const LOG_READ_TIMEOUT_MS = 30_000

export interface LogSyncHooks {
  readonly log: NodeLog
  readonly orgId: string
  /** Whether the peer may be sent the log (a site or the backup; see gate.ts). */
  mayRead (peer: PeerId): boolean
  /** After ops from `peer` were validated and journalled. */
  received (peer: PeerId, result: ReceiveResult): void
  /** The peer broke the protocol or sent bad ops: the mesh disconnects and audits it. */
  violation (peer: PeerId, reason: string): void
  /** A full sync with `peer` finished. */
  synced (peer: PeerId, report: SyncReport): void
  /** The peer's hello arrived (before any op moved): what it holds, for checks against this node's own. */
  hello?: (peer: PeerId, hello: PeerHello) => void
}

export interface PeerHello {
  readonly vector: ReadonlyMap<string, number>
  /** Absent over 1.0.0. */
  readonly tips: ReadonlyMap<string, Uint8Array> | undefined
}

export interface SyncReport {
  readonly theirVector: ReadonlyMap<string, number>
  readonly sent: number
  readonly received: number
}

export class LogSyncRefusedError extends Error {
  override name = 'LogSyncRefusedError'
}

async function readMessage (f: Framed): Promise<LogSyncMessage> {
  return decodeLogSync(await f.read())
}

/** This side's flow-control state on one stream (1.2.0); undefined on older streams. */
interface Flow { sent: number, acked: number, handled: number }

function flowOf (stream: Stream): Flow | undefined {
  return stream.protocol === LOG_PROTOCOL ? { sent: 0, acked: 0, handled: 0 } : undefined
}

async function sendOps (f: Framed, ops: readonly Uint8Array[], t: 'ops' | 'push' = 'ops', flow?: Flow): Promise<void> {
  for (const message of packOps(ops, t)) {
    while (flow !== undefined && flow.sent - flow.acked >= WINDOW_FRAMES) {
      const ack = await readMessage(f)
      if (ack.t !== 'ack') throw new LogSyncProtocolError(`expected ack while sending, got ${ack.t}`)
      if (ack.n > flow.sent || ack.n < flow.acked) throw new LogSyncProtocolError(`ack of ${ack.n} frames, but ${flow.sent} were sent and ${flow.acked} acknowledged`)
      flow.acked = ack.n
    }
    await f.write(encodeLogSync(message))
    if (flow !== undefined) flow.sent++
  }
}

/** Hands a received frame's ops to NodeLog.receive, then acknowledges it (1.2.0). */
async function handleFrame (f: Framed, ops: readonly Uint8Array[], hooks: LogSyncHooks, peer: PeerId, flow?: Flow): Promise<number> {
  const added = await receiveOps(ops, hooks, peer)
  if (flow !== undefined) await f.write(encodeLogSync({ t: 'ack', n: ++flow.handled }))
  return added
}

/** Reads ops frames until done; hands each frame's ops to NodeLog.receive. */
async function receiveUntilDone (f: Framed, hooks: LogSyncHooks, peer: PeerId, kind: 'ops' | 'push' = 'ops', flow?: Flow): Promise<number> {
  let count = 0
  for (;;) {
    const message = await readMessage(f)
    if (message.t === 'done') return count
    // An ack of this side's own frames that it did not need to wait for.
    if (message.t === 'ack' && flow !== undefined) continue
    if (message.t !== kind) throw new LogSyncProtocolError(`expected ${kind} or done, got ${message.t}`)
    count += await handleFrame(f, message.ops, hooks, peer, flow)
  }
}

async function receiveOps (ops: readonly Uint8Array[], hooks: LogSyncHooks, peer: PeerId): Promise<number> {
  const result = await hooks.log.receive(ops)
  hooks.received(peer, result)
  if (result.damaged.length > 0) {
    const first = result.damaged[0]!
    throw new LogSyncProtocolError(`${result.damaged.length} op(s) were refused as damaged (the first: ${first.reason})`)
  }
  return result.added.length
}

/** Whether the stream speaks 1.1.0 (tips in hellos). */
function withTips (stream: Stream): boolean { return stream.protocol !== LOG_PROTOCOL_1_0 }

function hello (hooks: LogSyncHooks, tips: boolean): Uint8Array {
  const vector = hooks.log.oplog.versionVector()
  return encodeLogSync({ t: 'hello', org: hooks.orgId, vector, ...(tips ? { tips: hooks.log.oplog.tips(vector) } : {}) })
}

function checkHello (message: LogSyncMessage, hooks: LogSyncHooks, peer: PeerId): PeerHello {
  if (message.t !== 'hello') throw new LogSyncProtocolError(`expected hello, got ${message.t}`)
  if (message.org !== hooks.orgId) throw new LogSyncProtocolError(`the peer syncs org ${message.org}, not this node's org ${hooks.orgId}`)
  const seen = { vector: message.vector, tips: message.tips }
  hooks.hello?.(peer, seen)
  return seen
}

function missingFor (hooks: LogSyncHooks, peer: PeerId, theirs: PeerHello): Uint8Array[] {
  return hooks.mayRead(peer) ? hooks.log.durableMissingFor(theirs.vector, theirs.tips).map((op) => op.bytes) : []
}

function fail (stream: Stream, hooks: LogSyncHooks, peer: PeerId, error: unknown): void {
  const reason = error instanceof LogSyncProtocolError || error instanceof FrameError ? error.message : `log sync failed: ${(error as Error).message}`
  if (error instanceof LogSyncProtocolError || (error instanceof FrameError && !/ended in the middle/.test(error.message))) hooks.violation(peer, reason)
  stream.abort(error instanceof Error ? error : new Error(reason))
}

/** The dialer's side of a full sync. Resolves with what was exchanged. */
export async function syncOverStream (stream: Stream, hooks: LogSyncHooks, peer: PeerId): Promise<SyncReport> {
  const f = framed(stream, { maxFrameBytes: MAX_FRAME_BYTES, readTimeoutMs: LOG_READ_TIMEOUT_MS })
  const flow = flowOf(stream)
  try {
    await f.write(hello(hooks, withTips(stream)))
    const theirs = checkHello(await readMessage(f), hooks, peer)
    const received = await receiveUntilDone(f, hooks, peer, 'ops', flow)
    const missing = missingFor(hooks, peer, theirs)
    await sendOps(f, missing, 'ops', flow)
    await f.write(encodeLogSync({ t: 'done' }))
    await stream.close()
    const report = { theirVector: theirs.vector, sent: missing.length, received }
    hooks.synced(peer, report)
    return report
  } catch (error) {
    fail(stream, hooks, peer, error)
    throw error
  }
}

/** Sends new ops unasked. */
export async function pushOverStream (stream: Stream, ops: readonly Uint8Array[]): Promise<void> {
  const f = framed(stream, { maxFrameBytes: MAX_FRAME_BYTES, readTimeoutMs: LOG_READ_TIMEOUT_MS })
  await sendOps(f, ops, 'push', flowOf(stream))
  await f.write(encodeLogSync({ t: 'done' }))
  await stream.close()
}

/** The listener's side of both: a stream starting with hello is a sync, with push a push. */
export function handleLogSync (hooks: LogSyncHooks): StreamHandler {
  return async (stream: Stream, connection: Connection) => {
    const peer = connection.remotePeer
    const f = framed(stream, { maxFrameBytes: MAX_FRAME_BYTES, readTimeoutMs: LOG_READ_TIMEOUT_MS })
    const flow = flowOf(stream)
    try {
      const first = await readMessage(f)
      if (first.t === 'push') {
        await handleFrame(f, first.ops, hooks, peer, flow)
        await receiveUntilDone(f, hooks, peer, 'push', flow)
        await stream.close()
        return
      }
      const theirs = checkHello(first, hooks, peer)
      await f.write(hello(hooks, withTips(stream)))
      const missing = missingFor(hooks, peer, theirs)
      await sendOps(f, missing, 'ops', flow)
      await f.write(encodeLogSync({ t: 'done' }))
      const received = await receiveUntilDone(f, hooks, peer, 'ops', flow)
      await stream.close()
      hooks.synced(peer, { theirVector: theirs.vector, sent: missing.length, received })
    } catch (error) {
      fail(stream, hooks, peer, error)
    }
  }
}
