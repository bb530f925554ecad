/**
 * OpLog: the org's op set in memory and its state (pure; the node persists the op bytes and
 * feeds them back on start). `add` takes an op from anywhere, in any order:
 *
 * - 'duplicate': already held; 'pending': a parent is missing, it waits (bounded);
 * - 'applied' / 'rejected' (with a reason) once judged; 'fork' when it is a second op at one
 *   (author, seq) — kept as evidence, the author flagged.
 *
 * An op that cannot change any earlier verdict (a content op: study, instance, audit, case
 * update, not forking, not re-registering a study) is judged and applied alone; anything else
 * (membership, epochs, forks) recomputes the whole state. `replay()` always recomputes, and
 * equals the incremental state (tests compare digests). `addMany` inserts a batch and settles once,
 * which is how a node loads its journal.
 */
import { expectBytes, isBytes } from '../bytes.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import type { OrgId } from '../genesis.ts'
import { MEMBERSHIP_TYPES } from './bodies.ts'
import { DEFAULT_MAX_PENDING, hexOf, OpDag } from './dag.ts'
import { OpRejectedError, type RejectReason } from './errors.ts'
import { decodeOp, type SignedOp } from './op.ts'
import { applyContent, evaluate, type Evaluation } from './replay.ts'
import type { OrgState } from './state.ts'
import { InvalidArgumentError } from '../errors.ts'

export type AddStatus = 'applied' | 'rejected' | 'pending' | 'duplicate' | 'fork'

export interface AddResult {
  readonly status: AddStatus
  readonly reason?: RejectReason
  /** The decoded op (absent when the bytes did not decode). */
  readonly op?: SignedOp
}

export interface OpLogOptions {
  /** Most ops kept waiting for their parents (default 10 000); beyond, new ones are refused ('pending-full'). */
  maxPending?: number
}

export type OpVerdict =
  | { readonly status: 'applied' }
  | { readonly status: 'rejected', readonly reason: RejectReason }
  | { readonly status: 'pending' }

export class OpLog {
  readonly provider: CryptoProvider
  readonly orgId: OrgId
  readonly #dag: OpDag
  #evaluation: Evaluation

  /** A log holding the org's genesis op (bytes or decoded). */
  constructor (provider: CryptoProvider, genesis: SignedOp | Uint8Array, options: OpLogOptions = {}) {
    this.provider = expectProvider(provider, 'OpLog(provider)')
    const op = isBytes(genesis) ? decodeOp(provider, genesis) : genesis
    if (op?.type !== 'org.genesis') throw new InvalidArgumentError('OpLog(genesis): expected the org.genesis op')
    this.orgId = op.idHex as string as OrgId
    this.#dag = new OpDag(options.maxPending ?? DEFAULT_MAX_PENDING)
    this.#dag.insert(op)
    this.#evaluation = evaluate(provider, this.#dag, this.orgId)
  }

