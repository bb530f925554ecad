/**
 * The log's replication (DESIGN "Replication"): serves /peerpacs/log (registered in start(),
 * removed in stop()), runs a full sync with every peer that connects (one round trip, log-sync.ts)
 * and pushes every durable op to the connected readers shortly after it is written or received
 * (never back to the peer it came from). It remembers, per peer, the vector of its last sync
 * (kept current by what was sent since: status's "ops behind") and the ops it sent that this node
 * did not apply (status's "refused"). Fork evidence is pushed to every peer at once.
 *
 * Inputs are narrow: the host's stream calls, the node log, the gate's read decision, the alerts,
 * the own-seq tracker, and callbacks for what the rest of the mesh does with ops (`applied`),
 * misbehaving peers (`violation`) and finished syncs (`synced`).
 */
import type { PeerId, Stream, StreamHandler } from '@libp2p/interface'
import type { SignedOp } from '../../protocol/log/index.ts'
import { LOG_PROTOCOL, LOG_PROTOCOL_1_0, LOG_PROTOCOL_1_1 } from '../../protocol/wire/log-sync.ts'
import { nodeIdFromPublicKey } from '../../protocol/identity.ts'
import { toHex } from '../../protocol/encoding.ts'
import type { Logger } from '../logging/logger.ts'
import type { NodeLog, ReceiveResult } from '../log/node-log.ts'
import type { MeshAlerts } from './alerts.ts'
import { handleLogSync, pushOverStream, syncOverStream, type LogSyncHooks, type SyncReport } from './log-sync.ts'
import type { OwnSeqs } from './own-seqs.ts'

export const LOG_PROTOCOLS = [LOG_PROTOCOL, LOG_PROTOCOL_1_1, LOG_PROTOCOL_1_0]

const PUSH_DELAY_MS = 20
const SYNC_RETRY_MS = 2000
const STREAM_TIMEOUT_MS = 10_000
/** Rejections that say the op's bytes are bad, so the peer does not hold a valid op by them. */
const BAD_BYTES = new Set(['signature', 'malformed', 'not-canonical', 'wrong-org', 'too-large', 'bad-body', 'unknown-type'])

/** The few host calls the replicator makes. */
export interface StreamHost {
  handle (protocols: string | string[], handler: StreamHandler, options?: { maxInboundStreams?: number }): Promise<void>
  unhandle (protocols: string | string[]): Promise<void>
  dialProtocol (peer: PeerId, protocols: string | string[], options?: { signal?: AbortSignal }): Promise<Stream>
  getConnections (peer?: PeerId): Array<{ remotePeer: PeerId }>
}

export interface PeerRefusals { readonly count: number, readonly lastReason: string, readonly lastAt: string }

export interface LogReplicatorOptions {
  readonly host: StreamHost
  readonly log: NodeLog
  readonly logger: Logger
  readonly alerts: MeshAlerts
  readonly own: OwnSeqs
  readonly mayRead: (peer: PeerId) => boolean
  /** Wraps the protocol handler (the gate's members-only check, the stream counter). */
  readonly guard: (handler: StreamHandler) => StreamHandler
  /** Ops that joined the set from a peer. */
  readonly applied: (ops: readonly SignedOp[]) => void
  readonly violation: (peer: PeerId, reason: string) => void
  readonly synced: (peer: PeerId) => void
}

export class LogReplicator {
  readonly #o: LogReplicatorOptions
  readonly #hooks: LogSyncHooks
  readonly #vectors = new Map<string, { vector: Map<string, number>, at: number }>()
  /** Op id → the peer it came from (not pushed back to it). */
  readonly #origin = new Map<string, string>()
  readonly #syncing = new Set<string>()
  readonly #refusals = new Map<string, PeerRefusals>()
  #pending: SignedOp[] = []
  #pushTimer: NodeJS.Timeout | undefined
  #stopped = false

