/**
 * The mesh (DESIGN "Replication"): this node's libp2p host and the services that run over it,
 * wired together here and nowhere else. Each service takes the few components it uses and
 * registers its protocol in start(), removing it in stop():
 *
 * - gate.ts: who may connect (active members; while a node has just joined and holds only the
 *   genesis, the peers named in its invite; the recovery key, to read) and who may read.
 *   Everyone else is refused at the gater; a member removed while connected is hung up on as
 *   soon as the removal is applied.
 * - log-replicator.ts: a full log sync with every peer that connects, then every durable op
 *   pushed to the connected readers as it is written or received.
 * - blob-replicator.ts: whatever the log names and this node lacks is fetched by the block
 *   layer's fetcher and, once verified, indexed by the Materializer; damaged blobs are repaired.
 * - backup-verification.ts, addresses.ts, own-seqs.ts, status.ts: backup checks, address
 *   publishing, this node's own seqs after a lost journal, and what `status` shows.
 * - Who receives what: sites and the backup get the whole log and every blob; a specialist
 *   gets nothing yet (sharing a study with it is not built; see docs/operations.md).
 */
import type { PeerId, StreamHandler } from '@libp2p/interface'
import { MEMBERSHIP_TYPES, type SignedOp } from '../../protocol/log/index.ts'
import { nodeIdFromPublicKey } from '../../protocol/identity.ts'
import { decodeBlobRecord, keys } from '../archive/index-layout.ts'
import type { Archive } from '../archive/archive.ts'
import type { Logger } from '../logging/logger.ts'
import type { NodeLog } from '../log/node-log.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { AddressBook } from './addresses.ts'
import { MeshAlerts } from './alerts.ts'
import { BackupChecks, type BackupVerification } from './backup-verification.ts'
import { BlobReplicator, type BlobFetcher, type BlockLayer } from './blob-replicator.ts'
import { Dialer } from './dialer.ts'
import { MeshGate } from './gate.ts'
import { GENESIS_PROTOCOL, handleGenesis } from './genesis-protocol.ts'
import { createHost, type Host } from './host.ts'
import { LogReplicator } from './log-replicator.ts'
import type { SyncReport } from './log-sync.ts'
import { Materializer, type StudyHolding } from './materializer.ts'
import { OwnSeqs } from './own-seqs.ts'
import { holders, logSummary, peerStatuses, StreamCounter, studyHoldings, type LogSummary, type PeerStatus } from './status.ts'

export type { BlobFetcher, BlockLayer } from './blob-replicator.ts'
export type { PeerStatus } from './status.ts'

export interface MeshSettings {
  /** Multiaddrs to listen on. */
  readonly listen: readonly string[]
  /** Bootstrap addresses (`--peer`), with or without /p2p/<id>. */
  readonly peers: readonly string[]
  readonly mdns: boolean
}

export interface ExtraProtocol {
  readonly protocol: string
  readonly handler: StreamHandler
  /** Lets a non-member peer past the gater for this protocol (an enrolling node's invite key). */
  readonly admits?: (peer: PeerId) => boolean
}

export class Mesh {
  readonly host: Host
  readonly materializer: Materializer
  readonly #archive: Archive
  readonly #log: NodeLog
  readonly #logger: Logger
  readonly #extras: ExtraProtocol[]
  readonly #gate: MeshGate
  readonly #alerts: MeshAlerts
  readonly #dialer: Dialer
  readonly #addresses: AddressBook
  readonly #own: OwnSeqs
  readonly #streams = new StreamCounter()
  readonly #logs: LogReplicator
  readonly #blobs: BlobReplicator
  readonly #backups: BackupChecks
  #stopped = false
  readonly #unsubscribe: () => void

