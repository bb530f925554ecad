/**
 * The mesh (DESIGN "Replication"): this node's libp2p host and what runs over it.
 *
 * - Who may connect: active members of the org (and, while a node has just joined and holds
 *   only the genesis, the peers named in its invite); everyone else is refused at the gater.
 *   A member removed while connected is hung up on as soon as the removal is applied.
 * - The log: a full sync with every peer that connects (one round trip), then every durable
 *   op is pushed to connected peers as it is written or received.
 * - Blobs: whatever the log names and this node lacks is fetched by the BlockFetcher and, once
 *   verified, indexed by the Materializer.
 * - Who receives what: sites and the backup get the whole log and every blob; a specialist
 *   gets nothing yet (sharing a study with it is not built; see docs/operations.md).
 */
import type { PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { MEMBERSHIP_TYPES, isActiveMember, type OrgState, type SignedOp } from '../../protocol/log/index.ts'
import { LOG_PROTOCOL, LOG_PROTOCOL_1_0 } from '../../protocol/wire/log-sync.ts'
import type { BlobId } from '../../protocol/blob-id.ts'
import { decodeBlobRecord } from '../archive/index-layout.ts'
import { EVENT_TYPE, nodeSource, OUTCOME, securityAlertEvent } from '../../protocol/audit/index.ts'
import { thisNode } from '../audit/actors.ts'
import type { BackupVerification } from './backup-verification.ts'
import { pickSamples, verifyPeerBlocks } from './verify-peer.ts'
import { BLOCKS_PROTOCOL } from './blocks/wire.ts'
import { GENESIS_PROTOCOL, handleGenesis } from './genesis-protocol.ts'
import type { Archive } from '../archive/archive.ts'
import type { Logger } from '../daemon/log.ts'
import type { NodeLog, ReceiveResult } from '../log/node-log.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { MeshAlerts } from './alerts.ts'
import { OwnSeqs, type Divergence } from './own-seqs.ts'
import { Dialer } from './dialer.ts'
import { createHost, nodeIdOfPeer, peerIdOfNode, type Host } from './host.ts'
import { handleLogSync, pushOverStream, syncOverStream, type LogSyncHooks, type SyncReport } from './log-sync.ts'
import { Materializer, type StudyHolding } from './materializer.ts'
import { nodeIdFromPublicKey, type NodeId } from '../../protocol/identity.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { toHex } from '../../protocol/encoding.ts'

export interface MeshSettings {
  /** Multiaddrs to listen on. */
  readonly listen: readonly string[]
  /** Bootstrap addresses (`--peer`), with or without /p2p/<id>. */
  readonly peers: readonly string[]
  readonly mdns: boolean
}

/** The block layer's seams (node/mesh/blocks). */
export interface BlockLayer {
  readonly protocol: string
  handler (ctx: { may: (peer: PeerId, blob: BlobId) => boolean, onViolation: (peer: PeerId, reason: string) => void, onDamaged: (blob: BlobId, reason: string) => void }): StreamHandler
  fetcher (ctx: { open: (peer: PeerId, signal: AbortSignal) => Promise<Stream>, onFetched: (id: BlobId) => Promise<void>, onViolation: (peer: PeerId, reason: string) => void }): BlobFetcher
}

export interface BlobFetcher {
  want (info: { id: string, size: number, blockSize: number, blockHashes: Uint8Array }, priority: number): void
  addPeer (peer: PeerId): void
  removePeer (peer: PeerId): void
  status (): { wanted: number, bytesPending: number, bytesFetched: number, inFlight: number }
  close (): Promise<void> | void
}

export interface ExtraProtocol {
  readonly protocol: string
  readonly handler: StreamHandler
  /** Lets a non-member peer past the gater for this protocol (an enrolling node's invite key). */
  readonly admits?: (peer: PeerId) => boolean
}

export interface PeerStatus {
  readonly peer: string
  readonly nodeId: string | undefined
  readonly role: string | undefined
  readonly connected: boolean
  readonly addresses: string[]
  /** Ops this node holds that the peer lacked at the last sync, minus what was sent since. */
  readonly opsBehind: number | undefined
  readonly lastSync: string | undefined
  /** The highest seq of this node's own ops the peer held at its last hello. */
  readonly holdsOfThisNode: number | undefined
  /** Authors of which the peer holds a different op at a seq both hold (forks), at its last hello. */
  readonly diverged: Divergence[]
  /** Ops this peer sent that this node did not apply, and why (the last reason). */
  readonly refused: { count: number, lastReason: string, lastAt: string } | null
}

const LOG_PROTOCOLS = [LOG_PROTOCOL, LOG_PROTOCOL_1_0]

const PUSH_DELAY_MS = 20
const SYNC_RETRY_MS = 2000

export class Mesh {
  readonly host: Host
  readonly #archive: Archive
  readonly #log: NodeLog
  readonly #logger: Logger
  readonly #alerts: MeshAlerts
  readonly #dialer: Dialer
  readonly materializer: Materializer
  readonly #fetcher: BlobFetcher | undefined
  readonly #bootstrap = new Set<string>()
  readonly #extras: ExtraProtocol[]
  readonly #vectors = new Map<string, { vector: Map<string, number>, at: number }>()
  readonly #origin = new Map<string, string>()
  readonly #quarantine = new Map<string, number>()
  #pending: SignedOp[] = []
  #pushTimer: NodeJS.Timeout | undefined
  readonly #syncing = new Set<string>()
  readonly #own: OwnSeqs
  readonly #refusals = new Map<string, { count: number, lastReason: string, lastAt: string }>()
  #stopped = false
  readonly #unsubscribe: () => void

  private constructor (host: Host, archive: Archive, log: NodeLog, pacs: Pacs | undefined, logger: Logger, blocks: BlockLayer | undefined, extras: ExtraProtocol[], settings: MeshSettings) {
    this.host = host
    this.#archive = archive
    this.#log = log
    this.#logger = logger
    this.#extras = extras
    this.#alerts = new MeshAlerts(archive, logger)
    this.#dialer = new Dialer(host, logger, (peer) => this.#admitted(peer))
    this.materializer = new Materializer(archive, pacs, logger, () => this.#selfRole() === 'backup')
    this.#fetcher = blocks?.fetcher({
      open: async (peer, signal) => await host.dialProtocol(peer, blocks.protocol, { signal }),
      onFetched: async (id) => { await this.materializer.fetched(this.#log.oplog.state, id) },
      onViolation: (peer, reason) => { this.#violation(peer, reason) }
    })
    for (const peer of settings.peers) this.#noteBootstrap(peer)
    this.#own = new OwnSeqs(log, this.#alerts, logger, () => this.#holders(), () => { this.#released() })
    this.#unsubscribe = log.onDurable((ops) => { this.#durable(ops) })
  }

  static async start (options: {
    archive: Archive
    pacs?: Pacs
    settings: MeshSettings
    logger: Logger
    blocks?: BlockLayer
    extras?: ExtraProtocol[]
  }): Promise<Mesh> {
    const { archive, settings, logger } = options
    const log = await archive.log()
    let mesh: Mesh | undefined
    const gate = (peer: PeerId): boolean => mesh === undefined ? false : mesh.#gate(peer)
    const host = await createHost({
      seed: archive.keyring.nodeKey.secretKey,
      listen: settings.listen,
      gate,
      mdns: settings.mdns,
      onRefused: (peer, direction, address) => { if (mesh !== undefined) mesh.#refused(peer, direction, address) }
    })
    mesh = new Mesh(host, archive, log, options.pacs, logger, options.blocks, options.extras ?? [], settings)
    await mesh.#start(settings, options.blocks)
    return mesh
  }

  async #start (settings: MeshSettings, blocks: BlockLayer | undefined): Promise<void> {
    const host = this.host
    const hooks: LogSyncHooks = {
      log: this.#log,
      orgId: this.#log.oplog.orgId,
      mayRead: (peer) => this.#mayRead(peer),
      received: (peer, result) => { this.#received(peer, result) },
      violation: (peer, reason) => { this.#violation(peer, reason) },
      synced: (peer, report) => { this.#synced(peer, report) },
      hello: (peer, hello) => { this.#own.hello(peer.toString(), hello) }
    }
    this.#hooks = hooks
    await host.handle(LOG_PROTOCOLS, this.#counted(this.#membersOnly(handleLogSync(hooks))), { maxInboundStreams: 64 })
    if (blocks !== undefined) {
      await host.handle(blocks.protocol, this.#counted(this.#membersOnly(blocks.handler({
        may: (peer) => this.#mayRead(peer),
        onViolation: (peer, reason) => { this.#violation(peer, reason) },
        onDamaged: (blob, reason) => { void this.#repair(blob, reason) }
      }))), { maxInboundStreams: 64 })
    }
    for (const extra of this.#extras) await host.handle(extra.protocol, this.#counted(extra.handler), { maxInboundStreams: 4 })
    await host.handle(GENESIS_PROTOCOL, this.#counted(this.#membersOnly(handleGenesis(this.#archive.keyring.org.genesisBytes))), { maxInboundStreams: 4 })
    host.addEventListener('peer:connect', (event) => { this.#connected(event.detail) })
    host.addEventListener('peer:disconnect', (event) => {
      this.#fetcher?.removePeer(event.detail)
      this.#guests.delete(event.detail.toString())
    })
    host.addEventListener('peer:discovery', (event) => {
      const peer = event.detail.id.toString()
      if (this.#admitted(peer)) this.#dialer.add(peer, event.detail.multiaddrs.map(String))
    })
    // Addresses: stored bootstrap (from the invite) and the members' published ones.
    const stored = await this.#archive.kv.get(['mesh', 'bootstrap'])
    if (stored !== undefined) {
      try { for (const a of JSON.parse(new TextDecoder().decode(stored)) as string[]) this.#noteBootstrap(a) } catch { this.#logger.warn('mesh.bootstrap.unreadable', {}) }
    }
    this.#learnAddresses(this.#log.oplog.state)
    this.#own.start()
    this.#dialer.start()
    const wants = await this.materializer.start(this.#log.oplog.state)
    for (const w of wants) this.#fetcher?.want(w.info, w.priority)
    await this.#publishAddresses()
    this.#logger.info('mesh.ready', { peerId: host.peerId.toString(), addresses: host.getMultiaddrs().map(String).join(' ') })
  }

  #hooks: LogSyncHooks | undefined
  /** Inbound streams per peer id, every protocol (status shows it: a refused peer never has one). */
  readonly #streamsFrom = new Map<string, number>()

  #counted (handler: StreamHandler): StreamHandler {
    return (stream, connection) => {
      const id = connection.remotePeer.toString()
      this.#streamsFrom.set(id, (this.#streamsFrom.get(id) ?? 0) + 1)
      return handler(stream, connection)
    }
  }

  /** An enrolling node passes the gater for its own protocol only. */
  #membersOnly (handler: StreamHandler): StreamHandler {
    return (stream, connection) => {
      if (this.#admitted(connection.remotePeer.toString()) || this.#isRecovery(connection.remotePeer)) return handler(stream, connection)
      stream.abort(new Error('only members may use this protocol'))
    }
  }

  streamsFrom (): Record<string, number> { return Object.fromEntries(this.#streamsFrom) }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#unsubscribe()
    this.#dialer.stop()
    if (this.#pushTimer !== undefined) clearTimeout(this.#pushTimer)
    await this.#fetcher?.close()
    await this.host.stop()
  }

  /** The addresses this node listens on, with its peer id (for invites and status). */
  addresses (): string[] {
    return this.host.getMultiaddrs().map(String)
  }

  // -- who may connect -------------------------------------------------------------------

  #selfRole (): string | undefined {
    return this.#log.oplog.state.members.get(this.#log.nodeId)?.role
  }

  #admitted (peer: string): boolean {
    const nodeId = this.#nodeIdOf(peer) as NodeId | undefined
    if (nodeId === undefined || nodeId === this.#log.nodeId) return false
    if ((this.#quarantine.get(peer) ?? 0) > Date.now()) return false
    const state = this.#log.oplog.state
    if (isActiveMember(state, nodeId)) return true
    // Just joined: this node holds only the genesis, so it cannot know the inviter is a member yet.
    return this.#bootstrap.has(peer) && !isActiveMember(state, this.#log.nodeId) && !state.members.has(nodeId)
  }

  /** The org's recovery key, presented by a node restoring the org (it may read, never be dialled). */
  #isRecovery (peer: PeerId): boolean {
    const id = nodeIdOfPeer(peer)
    return id !== undefined && id === nodeIdFromPublicKey(this.#log.oplog.state.recovery)
  }

  #gate (peer: PeerId): boolean {
    if (this.#admitted(peer.toString())) return true
    if (this.#isRecovery(peer)) return true
    const guest = this.#extras.some((e) => e.admits?.(peer) === true)
    // An enrolling node: its connection may finish its enrollment even once the invite is used.
    if (guest) this.#guests.add(peer.toString())
    return guest
  }

  readonly #guests = new Set<string>()

  #nodeIdOf (peer: string): string | undefined {
    try {
      const id = this.host.getConnections().find((c) => c.remotePeer.toString() === peer)?.remotePeer
      if (id !== undefined) return nodeIdOfPeer(id)
      return nodeIdOfPeerString(peer)
    } catch { return undefined }
  }

  #mayRead (peer: PeerId): boolean {
    if (this.#isRecovery(peer)) return true
    const nodeId = nodeIdOfPeer(peer)
    if (nodeId === undefined) return false
    const member = this.#log.oplog.state.members.get(nodeId)
    if (member === undefined || !isActiveMember(this.#log.oplog.state, nodeId)) return false
    return member.role === 'site' || member.role === 'backup'
  }

  #refused (peer: PeerId, direction: 'inbound' | 'outbound', address: string): void {
    const nodeId = nodeIdOfPeer(peer)
    const member = nodeId === undefined ? undefined : this.#log.oplog.state.members.get(nodeId)
    const why = member === undefined ? 'not a member of this org' : member.removed ? 'a removed member' : 'not an active member'
    this.#alerts.raise('refused', peer.toString(), address, `${direction} connection from ${why} refused at the connection gater`)
  }

  #violation (peer: PeerId, reason: string): void {
    const id = peer.toString()
    const address = this.host.getConnections(peer)[0]?.remoteAddr.toString()
    this.#alerts.raise('violation', id, address, reason)
    // Disconnected, and not let back for a minute: the honest peers keep syncing meanwhile.
    this.#quarantine.set(id, Date.now() + 60_000)
    void this.host.hangUp(peer).catch(() => undefined)
  }

  /** After membership changed: hang up on every peer that may no longer connect. */
  #enforce (): void {
    for (const connection of this.host.getConnections()) {
      if (this.#guests.has(connection.remotePeer.toString())) continue
      if (!this.#gate(connection.remotePeer)) {
        this.#logger.info('mesh.disconnect', { peer: connection.remotePeer.toString(), reason: 'no longer an active member' })
        void connection.close().catch(() => connection.abort(new Error('no longer a member')))
      }
    }
  }

  // -- log sync ----------------------------------------------------------------------------

  #connected (peer: PeerId): void {
    this.#dialer.connected(peer)
    if (!this.#admitted(peer.toString())) return // an enrolling node: only its protocol runs
    this.#fetcher?.addPeer(peer)
    void this.syncWith(peer)
  }

  /** A full log sync with a connected peer (at connect, and when ops arrive whose parents are missing). */
  async syncWith (peer: PeerId): Promise<SyncReport | undefined> {
    const id = peer.toString()
    if (this.#syncing.has(id) || this.#stopped || this.#hooks === undefined) return undefined
    this.#syncing.add(id)
    try {
      const stream = await this.host.dialProtocol(peer, LOG_PROTOCOLS, { signal: AbortSignal.timeout(10_000) })
      return await syncOverStream(stream, this.#hooks, peer)
    } catch (error) {
      this.#logger.debug('mesh.sync.failed', { peer: id, error: (error as Error).message })
      if (!this.#stopped && this.host.getConnections(peer).length > 0) setTimeout(() => { void this.syncWith(peer) }, SYNC_RETRY_MS).unref()
      return undefined
    } finally {
      this.#syncing.delete(id)
    }
  }

  #synced (peer: PeerId, report: SyncReport): void {
    this.#vectors.set(peer.toString(), { vector: new Map(report.theirVector), at: Date.now() })
    // What this sync sent it, it holds now.
    if (report.sent > 0 && this.#mayRead(peer)) this.#noteHeld(peer.toString(), this.#log.durableMissingFor(report.theirVector))
    this.#logger.info('mesh.synced', { peer: peer.toString(), sent: report.sent, received: report.received })
    this.#own.settled()
    void this.#publishAddresses()
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
    this.#noteHeld(id, result.results.flatMap((r) => r.op === undefined || r.status === 'rejected' && r.reason !== undefined && ['signature', 'malformed', 'not-canonical', 'wrong-org', 'too-large', 'bad-body', 'unknown-type'].includes(r.reason) ? [] : [r.op]))
    for (const op of result.added) this.#origin.set(op.idHex, id)
    for (const fork of result.forks) {
      this.#alerts.raise('fork', nodeIdOfKey(fork.author), undefined, `${nodeIdOfKey(fork.author)} signed two ops at seq ${fork.seq} (a fork): kept as evidence, its ops from that seq on are not applied`)
      // The evidence goes to every peer at once (not to the one that sent this op).
      this.#pending.push(...this.#log.oplog.opsAt(toHexKey(fork.author), fork.seq).filter((op) => op.idHex !== fork.idHex))
      this.#pushTimer ??= setTimeout(() => { this.#pushTimer = undefined; void this.#push() }, PUSH_DELAY_MS)
    }
    for (const c of result.conflicts) {
      this.#alerts.raise('fork', c.author, undefined, `${c.author} signed two ops at seq ${c.seq} (a fork; ${c.evidence.map((e) => e.slice(0, 16)).join(', ')}), one still waiting for its parents: both kept as evidence`)
    }
    this.#noteRefusals(id, result)
    this.#own.settled()
    if (result.pending > 0) setTimeout(() => { void this.syncWith(peer) }, 50).unref()
    this.#applied(result.added)
  }

  /** Ops that joined the set (received or written here): keys, connections, blobs. */
  #applied (ops: readonly SignedOp[]): void {
    if (ops.length === 0) return
    const state = this.#log.oplog.state
    if (ops.some((op) => MEMBERSHIP_TYPES.has(op.type))) {
      try { this.#archive.keyring.learnEpochs(state) } catch {}
      if (this.#archive.auditor.waiting > 0) this.#archive.auditor.retry()
      this.#learnAddresses(state)
      this.#enforce()
    }
    const studies = new Set<string>()
    for (const op of ops) if (op.type === 'study.instance' || op.type === 'study.register') studies.add((op.body as { study: string }).study)
    if (studies.size === 0 && !ops.some((op) => MEMBERSHIP_TYPES.has(op.type))) return
    void this.materializer.reconcile(state, MEMBERSHIP_TYPES.has(ops[0]!.type) && studies.size === 0 ? undefined : studies as never).then((wants) => {
      for (const w of wants) this.#fetcher?.want(w.info, w.priority)
    }).catch((error: unknown) => { this.#logger.error('mesh.materialize.failed', { error: String(error) }) })
  }

  #durable (ops: readonly SignedOp[]): void {
    // Own ops (ingest wrote their index records in the same batch) and received ones.
    for (const op of ops) if (op.type === 'study.instance' && op.author !== undefined && this.#isOwn(op)) this.materializer.noteLocal((op.body as { blob: { id: string } }).blob.id)
    const own = ops.filter((op) => this.#isOwn(op))
    if (own.some((op) => MEMBERSHIP_TYPES.has(op.type))) this.#applied(own)
    this.#pending.push(...ops)
    this.#pushTimer ??= setTimeout(() => { this.#pushTimer = undefined; void this.#push() }, PUSH_DELAY_MS)
  }

  #isOwn (op: SignedOp): boolean {
    return nodeIdOfKey(op.author) === this.#log.nodeId
  }

  async #push (): Promise<void> {
    const ops = this.#pending
    this.#pending = []
    if (ops.length === 0 || this.#stopped) return
    const peers = new Map<string, PeerId>()
    for (const c of this.host.getConnections()) peers.set(c.remotePeer.toString(), c.remotePeer)
    await Promise.all([...peers.values()].map(async (peer) => {
      if (!this.#mayRead(peer)) return
      const id = peer.toString()
      const send = ops.filter((op) => this.#origin.get(op.idHex) !== id)
      if (send.length === 0) return
      try {
        const stream = await this.host.dialProtocol(peer, LOG_PROTOCOLS, { signal: AbortSignal.timeout(10_000) })
        await pushOverStream(stream, send.map((op) => op.bytes))
        this.#noteHeld(id, send)
      } catch (error) {
        // The next full sync (at reconnect) sends what this push could not.
        this.#logger.debug('mesh.push.failed', { peer: id, error: (error as Error).message })
      }
    }))
    for (const op of ops) this.#origin.delete(op.idHex)
  }

  // -- backup verification ----------------------------------------------------------------

  lastBackupVerification: BackupVerification | undefined

  async verifyBackup (count: number | 'all', onProgress?: (done: number, total: number) => void): Promise<BackupVerification> {
    const state = this.#log.oplog.state
    const backups = [...state.members.values()].filter((m) => m.role === 'backup' && !m.removed)
    const connected = new Set(this.host.getConnections().map((c) => c.remotePeer.toString()))
    const blobs = [...state.studies.values()].flatMap((s) => [...s.instances.values()].map((i) => i.blob))
    const random = (n: number): number => Math.floor(Math.random() * n)
    const problems: BackupVerification['problems'] = []
    let checked = 0
    let ok = 0
    for (const backup of backups) {
      const peer = peerIdOfNode(backup.id)
      if (!connected.has(peer.toString())) continue
      const samples = pickSamples(blobs, count, random)
      const results = await verifyPeerBlocks(this.#archive.provider, async () => await this.host.dialProtocol(peer, BLOCKS_PROTOCOL, { signal: AbortSignal.timeout(10_000) }), samples,
        (done) => onProgress?.(checked + done, backups.length * samples.length))
      for (const r of results) {
        checked++
        if (r.outcome === 'ok') ok++
        else problems.push({ backup: backup.id, blob: r.blob.id, block: r.index, outcome: r.outcome, ...(r.detail === undefined ? {} : { detail: r.detail }) })
      }
    }
    const report: BackupVerification = {
      time: new Date().toISOString(),
      backups: backups.map((b) => ({ nodeId: b.id, connected: connected.has(peerIdOfNode(b.id).toString()) })),
      checked,
      ok,
      problems
    }
    this.lastBackupVerification = report
    const reachable = report.backups.filter((b) => b.connected).length
    const summary = reachable === 0 ? 'no backup node was connected: nothing verified'
      : `backup verification: ${ok} of ${checked} blocks match the log${problems.length === 0 ? '' : `; ${problems.filter((p) => p.outcome === 'missing').length} missing, ${problems.filter((p) => p.outcome !== 'missing').length} damaged or refused`}`
    this.#archive.auditor.emit(securityAlertEvent({
      time: Date.now(),
      source: nodeSource(this.#log.nodeId),
      outcome: problems.length === 0 && reachable > 0 ? OUTCOME.success : OUTCOME.seriousFailure,
      outcomeDescription: summary,
      types: [EVENT_TYPE.nodeAuthentication],
      reporter: thisNode(this.#log.nodeId),
      subjects: report.backups.map((b) => ({ kind: 'node' as const, id: b.nodeId, description: summary }))
    }))
    return report
  }

  // -- repair ------------------------------------------------------------------------------

  readonly #repairing = new Set<string>()

  /**
   * A blob this node should hold is missing or damaged (found while serving it): set it aside
   * and fetch it again, verified, from a peer that holds it. The index keeps pointing at it.
   */
  async #repair (blob: BlobId, reason: string): Promise<void> {
    if (this.#repairing.has(blob) || this.#fetcher === undefined) return
    this.#repairing.add(blob)
    try {
      const record = await this.#archive.kv.get(['blob', blob])
      if (record === undefined) return
      const info = decodeBlobRecord(blob, record)
      const aside = await this.#archive.blobs.quarantine(blob).catch(() => undefined)
      this.#logger.error('mesh.blob.repairing', { blob, reason, quarantined: aside ?? '' })
      this.#fetcher.want(info, 10)
    } finally {
      setTimeout(() => this.#repairing.delete(blob), 60_000).unref()
    }
  }

  // -- addresses ---------------------------------------------------------------------------

  #noteBootstrap (address: string): void {
    const match = /\/p2p\/([^/]+)$/.exec(address)
    if (match !== null) this.#bootstrap.add(match[1]!)
    this.#dialer.add(undefined, [address])
  }

  #learnAddresses (state: OrgState): void {
    for (const member of state.members.values()) {
      if (member.id === this.#log.nodeId || member.removed || member.addresses.length === 0) continue
      this.#dialer.add(peerIdStringOfNode(member.id), member.addresses)
    }
  }

  /** Publishes this node's listen addresses in the log when they changed (a member.addresses op). */
  async #publishAddresses (): Promise<void> {
    const state = this.#log.oplog.state
    if (!isActiveMember(state, this.#log.nodeId)) return
    const mine = this.host.getMultiaddrs().map((a) => a.toString().replace(/\/p2p\/[^/]+$/, '')).sort().slice(0, 16)
    const known = [...(state.members.get(this.#log.nodeId)?.addresses ?? [])].sort()
    if (mine.length === 0 || JSON.stringify(mine) === JSON.stringify(known)) return
    try {
      await this.#log.append('member.addresses', { addresses: mine })
    } catch (error) {
      this.#logger.warn('mesh.addresses.unpublished', { error: (error as Error).message })
    }
  }

  // -- own seqs ----------------------------------------------------------------------------

  /** Peer ids of the members that get every op (other active sites and backups): who could hold ours. */
  #holders (): string[] {
    const state = this.#log.oplog.state
    return [...state.members.values()]
      .filter((m) => m.id !== this.#log.nodeId && (m.role === 'site' || m.role === 'backup') && isActiveMember(state, m.id))
      .map((m) => peerIdStringOfNode(m.id))
  }

  /** This node may write again (its lost ops are back, or given up): audit records that waited, addresses. */
  #released (): void {
    this.#logger.info('log.own-seqs.writable', { journalHead: this.#log.ownHead })
    if (this.#archive.auditor.waiting > 0) this.#archive.auditor.retry()
    void this.#publishAddresses()
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
    this.#logger.warn('mesh.ops.refused', { peer, count, reason })
  }

  // -- status ------------------------------------------------------------------------------

  peers (): PeerStatus[] {
    const state = this.#log.oplog.state
    const ours = this.#log.oplog.versionVector()
    const connected = new Set(this.host.getConnections().map((c) => c.remotePeer.toString()))
    const out: PeerStatus[] = []
    for (const member of state.members.values()) {
      if (member.id === this.#log.nodeId || member.removed) continue
      const peer = peerIdStringOfNode(member.id)
      const seen = this.#vectors.get(peer)
      let behind: number | undefined
      if (seen !== undefined) {
        behind = 0
        for (const [author, seq] of ours) behind += Math.max(0, seq - (seen.vector.get(author) ?? 0))
      }
      out.push({
        peer,
        nodeId: member.id,
        role: member.role,
        connected: connected.has(peer),
        addresses: [...member.addresses],
        opsBehind: behind,
        lastSync: seen === undefined ? undefined : new Date(seen.at).toISOString(),
        holdsOfThisNode: this.#own.heldBy(peer),
        diverged: this.#own.divergedWith(peer),
        refused: this.#refusals.get(peer) ?? null
      })
    }
    return out
  }

  logSummary (): { ops: number, heads: string[], forks: Array<{ author: string, seq: number, evidence: string[], awaitingParents?: true }>, ownSeqs: ReturnType<OwnSeqs['status']> } {
    return {
      ops: this.#log.oplog.size,
      heads: this.#log.oplog.heads().map((h) => toHex(h)),
      forks: [
        ...[...this.#log.oplog.state.forks].map(([author, f]) => ({ author, seq: f.seq, evidence: [...f.evidence] })),
        // Proven by two signed ops although one still waits for its parents.
        ...this.#log.suspectedForks().map((f) => ({ author: f.author, seq: f.seq, evidence: [...f.evidence], awaitingParents: true as const }))
      ],
      ownSeqs: this.#own.status()
    }
  }

  studies (): Array<{ studyId: string, holding: StudyHolding, instances: number }> {
    return [...this.#log.oplog.state.studies.values()].map((s) => ({ studyId: s.id, holding: this.materializer.holding(s), instances: s.instances.size }))
  }

  transfers (): ReturnType<BlobFetcher['status']> | undefined {
    return this.#fetcher?.status()
  }
}


function nodeIdOfKey (key: Uint8Array): string { return nodeIdFromPublicKey(key) }
function toHexKey (key: Uint8Array): string { return toHex(key) }
function nodeIdOfPeerString (peer: string): string | undefined { return nodeIdOfPeer(peerIdFromString(peer)) }
function peerIdStringOfNode (nodeId: string): string { return peerIdOfNode(nodeId).toString() }