  constructor (options: LogReplicatorOptions) {
    this.#o = options
    this.#hooks = {
      log: options.log,
      orgId: options.log.oplog.orgId,
      mayRead: options.mayRead,
      received: (peer, result) => { this.#received(peer, result) },
      violation: options.violation,
      synced: (peer, report) => { this.#synced(peer, report) },
      hello: (peer, hello) => { options.own.hello(peer.toString(), hello) }
    }
  }

  async start (): Promise<void> {
    await this.#o.host.handle(LOG_PROTOCOLS, this.#o.guard(handleLogSync(this.#hooks)), { maxInboundStreams: 64 })
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#pushTimer !== undefined) clearTimeout(this.#pushTimer)
    await this.#o.host.unhandle(LOG_PROTOCOLS).catch(() => undefined)
  }

  /** A full log sync with a connected peer (at connect, and when ops arrive whose parents are missing). */
  async syncWith (peer: PeerId): Promise<SyncReport | undefined> {
    const id = peer.toString()
    if (this.#syncing.has(id) || this.#stopped) return undefined
    this.#syncing.add(id)
    try {
      const stream = await this.#o.host.dialProtocol(peer, LOG_PROTOCOLS, { signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })
      return await syncOverStream(stream, this.#hooks, peer)
    } catch (error) {
      this.#o.logger.debug('mesh.sync.failed', { peer: id, error: (error as Error).message })
      if (!this.#stopped && this.#o.host.getConnections(peer).length > 0) setTimeout(() => { void this.syncWith(peer) }, SYNC_RETRY_MS).unref()
      return undefined
    } finally {
      this.#syncing.delete(id)
    }
  }

  /** Queues durable ops (written here or received) for the next push. */
  enqueue (ops: readonly SignedOp[]): void {
    this.#pending.push(...ops)
    this.#pushTimer ??= setTimeout(() => { this.#pushTimer = undefined; void this.#push() }, PUSH_DELAY_MS)
  }

  /** The vector `peer` held at its last sync, kept current since, and when that was. */
  seen (peer: string): { readonly vector: ReadonlyMap<string, number>, readonly at: number } | undefined {
    return this.#vectors.get(peer)
  }

  refusals (peer: string): PeerRefusals | undefined { return this.#refusals.get(peer) }

  #synced (peer: PeerId, report: SyncReport): void {
    this.#vectors.set(peer.toString(), { vector: new Map(report.theirVector), at: Date.now() })
    // What this sync sent it, it holds now.
    if (report.sent > 0 && this.#o.mayRead(peer)) this.#noteHeld(peer.toString(), this.#o.log.durableMissingFor(report.theirVector))
    this.#o.logger.info('mesh.synced', { peer: peer.toString(), sent: report.sent, received: report.received })
    this.#o.own.settled()
    this.#o.synced(peer)
  }

  /** The peer holds these ops now (it sent them, or took our push): keeps "ops behind" current between syncs. */
  #noteHeld (peer: string, ops: readonly SignedOp[]): void {
    const seen = this.#vectors.get(peer)
    if (seen === undefined) return
    for (const op of ops) {
      const author = toHex(op.author)
      if (op.seq === (seen.vector.get(author) ?? 0) + 1) seen.vector.set(author, op.seq)
    }
  }

  #received (peer: PeerId, result: ReceiveResult): void {
    const id = peer.toString()
    const alerts = this.#o.alerts
    this.#noteHeld(id, result.results.flatMap((r) => r.op === undefined || r.status === 'rejected' && r.reason !== undefined && BAD_BYTES.has(r.reason) ? [] : [r.op]))
    for (const op of result.added) this.#origin.set(op.idHex, id)
    for (const fork of result.forks) {
      const author = nodeIdFromPublicKey(fork.author)
      alerts.raise('fork', author, undefined, `${author} signed two ops at seq ${fork.seq} (a fork): kept as evidence, its ops from that seq on are not applied`)
      // The evidence goes to every peer at once (not to the one that sent this op).
      this.enqueue(this.#o.log.oplog.opsAt(toHex(fork.author), fork.seq).filter((op) => op.idHex !== fork.idHex))
    }
    for (const c of result.conflicts) {
      alerts.raise('fork', c.author, undefined, `${c.author} signed two ops at seq ${c.seq} (a fork; ${c.evidence.map((e) => e.slice(0, 16)).join(', ')}), one still waiting for its parents: both kept as evidence`)
    }
    this.#noteRefusals(id, result)
    this.#o.own.settled()
    if (result.pending > 0) setTimeout(() => { void this.syncWith(peer) }, 50).unref()
    this.#o.applied(result.added)
  }

  /** Ops from `peer` this node did not apply, and why: status shows them, so a stalled sync is never silent. */
  #noteRefusals (peer: string, result: ReceiveResult): void {
    let count = 0
    let reason: string | undefined
    for (const r of result.results) {
      const why = r.status === 'rejected' ? r.reason ?? 'rejected' : r.status === 'fork' ? 'fork' : r.status === 'pending' ? 'parents missing (waiting)' : undefined
      if (why === undefined) continue
      count++
      reason = why
    }
    if (result.conflicts.length > 0 || result.forks.length > 0) reason = 'fork'
    if (count === 0 || reason === undefined) return
    const before = this.#refusals.get(peer)
    this.#refusals.set(peer, { count: (before?.count ?? 0) + count, lastReason: reason, lastAt: new Date().toISOString() })
    this.#o.logger.warn('mesh.ops.refused', { peer, count, reason })
  }

  async #push (): Promise<void> {
    const ops = this.#pending
    this.#pending = []
    if (ops.length === 0 || this.#stopped) return
    const peers = new Map<string, PeerId>()
    for (const c of this.#o.host.getConnections()) peers.set(c.remotePeer.toString(), c.remotePeer)
    await Promise.all([...peers.values()].map(async (peer) => {
      if (!this.#o.mayRead(peer)) return
      const id = peer.toString()
      const send = ops.filter((op) => this.#origin.get(op.idHex) !== id)
      if (send.length === 0) return
      try {
        const stream = await this.#o.host.dialProtocol(peer, LOG_PROTOCOLS, { signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })
        await pushOverStream(stream, send.map((op) => op.bytes))
        this.#noteHeld(id, send)
      } catch (error) {
        // The next full sync (at reconnect) sends what this push could not.
        this.#o.logger.debug('mesh.push.failed', { peer: id, error: (error as Error).message })
      }
    }))
    for (const op of ops) this.#origin.delete(op.idHex)
  }
}
