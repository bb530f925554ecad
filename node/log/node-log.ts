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
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { nodeIdFromPublicKey, type NodeId, type NodeKeyPair } from '../../protocol/identity.ts'
import { createOp, isActiveMember, OpLog, type OpBodies, type OpType, type RejectReason, type SignedOp, type SignedOpOf } from '../../protocol/log/index.ts'
import type { KvOperation, KvStore } from '../store/kv.ts'
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

  private constructor (oplog: OpLog, journal: OpJournal, kv: KvStore, key: NodeKeyPair, provider: CryptoProvider) {
    this.oplog = oplog
    this.#journal = journal
    this.#kv = kv
    this.#key = key
    this.#provider = provider
    this.nodeId = nodeIdFromPublicKey(key.publicKey)
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
    return { op, write: this.#journal.entry(op.bytes), failed: (error) => { this.#broken = error } }
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