  private constructor (host: Host, gate: MeshGate, archive: Archive, log: NodeLog, pacs: Pacs | undefined, logger: Logger, blocks: BlockLayer | undefined, extras: ExtraProtocol[], settings: MeshSettings) {
    this.host = host
    this.#gate = gate
    this.#archive = archive
    this.#log = log
    this.#logger = logger
    this.#extras = extras
    const state = (): typeof log.oplog.state => log.oplog.state
    const guard = (handler: StreamHandler): StreamHandler => this.#streams.counted(gate.membersOnly(handler))
    const violation = (peer: PeerId, reason: string): void => { this.#violation(peer, reason) }
    this.#alerts = new MeshAlerts(archive, logger)
    this.#dialer = new Dialer(host, logger, (peer) => gate.admitted(peer))
    this.#addresses = new AddressBook({ log, dialer: this.#dialer, gate, listening: () => host.getMultiaddrs().map(String), stored: async () => await archive.kv.get(keys.bootstrap), logger })
    this.materializer = new Materializer(archive, pacs, logger, () => state().members.get(log.nodeId)?.role === 'backup')
    this.#blobs = new BlobReplicator({
      host,
      blocks,
      materializer: this.materializer,
      state,
      mayRead: (peer) => gate.mayRead(peer),
      guard,
      violation,
      blobInfo: async (blob) => {
        const record = await archive.kv.get(keys.blob(blob))
        return record === undefined ? undefined : decodeBlobRecord(blob, record)
      },
      setAside: async (blob) => await archive.blobs.quarantine(blob),
      logger
    })
    for (const peer of settings.peers) this.#addresses.noteBootstrap(peer)
    this.#own = new OwnSeqs(log, this.#alerts, logger, () => holders(log), () => { this.#released() })
    this.#logs = new LogReplicator({
      host,
      log,
      logger,
      alerts: this.#alerts,
      own: this.#own,
      mayRead: (peer) => gate.mayRead(peer),
      guard,
      applied: (ops) => { this.#applied(ops) },
      violation,
      synced: () => { void this.#addresses.publish() }
    })
    this.#backups = new BackupChecks({ self: log.nodeId, state, provider: archive.provider, host, audit: (record) => { archive.auditor.emit(record) } })
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
    const extras = options.extras ?? []
    let mesh: Mesh | undefined
    const gate = new MeshGate({
      self: log.nodeId,
      state: () => log.oplog.state,
      guestAdmits: extras.flatMap((e) => e.admits === undefined ? [] : [e.admits]),
      connected: (peer) => mesh?.host.getConnections().find((c) => c.remotePeer.toString() === peer)?.remotePeer
    })
    const host = await createHost({
      seed: archive.keyring.nodeKey.secretKey,
      listen: settings.listen,
      gate: (peer) => mesh === undefined ? false : gate.allows(peer),
      mdns: settings.mdns,
      onRefused: (peer, direction, address) => { if (mesh !== undefined) mesh.#alerts.raise('refused', peer.toString(), address, `${direction} connection from ${gate.refusalReason(peer)} refused at the connection gater`) }
    })
    mesh = new Mesh(host, gate, archive, log, options.pacs, logger, options.blocks, extras, settings)
    await mesh.#start()
    return mesh
  }

