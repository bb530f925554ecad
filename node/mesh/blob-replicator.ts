/**
 * The blobs' replication (DESIGN "Replication"): serves /peerpacs/blocks (registered in start(),
 * removed in stop()) and fetches whatever the log names that this node lacks, through the block
 * layer's fetcher, from the connected readers; the Materializer indexes each blob once it is here
 * and verified. A blob found missing or damaged while serving it is set aside and fetched again,
 * verified, from a peer that holds it (repair); the index keeps pointing at it meanwhile.
 */
import type { PeerId, Stream, StreamHandler } from '@libp2p/interface'
import type { BlobId } from '../../protocol/blob-id.ts'
import { MEMBERSHIP_TYPES, type BlobInfo, type OrgState, type SignedOp } from '../../protocol/log/index.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { Logger } from '../logging/logger.ts'
import type { Materializer, Want } from './materializer.ts'
import type { StreamHost } from './log-replicator.ts'

/** The block layer's seams (node/mesh/blocks, assembled in parts.ts). */
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

export interface BlobReplicatorOptions {
  readonly host: StreamHost
  /** Absent: this node neither serves nor fetches blobs (only the log moves). */
  readonly blocks: BlockLayer | undefined
  readonly materializer: Materializer
  readonly state: () => OrgState
  readonly mayRead: (peer: PeerId) => boolean
  readonly guard: (handler: StreamHandler) => StreamHandler
  readonly violation: (peer: PeerId, reason: string) => void
  /** The signed blob info of a blob this node indexed (for repair), or undefined. */
  readonly blobInfo: (blob: BlobId) => Promise<BlobInfo | undefined>
  /** Sets a stored blob aside (BlobStore.quarantine); says where. */
  readonly setAside: (blob: BlobId) => Promise<string | undefined>
  readonly logger: Logger
}

const REPAIR_PRIORITY = 10
const REPAIR_HOLD_MS = 60_000

export class BlobReplicator {
  readonly #o: BlobReplicatorOptions
  readonly #fetcher: BlobFetcher | undefined
  readonly #repairing = new Set<string>()

  constructor (options: BlobReplicatorOptions) {
    this.#o = options
    const blocks = options.blocks
    this.#fetcher = blocks?.fetcher({
      open: async (peer, signal) => await options.host.dialProtocol(peer, blocks.protocol, { signal }),
      onFetched: async (id) => { await options.materializer.fetched(options.state(), id) },
      onViolation: options.violation
    })
  }

  /** Serves blocks, and wants every blob the log names that is not here. */
  async start (): Promise<void> {
    const blocks = this.#o.blocks
    if (blocks !== undefined) {
      await this.#o.host.handle(blocks.protocol, this.#o.guard(blocks.handler({
        may: (peer) => this.#o.mayRead(peer),
        onViolation: this.#o.violation,
        onDamaged: (blob, reason) => { void this.#repair(blob, reason) }
      })), { maxInboundStreams: 64 })
    }
    this.#want(await this.#o.materializer.start(this.#o.state()))
  }

  async stop (): Promise<void> {
    if (this.#o.blocks !== undefined) await this.#o.host.unhandle(this.#o.blocks.protocol).catch(() => undefined)
    await this.#fetcher?.close()
  }

  addPeer (peer: PeerId): void { this.#fetcher?.addPeer(peer) }
  removePeer (peer: PeerId): void { this.#fetcher?.removePeer(peer) }

  /** An instance this node logged itself: its blob is here already. */
  noteLocal (blob: string): void { this.#o.materializer.noteLocal(blob) }

  /** Ops that joined the set: index what is here, want what is not (all studies after a membership change). */
  applied (ops: readonly SignedOp[]): void {
    if (ops.length === 0) return
    const studies = new Set<string>()
    for (const op of ops) if (op.type === 'study.instance' || op.type === 'study.instances' || op.type === 'study.register') studies.add((op.body as { study: string }).study)
    const membership = ops.some((op) => MEMBERSHIP_TYPES.has(op.type))
    if (studies.size === 0 && !membership) return
    const all = MEMBERSHIP_TYPES.has(ops[0]!.type) && studies.size === 0
    void this.#o.materializer.reconcile(this.#o.state(), all ? undefined : studies as Set<StudyId>)
      .then((wants) => { this.#want(wants) })
      .catch((error: unknown) => { this.#o.logger.error('mesh.materialize.failed', { error: String(error) }) })
  }

  transfers (): ReturnType<BlobFetcher['status']> | undefined { return this.#fetcher?.status() }

  #want (wants: readonly Want[]): void {
    for (const w of wants) this.#fetcher?.want(w.info, w.priority)
  }

  /**
   * A blob this node should hold is missing or damaged (found while serving it): set it aside
   * and fetch it again, verified, from a peer that holds it. The index keeps pointing at it.
   */
  async #repair (blob: BlobId, reason: string): Promise<void> {
    if (this.#repairing.has(blob) || this.#fetcher === undefined) return
    this.#repairing.add(blob)
    try {
      const info = await this.#o.blobInfo(blob)
      if (info === undefined) return
      const aside = await this.#o.setAside(blob).catch(() => undefined)
      this.#o.logger.error('mesh.blob.repairing', { blob, reason, quarantined: aside ?? '' })
      this.#fetcher.want(info, REPAIR_PRIORITY)
    } finally {
      setTimeout(() => this.#repairing.delete(blob), REPAIR_HOLD_MS).unref()
    }
  }
}
