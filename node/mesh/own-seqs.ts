/**
 * This node's own seqs against what its peers hold of it (docs/protocol.md "Own seqs").
 *
 * Every hello names the highest seq the peer holds of each author, this node included, and
 * (over 1.1.0) the op id it holds there. So at each sync this node learns:
 *
 * - a peer holds more of its own ops than its journal: ops were deleted or lost here. The log
 *   holds this node's writes until they are back (the same sync sends them: they are signed by
 *   this node, so they verify) and a security alert (110113) is raised;
 * - a peer holds a different op at a seq both hold: a fork. A fork alert is raised at once, and
 *   the sync sends the peer every op of that author (log-sync.ts), so both sides hold the evidence.
 *
 * A hold that came from the local high-water mark (the journal ended below it at start) is
 * released when the ops come back, or, when every member that could hold them (the other
 * active sites and backups) has synced and none holds them, by giving those seqs up: they never
 * left this node, so signing them again forks nothing. With no such member it is released at once.
 */
import type { PeerHello } from './log-sync.ts'
import type { NodeLog } from '../log/node-log.ts'
import type { MeshAlerts } from './alerts.ts'
import type { Logger } from '../logging/logger.ts'
import { fromHex, toHex } from '../../protocol/encoding.ts'
import { nodeIdFromPublicKey } from '../../protocol/identity.ts'

export interface Divergence { readonly author: string, readonly seq: number, readonly at: string }

export interface OwnSeqStatus {
  /** The highest own seq in the journal. */
  readonly journalHead: number
  /** The high-water mark of own seqs (log-mark.json). */
  readonly mark: number
  /** Set while this node may not write: its journal must reach `mustReach` first. */
  readonly hold: { journalHead: number, mustReach: number, source: string } | null
  /** What the journal lacked at start (ended below the mark), if anything. */
  readonly lostAtStart: { journalHead: number, mark: number } | null
  /** Peer id → the highest seq of this node's ops it held at its last hello. */
  readonly heldByPeers: Record<string, number>
}

export class OwnSeqs {
  readonly #log: NodeLog
  readonly #alerts: MeshAlerts
  readonly #logger: Logger
  readonly #self: string
  /** Peer ids of the members that could hold this node's ops (other active sites and backups). */
  readonly #holders: () => string[]
  readonly #released: () => void
  readonly #heldBy = new Map<string, number>()
  readonly #diverged = new Map<string, Divergence[]>()
  #releasing = false

  constructor (log: NodeLog, alerts: MeshAlerts, logger: Logger, holders: () => string[], released: () => void) {
    this.#log = log
    this.#alerts = alerts
    this.#logger = logger
    this.#self = toHex(log.publicKey)
    this.#holders = holders
    this.#released = released
  }

  /** At mesh start: reports a journal that ended below the mark; releases at once if nobody could hold the ops. */
  start (): void {
    const loss = this.#log.lossAtOpen
    if (loss !== undefined) {
      this.#alerts.raise('journal', this.#log.nodeId, undefined,
        `this node's journal ends at its own seq ${loss.journalHead}, but its high-water mark says it signed up to seq ${loss.mustReach}: ` +
        `${loss.mustReach - loss.journalHead} of its ops were deleted or lost; it writes nothing until it has them back from a peer`)
    }
    void this.#maybeRelease()
  }

  /** A peer's hello: what it holds of this node, and forks its tips reveal. */
  hello (peer: string, hello: PeerHello): void {
    const held = hello.vector.get(this.#self) ?? 0
    this.#heldBy.set(peer, held)
    const head = this.#log.ownHead
    if (held > head) {
      this.#log.holdUntil(held, `peer ${peer}`)
      this.#alerts.raise('journal', peer, undefined,
        `peer ${peer} holds seq ${held} of this node's ops, but this node's journal ends at ${head}: ` +
        `${held - head} of its ops were deleted or lost here; it fetches them back from the peer and writes nothing until then`)
    }
    if (hello.tips === undefined) return
    const found = this.#log.oplog.divergent(hello.vector, hello.tips)
    if (found.length === 0) { this.#diverged.delete(peer); return }
    const at = new Date().toISOString()
    this.#diverged.set(peer, found.map((d) => ({ ...d, at })))
    for (const d of found) {
      const author = nodeIdFromPublicKey(fromHex(d.author))
      this.#alerts.raise('fork', author, undefined,
        `peer ${peer} holds a different op of ${author} at seq ${d.seq} than this node: that author signed two ops with one seq (a fork); ` +
        'both are exchanged and kept as evidence, and the author\'s ops from that seq on do not apply')
    }
  }

  /** After ops arrived or a sync ended: a hold may be over. */
  settled (): void {
    void this.#maybeRelease()
  }

  async #maybeRelease (): Promise<void> {
    if (this.#releasing) return
    const hold = this.#log.hold
    if (hold === undefined) {
      if (this.#wasHeld) { this.#wasHeld = false; this.#released() }
      return
    }
    this.#wasHeld = true
    if (hold.source !== 'mark') return
    // Every member that could hold the lost ops has said what it holds; none holds them.
    const holders = this.#holders()
    if (holders.some((p) => !this.#heldBy.has(p))) return
    if (holders.some((p) => (this.#heldBy.get(p) ?? 0) > hold.journalHead)) return
    this.#releasing = true
    try {
      const lost = await this.#log.releaseHold()
      this.#logger.warn('log.own-seqs.released', { journalHead: hold.journalHead, mark: hold.mustReach, lost })
      this.#alerts.raise('journal', this.#log.nodeId, undefined,
        `own seqs ${hold.journalHead + 1}–${hold.mustReach} were lost from this node's journal and no member holds them (${holders.length} asked): ` +
        'they never left this node, so it signs them again')
      this.#wasHeld = false
      this.#released()
    } catch (error) {
      this.#logger.error('log.own-seqs.release-failed', { error: (error as Error).message })
    } finally {
      this.#releasing = false
    }
  }

  #wasHeld = false

  /** Forks this node's last hello from `peer` revealed (empty when none). */
  divergedWith (peer: string): Divergence[] { return this.#diverged.get(peer) ?? [] }

  /** The highest seq of this node's own ops `peer` held at its last hello. */
  heldBy (peer: string): number | undefined { return this.#heldBy.get(peer) }

  status (): OwnSeqStatus {
    const hold = this.#log.hold
    const loss = this.#log.lossAtOpen
    return {
      journalHead: this.#log.ownHead,
      mark: this.#log.mark,
      hold: hold === undefined ? null : { ...hold },
      lostAtStart: loss === undefined ? null : { journalHead: loss.journalHead, mark: loss.mustReach },
      heldByPeers: Object.fromEntries(this.#heldBy)
    }
  }
}