  get state (): OrgState { return this.#evaluation.state }
  /** Ops held (not counting pending ones). */
  get size (): number { return this.#dag.size }
  get pendingCount (): number { return this.#dag.pendingCount }

  /** Adds one op (bytes are decoded first; a decoding failure is a 'rejected' result, not a throw). */
  add (input: SignedOp | Uint8Array): AddResult {
    return this.addMany([input])[0]!
  }

  /** Adds a batch and settles the state once. Results are in input order. */
  addMany (inputs: ReadonlyArray<SignedOp | Uint8Array>): AddResult[] {
    if (!Array.isArray(inputs)) throw new InvalidArgumentError('OpLog.addMany(inputs): expected an array')
    const results: Array<AddResult | undefined> = []
    const inserted = new Map<string, { index: number, fork: boolean }>()
    let full = false
    const insertCascade = (first: SignedOp): void => {
      const queue = [first]
      while (queue.length > 0) {
        const op = queue.shift()!
        const { entry, fork } = this.#dag.insert(op)
        inserted.set(op.idHex, { index: entry.index, fork })
        const study = op.type === 'study.register' ? op.body.study : undefined
        // A second register of a study or add of an account: which is first depends on the whole order.
        const again = (study !== undefined && this.#evaluation.studyOps.has(study)) || (op.type === 'user.add' && this.#evaluation.userOps.has(hexOf(op.body.user)))
        if (fork || MEMBERSHIP_TYPES.has(op.type) || again) full = true
        if (!full) applyContent(this.#dag, this.#evaluation, entry)
        queue.push(...this.#dag.unblocked(op.idHex))
      }
    }
    const decoded: Array<SignedOp | undefined> = []
    for (const [i, input] of inputs.entries()) {
      let op: SignedOp
      try {
        op = isBytes(input) ? decodeOp(this.provider, input) : checkSigned(input)
      } catch (error) {
        if (error instanceof OpRejectedError) { results[i] = { status: 'rejected', reason: error.reason }; decoded.push(undefined); continue }
        throw error
      }
      decoded.push(op)
      if (this.#dag.has(op.idHex) && !inserted.has(op.idHex)) { results[i] = { status: 'duplicate', op }; continue }
      if (inserted.has(op.idHex)) continue
      if (this.#dag.isPending(op.idHex)) { results[i] = { status: 'pending', op }; continue }
      if (op.type === 'org.genesis' || op.org !== this.orgId) { results[i] = { status: 'rejected', reason: 'wrong-org', op }; continue }
      const missing = this.#dag.missingParents(op)
      if (missing.length > 0) {
        results[i] = this.#dag.park(op, missing) ? { status: 'pending', op } : { status: 'rejected', reason: 'pending-full', op }
        continue
      }
      insertCascade(op)
    }
    if (full) this.#evaluation = evaluate(this.provider, this.#dag, this.orgId)
    return decoded.map((op, i) => {
      const done = results[i]
      if (done !== undefined && !(done.status === 'pending' && inserted.has(op!.idHex))) return done
      const entry = inserted.get(op!.idHex)!
      const reason = this.#evaluation.reasons.get(entry.index)
      if (entry.fork) return { status: 'fork', reason: reason ?? 'fork', op }
      return reason === undefined ? { status: 'applied', op } : { status: 'rejected', reason, op }
    })
  }

  /** Recomputes the state from the set alone (the incremental state must equal it). */
  replay (): OrgState {
    return evaluate(this.provider, this.#dag, this.orgId).state
  }

  /** Recomputes and keeps the result. */
  settle (): void {
    this.#evaluation = evaluate(this.provider, this.#dag, this.orgId)
  }

  get (idHex: string): SignedOp | undefined { return this.#dag.get(idHex)?.op }
  has (idHex: string): boolean { return this.#dag.has(idHex) }

  verdict (idHex: string): OpVerdict | undefined {
    if (this.#dag.isPending(idHex)) return { status: 'pending' }
    const entry = this.#dag.get(idHex)
    if (entry === undefined) return undefined
    const reason = this.#evaluation.reasons.get(entry.index)
    return reason === undefined ? { status: 'applied' } : { status: 'rejected', reason }
  }

  /** Every op held, in arrival order (a causal order), for persisting or sending. */
  ops (): SignedOp[] { return this.#dag.entries.map((e) => e.op) }

  /** The current heads (ids, sorted): the parents of the next op a writer signs. */
  heads (): Uint8Array[] { return this.#dag.heads() }

  /** The seq a writer uses for its next op. */
  nextSeq (author: Uint8Array): number {
    return this.#dag.nextSeq(hexOf(expectBytes(author, 'OpLog.nextSeq(author)', 32)))
  }

  /** Author public key (hex) → highest seq n such that every seq 1..n of that author is held. */
  versionVector (): Map<string, number> { return this.#dag.versionVector() }

  /** Author hex → id of the op at its version-vector seq (see OpDag.tips): sent with the vector. */
  tips (vector?: ReadonlyMap<string, number>): Map<string, Uint8Array> { return this.#dag.tips(vector) }

  /** Authors whose op at a peer's vector seq differs from the peer's tip there (a fork). */
  divergent (vector: ReadonlyMap<string, number>, tips: ReadonlyMap<string, Uint8Array>): Array<{ author: string, seq: number }> {
    return this.#dag.divergent(vector, tips)
  }

  /** The ops of `author` (public key hex) held at `seq` (two or more: a fork). */
  opsAt (author: string, seq: number): SignedOp[] {
    const i = this.#dag.authorIndexOf(author)
    return i === undefined ? [] : this.#dag.opsAt(i, seq).map((e) => this.#dag.entries[e]!.op)
  }

  /** The ops a peer with version vector `vector` (and tips, if it sent them) lacks, parents before children. */
  missingFor (vector: ReadonlyMap<string, number>, tips?: ReadonlyMap<string, Uint8Array>): SignedOp[] {
    if (!(vector instanceof Map)) throw new InvalidArgumentError('OpLog.missingFor(vector): expected a Map of author hex → seq')
    return this.#dag.missingFor(vector, tips)
  }

  /** The deterministic topological order (Kahn, ties by ascending id), as op ids. */
  order (): SignedOp[] { return this.#dag.order().map((i) => this.#dag.entries[i]!.op) }
}

function checkSigned (op: SignedOp): SignedOp {
  if (op === null || typeof op !== 'object' || !isBytes(op.bytes) || !isBytes(op.id) || typeof op.idHex !== 'string') {
    throw new InvalidArgumentError('OpLog.add: expected op bytes or a SignedOp from decodeOp/createOp')
  }
  return op
}
