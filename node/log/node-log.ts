/**
 * This node's view of the org's signed log (docs/protocol.md): the op set in memory (protocol/log
 * OpLog), loaded from the journal at open, and the writer for this node's own ops.
 *
 * Writing is two steps so an op lands in the same level batch as what it causes: `prepare`
 * signs the next op (next seq, parents = current heads), applies it in memory and returns the
 * journal write; the caller commits that write in its batch. Preparing is synchronous, so two
 * writers never take the same seq. If a batch carrying a prepared op fails, memory is ahead of
 * disk; the log then refuses further writes until the node restarts, because signing another
 * op with that seq would be a fork.
 *
 * Own seqs are never signed twice (docs/protocol.md "Own seqs"): after a batch carrying own ops
 * committed, the high-water mark (seq-mark.ts, a file apart from the journal) is raised, and
 * only then are the ops offered to peers. A journal whose own chain ends below the mark, or
 * below what a peer holds of this node (`holdUntil`), lost ops: the log then holds this node's
 * writes (LogHeldError) until the lost ops are back (a peer sends them: they are signed by this
 * node, so they verify), because signing a new op at a lost seq would be a fork, and skipping
 * the seqs would leave a gap that every replica refuses ('bad-seq').
 *
 * Ops from peers arrive through `receive`: each is validated by the OpLog as any op is, and
 * whatever joined the set (applied, refused by authority, or a fork kept as evidence) is
 * journalled in arrival order. Only durable ops are offered to peers (`durableMissingFor`,
 * `onDurable`): a peer that held an op this node then lost in a crash would make this node's
 * next op at that seq a fork.
 *
 * Opening trusts what this node verified before (journal-checkpoint.ts): the journal entries a
 * valid checkpoint covers are decoded without their signature check; the rest, or all of them
 * when the checkpoint does not match the journal (a warning says why), are verified in full.
 * CheckpointWriter moves the checkpoint along as entries become durable and when the log settles.
 * Large batches that must be verified (the journal beyond the checkpoint, a peer's catch-up) are
 * verified on worker threads first (verify-pool.ts), with the verdicts of the single thread.
 *
 * Over 300 lines on purpose: preparing, committing, the mark, the hold and the offering order
 * share one seq counter and one durable frontier, and keeping them in one class is what makes
 * "no seq signed twice, nothing offered before it is durable" checkable in one reading.
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { nodeIdFromPublicKey, type NodeId, type NodeKeyPair } from '../../protocol/identity.ts'
import { createOp, decodeOp, isActiveMember, OpLog, OpRejectedError, type OpBodies, type OpType, type RejectReason, type SignedOp, type SignedOpOf } from '../../protocol/log/index.ts'
import type { KvOperation, KvStore } from '../store/kv.ts'
import type { AddResult } from '../../protocol/log/index.ts'
import { toHex } from '../../protocol/encoding.ts'
import { createLogger, type Logger } from '../logging/logger.ts'
import { CheckpointWriter } from './checkpoint-writer.ts'
import { JournalCheckpoint, type CheckpointMatch } from './journal-checkpoint.ts'
import { OpJournal } from './op-journal.ts'
import { nativeProvider } from '../crypto/native-provider.ts'
import { POOL_MIN_BATCH, sharedVerifyPool, type VerifyPool } from './verify-pool.ts'
import { memorySeqMark, type SeqMark } from './seq-mark.ts'

/** Reasons that mean the bytes themselves are bad: a journal holding such an op is damaged. */
const DAMAGE: ReadonlySet<RejectReason> = new Set(['too-large', 'malformed', 'signature', 'not-canonical', 'unknown-type', 'bad-body', 'wrong-org'])

export class LogDamagedError extends PeerpacsError {
  static readonly code = 'LOG_DAMAGED'
  constructor (message: string) { super(LogDamagedError.code, message, { hint: 'run `peerpacs log verify`; restore the data dir from its backup if it fails' }) }
}

