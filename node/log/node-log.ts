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
 * Ops from peers arrive through `receive`: each is validated by the OpLog as any op is, and
 * whatever joined the set (applied, refused by authority, or a fork kept as evidence) is
 * journalled in arrival order. Only durable ops are offered to peers (`durableMissingFor`,
 * `onDurable`): a peer that held an op this node then lost in a crash would make this node's
 * next op at that seq a fork.
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { nodeIdFromPublicKey, type NodeId, type NodeKeyPair } from '../../protocol/identity.ts'
import { createOp, isActiveMember, OpLog, type OpBodies, type OpType, type RejectReason, type SignedOp, type SignedOpOf } from '../../protocol/log/index.ts'
import type { KvOperation, KvStore } from '../store/kv.ts'
import type { AddResult } from '../../protocol/log/index.ts'
import { OpJournal } from './op-journal.ts'

/** Reasons that mean the bytes themselves are bad: a journal holding such an op is damaged. */
const DAMAGE: ReadonlySet<RejectReason> = new Set(['too-large', 'malformed', 'signature', 'not-canonical', 'unknown-type', 'bad-body', 'wrong-org'])

export class LogDamagedError extends PeerpacsError {
  static readonly code = 'LOG_DAMAGED'
  constructor (message: string) { super(LogDamagedError.code, message, { hint: 'run `peerpacs log verify`; restore the data dir from its backup if it fails' }) }
}

export class LogWriteError extends PeerpacsError {
  static readonly code = 'LOG_WRITE'
  constructor (message: string, options: { cause?: unknown } = {}) { super(LogWriteError.code, message, options) }
}

/** What a batch of ops from a peer did. */
export interface ReceiveResult {
  readonly results: AddResult[]
  /** Ops that joined the set (now journalled), in arrival order. */
  readonly added: SignedOp[]
  /** The ops' bytes were bad (forged, malformed, non-canonical, another org): the sender misbehaved. */
  readonly damaged: Array<{ index: number, reason: RejectReason }>
  readonly forks: SignedOp[]
  /** Ops waiting for parents the sender did not send. */
  readonly pending: number
}

export type DurableListener = (ops: readonly SignedOp[]) => void

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

  private constructor (oplog: OpLog, journal: OpJournal, kv: KvStore, key: NodeKeyPair, provider: CryptoProvider) {
    this.oplog = oplog
    this.#journal = journal
    this.#kv = kv
    this.#key = key
    this.#provider = provider
    this.nodeId = nodeIdFromPublicKey(key.publicKey)
    const observable = kv as KvStore & { afterCommit?: (l: (ops: readonly KvOperation[]) => void) => void }
    observable.afterCommit?.((ops) => { this.#committed(ops) })
    this.#observed = observable.afterCommit !== undefined
  }

  readonly #observed: boolean

  #committed (ops: readonly KvOperation[]): void {
    const durable: SignedOp[] = []
    for (const write of ops) {
      const op = this.#undurable.get(write)
      if (op === undefined) continue
      this.#undurable.delete(write)
      this.#undurableIds.delete(op.idHex)
      durable.push(op)
    }
    if (durable.length > 0) this.#emit(durable)
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
  durableMissingFor (vector: ReadonlyMap<string, number>): SignedOp[] {
    return this.oplog.missingFor(vector).filter((op) => !this.#undurableIds.has(op.idHex))
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
    const results = this.oplog.addMany([...inputs])
    const added = this.oplog.ops().slice(before)
    const damaged: ReceiveResult['damaged'] = []
    const forks: SignedOp[] = []
    let pending = 0
    for (const [index, r] of results.entries()) {
      if (r.status === 'rejected' && r.reason !== undefined && DAMAGE.has(r.reason)) damaged.push({ index, reason: r.reason })
      if (r.status === 'fork' && r.op !== undefined) forks.push(r.op)
      if (r.status === 'pending') pending++
    }
    if (added.length > 0) {
      const writes = added.map((op) => this.#journal.entry(op.bytes))
      try {
        await this.#kv.batch(writes)
      } catch (error) {
        this.#broken = error
        throw new LogWriteError('received ops could not be journalled; the node must restart', { cause: error })
      }
      // The group-commit store already reported these through afterCommit only for prepared ops.
      this.#emit(added)
    }
    return { results, added, damaged, forks, pending }
  }

  /** Loads the journal on top of the org's genesis op; every op is verified again. */
  static async open (kv: KvStore, provider: CryptoProvider, genesisBytes: Uint8Array, key: NodeKeyPair): Promise<NodeLog> {
    const oplog = new OpLog(provider, genesisBytes)
    const stored: Uint8Array[] = []
    const journal = await OpJournal.load(kv, (bytes) => { stored.push(bytes) })
    const results = oplog.addMany(stored)
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected' && r.reason !== undefined && DAMAGE.has(r.reason)) {
        throw new LogDamagedError(`op ${i} of the journal is damaged (${r.reason}): the log does not load`)
      }
    }
    if (oplog.pendingCount > 0) throw new LogDamagedError(`${oplog.pendingCount} ops of the journal miss their parents: ops were lost`)
    return new NodeLog(oplog, journal, kv, key, provider)
  }

  get publicKey (): Uint8Array { return this.#key.publicKey }

  /** Signs and applies this node's next op; the caller commits `write` (see the header). */
  prepare<T extends OpType> (type: T, body: OpBodies[T]): PreparedOp<T> {
    if (this.#broken !== undefined) throw new LogWriteError('an earlier log write failed; restart the node before writing again', { cause: this.#broken })
    // Refused before anything is signed: an op that the log then refused would still hold a seq
    // and a place among the heads in memory, but never reach the journal.
    const state = this.oplog.state
    if (!isActiveMember(state, this.nodeId)) throw new LogWriteError(`this node (${this.nodeId}) is not an active member of its org any more: it may not write ${type}`)
    if (state.forks.has(this.nodeId)) throw new LogWriteError('this node\'s own ops are forked (its key signed two ops with one seq): it may not write')
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
    if (this.#observed) {
      this.#undurable.set(write, op as unknown as SignedOp)
      this.#undurableIds.add(op.idHex)
    } else {
      // A store that cannot say when a batch is durable (tests' memory stores): offered at once.
      queueMicrotask(() => { this.#emit([op as unknown as SignedOp]) })
    }
    return { op, write, failed: (error) => { this.#broken = error } }
  }

  /** Writes one op of this node on its own batch. */
  async append<T extends OpType> (type: T, body: OpBodies[T], extra: readonly KvOperation[] = []): Promise<SignedOpOf<T>> {
    const prepared = this.prepare(type, body)
    try {
      await this.#kv.batch([prepared.write, ...extra])
    } catch (error) {
      prepared.failed(error)
      throw error
    }
    return prepared.op
  }

  /** Every op held, in arrival order (a causal order). */
  ops (): readonly SignedOp[] { return this.oplog.ops() }
}