  async #start (): Promise<void> {
    const host = this.host
    const gate = this.#gate
    await this.#logs.start()
    await this.#blobs.start()
    for (const extra of this.#extras) await host.handle(extra.protocol, this.#streams.counted(extra.handler), { maxInboundStreams: 4 })
    await host.handle(GENESIS_PROTOCOL, this.#streams.counted(gate.membersOnly(handleGenesis(this.#archive.keyring.org.genesisBytes))), { maxInboundStreams: 4 })
    host.addEventListener('peer:connect', (event) => { this.#connected(event.detail) })
    host.addEventListener('peer:disconnect', (event) => {
      this.#blobs.removePeer(event.detail)
      gate.disconnected(event.detail.toString())
    })
    host.addEventListener('peer:discovery', (event) => {
      const peer = event.detail.id.toString()
      if (gate.admitted(peer)) this.#dialer.add(peer, event.detail.multiaddrs.map(String))
    })
    // Addresses: stored bootstrap (from the invite) and the members' published ones.
    await this.#addresses.loadStored()
    this.#addresses.learn(this.#log.oplog.state)
    this.#own.start()
    this.#dialer.start()
    await this.#addresses.publish()
    this.#logger.info('mesh.ready', { peerId: host.peerId.toString(), addresses: host.getMultiaddrs().map(String).join(' ') })
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#unsubscribe()
    this.#dialer.stop()
    await this.#logs.stop()
    await this.#blobs.stop()
    await this.host.stop()
  }

  /** The addresses this node listens on, with its peer id (for invites and status). */
  addresses (): string[] {
    return this.host.getMultiaddrs().map(String)
  }

  /** A full log sync with a connected peer (at connect, and when ops arrive whose parents are missing). */
  async syncWith (peer: PeerId): Promise<SyncReport | undefined> {
    return await this.#logs.syncWith(peer)
  }

  #connected (peer: PeerId): void {
    this.#dialer.connected(peer)
    if (!this.#gate.admitted(peer.toString())) return // an enrolling node: only its protocol runs
    this.#blobs.addPeer(peer)
    void this.#logs.syncWith(peer)
  }

  #violation (peer: PeerId, reason: string): void {
    const id = peer.toString()
    const address = this.host.getConnections(peer)[0]?.remoteAddr.toString()
    this.#alerts.raise('violation', id, address, reason)
    // Disconnected, and not let back for a minute: the honest peers keep syncing meanwhile.
    this.#gate.quarantine(id)
    void this.host.hangUp(peer).catch(() => undefined)
  }

  /** After membership changed: hang up on every peer that may no longer connect. */
  #enforce (): void {
    for (const connection of this.host.getConnections()) {
      if (this.#gate.isGuest(connection.remotePeer.toString())) continue
      if (!this.#gate.allows(connection.remotePeer)) {
        this.#logger.info('mesh.disconnect', { peer: connection.remotePeer.toString(), reason: 'no longer an active member' })
        void connection.close().catch(() => connection.abort(new Error('no longer a member')))
      }
    }
  }

  /** Ops that joined the set (received or written here): keys, connections, blobs. */
  #applied (ops: readonly SignedOp[]): void {
    if (ops.length === 0) return
    if (ops.some((op) => MEMBERSHIP_TYPES.has(op.type))) {
      const state = this.#log.oplog.state
      try { this.#archive.keyring.learnEpochs(state) } catch {}
      if (this.#archive.auditor.waiting > 0) this.#archive.auditor.retry()
      this.#addresses.learn(state)
      this.#enforce()
    }
    this.#blobs.applied(ops)
  }

  #durable (ops: readonly SignedOp[]): void {
    // Own ops (ingest wrote their index records in the same batch) and received ones.
    const own = ops.filter((op) => nodeIdFromPublicKey(op.author) === this.#log.nodeId)
    for (const op of own) {
      if (op.type === 'study.instance') this.#blobs.noteLocal(op.body.blob.id)
      if (op.type === 'study.instances') for (const blob of op.body.blobs) this.#blobs.noteLocal(blob.id)
    }
    if (own.some((op) => MEMBERSHIP_TYPES.has(op.type))) this.#applied(own)
    this.#logs.enqueue(ops)
  }

  /** This node may write again (its lost ops are back, or given up): audit records that waited, addresses. */
  #released (): void {
    this.#logger.info('log.own-seqs.writable', { journalHead: this.#log.ownHead })
    if (this.#archive.auditor.waiting > 0) this.#archive.auditor.retry()
    void this.#addresses.publish()
  }

  // -- status ------------------------------------------------------------------------------

  get lastBackupVerification (): BackupVerification | undefined { return this.#backups.last }

  async verifyBackup (count: number | 'all', onProgress?: (done: number, total: number) => void): Promise<BackupVerification> {
    return await this.#backups.verify(count, onProgress)
  }

  streamsFrom (): Record<string, number> { return this.#streams.byPeer() }

  peers (): PeerStatus[] {
    return peerStatuses(this.#log, this.host.getConnections().map((c) => c.remotePeer.toString()), this.#logs, this.#own)
  }

  logSummary (): LogSummary { return logSummary(this.#log, this.#own) }

  studies (): Array<{ studyId: string, holding: StudyHolding, instances: number }> {
    return studyHoldings(this.#log.oplog.state, this.materializer)
  }

  transfers (): ReturnType<BlobFetcher['status']> | undefined { return this.#blobs.transfers() }
}