/** This node's journal is behind its own signed seqs: it writes nothing until the lost ops are back. */
export class LogHeldError extends PeerpacsError {
  static readonly code = 'LOG_HELD'
  constructor (message: string) {
    super(LogHeldError.code, message, { hint: 'start the node with a peer or the backup reachable: it fetches its own lost ops back and then writes again; `peerpacs status` shows the hold' })
  }
}

/** Why this node may not write now: its journal's own chain ends below what it (or a peer) knows it signed. */
export interface LogHold {
  /** The highest own seq in the journal. */
  readonly journalHead: number
  /** The own seq the journal must reach before this node signs again. */
  readonly mustReach: number
  /** Who knows of the higher seq: 'mark' (the local high-water mark) or 'peer <peer id>'. */
  readonly source: string
}

export class LogWriteError extends PeerpacsError {
  static readonly code = 'LOG_WRITE'
  constructor (message: string, options: { cause?: unknown } = {}) { super(LogWriteError.code, message, options) }
}

/** This node is not (or not yet, or no longer) an active member of its org: it may not sign ops. */
export class LogNotMemberError extends PeerpacsError {
  static readonly code = 'LOG_NOT_MEMBER'
  constructor (message: string) { super(LogNotMemberError.code, message) }
}

/** What a batch of ops from a peer did. */
export interface ReceiveResult {
  readonly results: AddResult[]
  /** Ops that joined the set (now journalled), in arrival order. */
  readonly added: SignedOp[]
  /** The ops' bytes were bad (forged, malformed, non-canonical, another org): the sender misbehaved. */
  readonly damaged: Array<{ index: number, reason: RejectReason }>
  readonly forks: SignedOp[]
  /**
   * Two different ops by one author at one seq where at least one still waits for its parents
   * (so the set holds no fork yet): both are signed by the author, which proves the fork already.
   */
  readonly conflicts: SuspectedFork[]
  /** Ops waiting for parents the sender did not send. */
  readonly pending: number
}

/** A fork proven by two signed ops, one of them still waiting for its parents. */
export interface SuspectedFork {
  readonly author: NodeId
  readonly seq: number
  /** The two op ids (sorted). */
  readonly evidence: readonly string[]
}

/** Most (author, seq) → pending op id pairs remembered for conflict checks (like OpLog's pending bound). */
const MAX_PENDING_SEQS = 10_000

export type DurableListener = (ops: readonly SignedOp[]) => void

/** How the journal was loaded at open. */
export interface OpenReport {
  /** Journal entries read. */
  readonly entries: number
  /** Of those, decoded without their signature check because the checkpoint covers them. */
  readonly trusted: number
  /** What the checkpoint said ('mismatch': it did not cover this journal, everything was verified). */
  readonly checkpoint: CheckpointMatch['status']
}

export interface NodeLogOptions {
  /** The high-water mark of own seqs (default: one in memory). */
  readonly mark?: SeqMark
  /** Where a checkpoint that does not match the journal is reported (default: warnings on stderr). */
  readonly logger?: Logger
  /**
   * Verifies large batches on worker threads (verify-pool.ts); false: never. Default: the shared
   * pool when `provider` is the native one (the workers' provider), else none.
   */
  readonly verifyPool?: VerifyPool | false
}

export interface PreparedOp<T extends OpType> {
  readonly op: SignedOpOf<T>
  /** The journal entry; put it in the batch that carries the op's effects. */
  readonly write: KvOperation
  /** Call when that batch failed: the log stops writing until restart. */
  failed (error: unknown): void
}

export class NodeLog {
  readonly oplog: OpLog
  readonly #journal: OpJournal
  readonly #kv: KvStore
  readonly #key: NodeKeyPair
  readonly #provider: CryptoProvider
  readonly nodeId: NodeId
  #broken: unknown = undefined
  /** Journal writes of ops in memory whose batch has not committed yet → the op. */
  readonly #undurable = new Map<KvOperation, SignedOp>()
  readonly #undurableIds = new Set<string>()
  readonly #listeners = new Set<DurableListener>()
  #receiving: Promise<unknown> = Promise.resolve()
  readonly #mark: SeqMark
  readonly #authorHex: string
  /** Own seq the journal must reach before writing again, and who said so. */
  #floor = { seq: 0, source: '' }
  /** Own ops are offered (onDurable) in commit order, each after the mark covers it. */
  #offering: Promise<void> = Promise.resolve()
  /** (author hex, seq) of ops waiting for parents → their id: a second op there is a fork. */
  readonly #pendingSeqs = new Map<string, string>()
  /** Forks proven by a pending op (see ReceiveResult.conflicts), by `author:seq`. */
  readonly #suspected = new Map<string, SuspectedFork>()
  /** What the journal lacked when the log was opened (journal head below the mark), if anything. */
  readonly lossAtOpen: LogHold | undefined
  readonly #checkpoint: CheckpointWriter
  readonly #pool: VerifyPool | undefined
  readonly opened: OpenReport

  private constructor (oplog: OpLog, journal: OpJournal, kv: KvStore, key: NodeKeyPair, provider: CryptoProvider, mark: SeqMark, checkpoint: CheckpointWriter, pool: VerifyPool | undefined, opened: OpenReport) {
    this.oplog = oplog
    this.#pool = pool
    this.#journal = journal
    this.#checkpoint = checkpoint
    this.opened = opened
    this.#kv = kv
    this.#key = key
    this.#provider = provider
    this.#mark = mark
    this.#authorHex = toHex(key.publicKey)
    this.nodeId = nodeIdFromPublicKey(key.publicKey)
    if (mark.seq > this.ownHead) {
      this.#floor = { seq: mark.seq, source: 'mark' }
      this.lossAtOpen = { journalHead: this.ownHead, mustReach: mark.seq, source: 'mark' }
    }
    const observable = kv as KvStore & { afterCommit?: (l: (ops: readonly KvOperation[]) => void) => void }
    observable.afterCommit?.((ops) => { this.#committed(ops) })
    this.#observed = observable.afterCommit !== undefined
  }

  readonly #observed: boolean

  #committed (ops: readonly KvOperation[]): void {
    const durable: SignedOp[] = []
    for (const write of ops) {
      this.#checkpoint.durable(write)
      const op = this.#undurable.get(write)
      if (op === undefined) continue
      this.#undurable.delete(write)
      durable.push(op)
    }
    if (durable.length === 0) return
    const top = Math.max(...durable.map((op) => op.seq))
    // Raised now, so raises of commits that land while a mark write is in flight share the next
    // write; offered only once the mark covers them (see the header), in commit order.
    const covered = this.#mark.raise(top)
    covered.catch(() => undefined)
    this.#offering = this.#offering.then(async () => {
      try {
        await covered
      } catch (error) {
        this.#broken ??= error
        return
      }
      for (const op of durable) this.#undurableIds.delete(op.idHex)
      this.#emit(durable)
    })
  }

  /** The highest seq of this node's own ops in the set (its chain's head). */
  get ownHead (): number { return this.oplog.nextSeq(this.#key.publicKey) - 1 }

  /** The high-water mark of own seqs (seq-mark.ts). */
  get mark (): number { return this.#mark.seq }

  /** Resolves once the mark's writes are done and the checkpoint covers every durable entry: the data dir may then be closed. */
  async settle (): Promise<void> {
    await this.#mark.settle()
    await this.#checkpoint.flush()
  }

  /** Why this node may not write now, or undefined. */
  get hold (): LogHold | undefined {
    const head = this.ownHead
    return head < this.#floor.seq ? { journalHead: head, mustReach: this.#floor.seq, source: this.#floor.source } : undefined
  }

  /** A peer holds `seq` of this node's own ops: no writing until the journal has it too. */
  holdUntil (seq: number, source: string): void {
    if (seq > this.#floor.seq && seq > this.ownHead) this.#floor = { seq, source }
  }

  /**
   * Gives up the seqs between the journal's head and the hold: every member that could hold them
   * has said it holds none, so they never left this node and may be signed again. Returns how
   * many were given up. The mark is lowered to the journal's head.
   */
  async releaseHold (): Promise<number> {
    const head = this.ownHead
    const lost = this.#floor.seq - head
    if (lost <= 0) return 0
    await this.#mark.lower(head)
    this.#floor = { seq: 0, source: '' }
    return lost
  }

  #emit (ops: readonly SignedOp[]): void {
    for (const listener of this.#listeners) { try { listener(ops) } catch {} }
  }

  /** Calls `listener` with ops once they are durable (this node's own and received ones). */
  onDurable (listener: DurableListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** The ops a peer with `vector` lacks, parents first, durable ones only (see the header). */
  durableMissingFor (vector: ReadonlyMap<string, number>, tips?: ReadonlyMap<string, Uint8Array>): SignedOp[] {
    return this.oplog.missingFor(vector, tips).filter((op) => !this.#undurableIds.has(op.idHex))
  }

  /**
   * Validates ops from a peer and journals those that joined the set, on their own batch.
   * Batches are received one after another, so the journal keeps arrival order.
   */
  async receive (inputs: readonly Uint8Array[]): Promise<ReceiveResult> {
    const run = this.#receiving.then(async () => await this.#receive(inputs))
    this.#receiving = run.catch(() => undefined)
    return await run
  }

  async #receive (inputs: readonly Uint8Array[]): Promise<ReceiveResult> {
    if (this.#broken !== undefined) throw new LogWriteError('an earlier log write failed; restart the node before accepting ops', { cause: this.#broken })
    const before = this.oplog.size
    const results = this.oplog.addMany(await preverified(this.#pool, this.#provider, inputs))
    const added = this.oplog.ops().slice(before)
    const damaged: ReceiveResult['damaged'] = []
    const forks: SignedOp[] = []
    const conflicts: SuspectedFork[] = []
    let pending = 0
    for (const [index, r] of results.entries()) {
      if (r.status === 'rejected' && r.reason !== undefined && DAMAGE.has(r.reason)) damaged.push({ index, reason: r.reason })
      if (r.status === 'fork' && r.op !== undefined) forks.push(r.op)
      if (r.status === 'pending') pending++
      const conflict = r.op !== undefined && r.status !== 'fork' && !(r.status === 'rejected' && r.reason !== undefined && DAMAGE.has(r.reason)) ? this.#conflict(r.op, r.status === 'pending') : undefined
      if (conflict !== undefined) conflicts.push(conflict)
    }
    if (added.length > 0) {
      const writes = added.map((op) => {
        const write = this.#journal.entry(op.bytes)
        this.#checkpoint.entry(write, op.id)
        return write
      })
      try {
        await this.#kv.batch(writes)
      } catch (error) {
        this.#broken = error
        throw new LogWriteError('received ops could not be journalled; the node must restart', { cause: error })
      }
      for (const write of writes) this.#checkpoint.durable(write)
      // Own ops fetched back from a peer: the mark covers them too (a lost mark learns them back).
      const own = added.filter((op) => toHex(op.author) === this.#authorHex)
      if (own.length > 0) await this.#mark.raise(Math.max(...own.map((op) => op.seq))).catch(() => undefined)
      // The group-commit store already reported these through afterCommit only for prepared ops.
      this.#emit(added)
    }
    return { results, added, damaged, forks, conflicts, pending }
  }

  /** A second op at a pending op's (author, seq), or a pending op at a held op's: a fork proven before the set holds it. */
  #conflict (op: SignedOp, isPending: boolean): SuspectedFork | undefined {
    const author = toHex(op.author)
    const key = `${author}:${op.seq}`
    const others = new Set(this.oplog.opsAt(author, op.seq).map((o) => o.idHex as string))
    const parked = this.#pendingSeqs.get(key)
    if (parked !== undefined) others.add(parked)
    others.delete(op.idHex)
    if (isPending && parked === undefined) {
      if (this.#pendingSeqs.size >= MAX_PENDING_SEQS) this.#pendingSeqs.clear()
      this.#pendingSeqs.set(key, op.idHex)
    }
    if (others.size === 0) return undefined
    const found: SuspectedFork = { author: op.authorId, seq: op.seq, evidence: [op.idHex as string, [...others][0]!].sort() }
    if (this.#suspected.size < MAX_PENDING_SEQS) this.#suspected.set(key, found)
    return found
  }

  /** Forks proven by an op still waiting for its parents (not yet in the state's forks). */
  suspectedForks (): SuspectedFork[] {
    return [...this.#suspected.values()].filter((f) => f.seq < (this.oplog.state.forks.get(f.author)?.seq ?? Infinity))
  }

  /**
   * Loads the journal on top of the org's genesis op. Entries a valid checkpoint covers are
   * decoded without their signature check, all others are verified in full (see the header).
   */
  static async open (kv: KvStore, provider: CryptoProvider, genesisBytes: Uint8Array, key: NodeKeyPair, options: NodeLogOptions = {}): Promise<NodeLog> {
    const oplog = new OpLog(provider, genesisBytes)
    const stored: Uint8Array[] = []
    const journal = await OpJournal.load(kv, (bytes) => { stored.push(bytes) })
    const checkpoint = new JournalCheckpoint(key, oplog.orgId)
    const { match, chain } = await checkpoint.match(kv, provider, stored.map((bytes) => provider.sha256(bytes)))
    if (match.status === 'mismatch') {
      (options.logger ?? createLogger({ level: 'warn' })).warn('log.checkpoint.mismatch', { entries: stored.length, why: match.why, action: 'every op of the journal is verified' })
    }
    const pool = options.verifyPool === false ? undefined : options.verifyPool ?? (provider === nativeProvider ? sharedVerifyPool() : undefined)
    const inputs: Array<SignedOp | Uint8Array> = stored.slice(0, match.trusted).map((bytes, i) => trustedOp(provider, bytes, i))
    inputs.push(...await preverified(pool, provider, stored.slice(match.trusted)))
    const results = oplog.addMany(inputs)
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected' && r.reason !== undefined && DAMAGE.has(r.reason)) {
        throw new LogDamagedError(`op ${i} of the journal is damaged (${r.reason}): the log does not load`)
      }
    }
    if (oplog.pendingCount > 0) throw new LogDamagedError(`${oplog.pendingCount} ops of the journal miss their parents: ops were lost`)
    const mark = options.mark ?? memorySeqMark()
    // A mark behind the journal (a data dir from before marks, or a lost mark file) catches up.
    const head = oplog.nextSeq(key.publicKey) - 1
    if (mark.seq < head) await mark.raise(head)
    // Every entry read is verified now: the checkpoint covers them all from here on.
    const writer = new CheckpointWriter(kv, checkpoint, chain, journal.count, match.trusted)
    await writer.flush()
    return new NodeLog(oplog, journal, kv, key, provider, mark, writer, pool, { entries: stored.length, trusted: match.trusted, checkpoint: match.status })
  }

  get publicKey (): Uint8Array { return this.#key.publicKey }

  /** Signs and applies this node's next op; the caller commits `write` (see the header). */
  prepare<T extends OpType> (type: T, body: OpBodies[T]): PreparedOp<T> {
    if (this.#broken !== undefined) throw new LogWriteError('an earlier log write failed; restart the node before writing again', { cause: this.#broken })
    // Refused before anything is signed: an op that the log then refused would still hold a seq
    // and a place among the heads in memory, but never reach the journal.
    const state = this.oplog.state
    if (!isActiveMember(state, this.nodeId)) throw new LogNotMemberError(`this node (${this.nodeId}) is not an active member of its org any more: it may not write ${type}`)
    if (state.forks.has(this.nodeId)) throw new LogWriteError('this node\'s own ops are forked (its key signed two ops with one seq): it may not write')
    const hold = this.hold
    if (hold !== undefined) {
      throw new LogHeldError(`this node's journal ends at its own seq ${hold.journalHead}, but ${hold.source === 'mark' ? `its high-water mark (${this.#mark.where})` : hold.source} holds seq ${hold.mustReach} of it: ` +
        `${hold.mustReach - hold.journalHead} of its ops were deleted or lost from the journal. It signs nothing until they are back, since a new op at one of those seqs would be a fork`)
    }
    const op = createOp(this.#provider, this.#key, {
      org: this.oplog.orgId,
      seq: this.oplog.nextSeq(this.#key.publicKey),
      parents: this.oplog.heads(),
      type,
      body,
      time: Date.now()
    } as never) as SignedOpOf<T>
    const result = this.oplog.add(op as unknown as SignedOp)
    if (result.status !== 'applied') {
      // The op is in memory but will not be journalled: stop writing until a restart reloads the journal.
      this.#broken = new Error(`own ${type} op ${result.status}`)
      throw new LogWriteError(`this node's own ${type} op was ${result.status}${result.reason === undefined ? '' : ` (${result.reason})`}: it may not write it`)
    }
    const write = this.#journal.entry(op.bytes)
    this.#checkpoint.entry(write, op.id)
    if (this.#observed) {
      this.#undurable.set(write, op as unknown as SignedOp)
      this.#undurableIds.add(op.idHex)
    } else {
      // A store that cannot say when a batch is durable (tests' memory stores): offered at once.
      queueMicrotask(() => { this.#emit([op as unknown as SignedOp]) })
    }
    return { op, write, failed: (error) => { this.#broken = error } }
  }

  /** Writes one op of this node on its own batch; resolves once it is durable and offered to peers. */
  async append<T extends OpType> (type: T, body: OpBodies[T], extra: readonly KvOperation[] = []): Promise<SignedOpOf<T>> {
    const prepared = this.prepare(type, body)
    try {
      await this.#kv.batch([prepared.write, ...extra])
    } catch (error) {
      prepared.failed(error)
      throw error
    }
    this.#checkpoint.durable(prepared.write)
    // The batch's commit queued the op's offering (after the mark covers it): wait for it too.
    await this.#offering
    return prepared.op
  }

  /** Every op held, in arrival order (a causal order). */
  ops (): readonly SignedOp[] { return this.oplog.ops() }
}

/** Decodes a journal entry the checkpoint covers (its signature was verified before, see the header). */
function trustedOp (provider: CryptoProvider, bytes: Uint8Array, index: number): SignedOp {
  try {
    return decodeOp(provider, bytes, { signature: 'trusted' })
  } catch (error) {
    if (error instanceof OpRejectedError) throw new LogDamagedError(`op ${index} of the journal is damaged (${error.reason}): the log does not load`)
    throw error
  }
}

/**
 * Ops of a large batch verified on the pool's threads: those that passed come back decoded
 * (trusted: they passed every check on these bytes just now), the others as bytes, for the
 * OpLog's own decode to find their reason. Small batches, or a pool that failed, stay bytes.
 */
async function preverified (pool: VerifyPool | undefined, provider: CryptoProvider, inputs: readonly Uint8Array[]): Promise<Array<SignedOp | Uint8Array>> {
  const out: Array<SignedOp | Uint8Array> = [...inputs]
  if (pool === undefined || inputs.length < POOL_MIN_BATCH) return out
  // Each part is decoded here as soon as it is answered, while the threads verify the next ones.
  await pool.check(inputs, (start, passed) => {
    passed.forEach((ok, j) => { if (ok) out[start + j] = decodeOp(provider, inputs[start + j]!, { signature: 'trusted' }) })
  }).catch(() => undefined)
  return out
}
