/**
 * The op set as a causal DAG (docs/protocol.md "Validation" step 2): ops by id, ops waiting for
 * parents (bounded), per-author seq index and forks, heads, and per-op causal facts that never
 * change once the op is in: depth (longest path from genesis), whether it follows its author's
 * chain (seq − 1 is an ancestor, or seq 1 and none is), and a vector clock (author → highest
 * chain-following seq among the op and its ancestors).
 *
 * Ancestry is read from the clocks: a chain-following op `a` below its author's fork seq is the
 * only op at (author, seq), and every chain-following op of that author at a higher seq descends
 * from it, so `a` is an ancestor of `b` iff clock(b)[author(a)] ≥ seq(a). Ops for which this is
 * not exact (off-chain, or at/after a fork) never apply, so the authority rules never ask.
 */
import { compareBytes } from './fields.ts'
import type { OpIdHex, SignedOp } from './op.ts'

export interface DagEntry {
  readonly op: SignedOp
  /** Position in arrival order: a causal order (parents always arrive first). */
  readonly index: number
  readonly parents: readonly number[]
  readonly author: number
  readonly depth: number
  /** seq − 1 by the same author is an ancestor (or seq is 1 and no op of the author is). */
  readonly chained: boolean
  readonly clock: Int32Array
}

export const DEFAULT_MAX_PENDING = 10_000

export class OpDag {
  readonly entries: DagEntry[] = []
  readonly #byId = new Map<string, DagEntry>()
  readonly #authorIndex = new Map<string, number>()
  readonly authorKeys: Uint8Array[] = []
  /** Per author index: seq → entry indices holding that seq. */
  readonly #seqs: Array<Map<number, number[]>> = []
  /** Per author index: the lowest seq held by two or more ops, if any. */
  readonly #forkSeq: number[] = []
  readonly #heads = new Set<number>()
  readonly #pending = new Map<string, SignedOp>()
  readonly #waiting = new Map<string, Set<string>>()
  readonly maxPending: number
  #order: number[] | undefined

  constructor (maxPending = DEFAULT_MAX_PENDING) { this.maxPending = maxPending }

  get size (): number { return this.entries.length }
  get pendingCount (): number { return this.#pending.size }

  get (idHex: string): DagEntry | undefined { return this.#byId.get(idHex) }
  has (idHex: string): boolean { return this.#byId.has(idHex) }
  isPending (idHex: string): boolean { return this.#pending.has(idHex) }

  authorOf (key: Uint8Array, hex: string): number {
    let i = this.#authorIndex.get(hex)
    if (i === undefined) {
      i = this.authorKeys.length
      this.#authorIndex.set(hex, i)
      this.authorKeys.push(key)
      this.#seqs.push(new Map())
      this.#forkSeq.push(Infinity)
    }
    return i
  }

  authorIndexOf (hex: string): number | undefined { return this.#authorIndex.get(hex) }

  /** Seq from which this author's ops do not apply (Infinity when it never forked). */
  forkSeq (author: number): number { return this.#forkSeq[author] ?? Infinity }

  opsAt (author: number, seq: number): readonly number[] { return this.#seqs[author]?.get(seq) ?? [] }

  /** Parent ids not in the set. */
  missingParents (op: SignedOp): string[] {
    const out: string[] = []
    for (const p of op.parents) {
      const hex = hexOf(p)
      if (!this.#byId.has(hex)) out.push(hex)
    }
    return out
  }

  /** Parks an op until `missing` arrive; false when the pending set is full. */
  park (op: SignedOp, missing: readonly string[]): boolean {
    if (this.#pending.has(op.idHex)) return true
    if (this.#pending.size >= this.maxPending) return false
    this.#pending.set(op.idHex, op)
    for (const m of missing) {
      let set = this.#waiting.get(m)
      if (set === undefined) this.#waiting.set(m, set = new Set())
      set.add(op.idHex)
    }
    return true
  }

  /** Pending ops whose parents are now all present, after `idHex` arrived (removed from pending). */
  unblocked (idHex: string): SignedOp[] {
    const waiting = this.#waiting.get(idHex)
    if (waiting === undefined) return []
    this.#waiting.delete(idHex)
    const out: SignedOp[] = []
    for (const child of waiting) {
      const op = this.#pending.get(child)
      if (op !== undefined && this.missingParents(op).length === 0) {
        this.#pending.delete(child)
        out.push(op)
      }
    }
    return out
  }

  /** Adds an op whose parents are all present. Returns the entry and whether it made (or extended) a fork. */
  insert (op: SignedOp): { entry: DagEntry, fork: boolean } {
    const parents = op.parents.map((p) => this.#byId.get(hexOf(p))!.index)
    const author = this.authorOf(op.author, hexOf(op.author))
    let depth = 0
    let width = this.authorKeys.length
    for (const p of parents) {
      const e = this.entries[p]!
      if (e.depth + 1 > depth) depth = e.depth + 1
    }
    const clock = new Int32Array(width)
    for (const p of parents) {
      const c = this.entries[p]!.clock
      for (let i = 0; i < c.length; i++) if (c[i]! > clock[i]!) clock[i] = c[i]!
    }
    const prior = clock[author]!
    const chained = op.seq === 1 ? prior === 0 : prior === op.seq - 1
    if (chained) clock[author] = op.seq
    const entry: DagEntry = { op, index: this.entries.length, parents, author, depth, chained, clock }
    this.entries.push(entry)
    this.#byId.set(op.idHex, entry)
    for (const p of parents) this.#heads.delete(p)
    this.#heads.add(entry.index)
    const seqs = this.#seqs[author]!
    const same = seqs.get(op.seq)
    let fork = false
    if (same === undefined) seqs.set(op.seq, [entry.index])
    else {
      same.push(entry.index)
      fork = true
      if (op.seq < this.#forkSeq[author]!) this.#forkSeq[author] = op.seq
    }
    this.#order = undefined
    return { entry, fork }
  }

  /** `a` is a strict ancestor of `b` (exact for chain-following ops below their author's fork seq). */
  isAncestor (a: DagEntry, b: DagEntry): boolean {
    if (a === b) return false
    return (b.clock[a.author] ?? 0) >= a.op.seq && a.depth < b.depth
  }

  heads (): Uint8Array[] {
    return [...this.#heads].map((i) => this.entries[i]!.op.id).sort(compareBytes)
  }

  /** Author (public key hex) → highest seq such that this set holds an op at every seq 1..n. */
  versionVector (): Map<string, number> {
    const out = new Map<string, number>()
    for (const [hex, i] of this.#authorIndex) {
      const seqs = this.#seqs[i]!
      let n = 0
      while (seqs.has(n + 1)) n++
      if (n > 0) out.set(hex, n)
    }
    return out
  }

  /**
   * Author (public key hex) → id of the op at that author's version-vector seq (the lowest id
   * when several ops hold it). Two replicas whose vectors name the same seq for an author but
   * whose tips differ hold different ops there: a fork one of them has not seen yet.
   */
  tips (vector: ReadonlyMap<string, number> = this.versionVector()): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>()
    for (const [hex, seq] of vector) {
      const i = this.#authorIndex.get(hex)
      if (i === undefined) continue
      const at = this.opsAt(i, seq).map((e) => this.entries[e]!.op.id).sort(compareBytes)
      if (at.length > 0) out.set(hex, at[0]!)
    }
    return out
  }

  /**
   * Authors for which a peer's tip (the op it holds at `vector[author]`) is none of the ops this
   * set holds at that seq: the two sets hold different ops at one (author, seq). Only where this
   * set holds that seq (a peer ahead of it is merely ahead).
   */
  divergent (vector: ReadonlyMap<string, number>, tips: ReadonlyMap<string, Uint8Array>): Array<{ author: string, seq: number }> {
    const out: Array<{ author: string, seq: number }> = []
    for (const [hex, tip] of tips) {
      const seq = vector.get(hex)
      const i = this.#authorIndex.get(hex)
      if (seq === undefined || i === undefined) continue
      const at = this.opsAt(i, seq)
      if (at.length === 0) continue
      if (!at.some((e) => compareBytes(this.entries[e]!.op.id, tip) === 0)) out.push({ author: hex, seq })
    }
    return out
  }

  /** Next seq for an author to write: one past the highest it has in the set. */
  nextSeq (authorHex: string): number {
    const i = this.#authorIndex.get(authorHex)
    if (i === undefined) return 1
    let max = 0
    for (const seq of this.#seqs[i]!.keys()) if (seq > max) max = seq
    return max + 1
  }

  /**
   * Ops a peer with version vector `vector` lacks, in arrival order (a causal order): every op
   * above its contiguous seq per author, plus every op at a fork seq (evidence the vector cannot show).
   * With the peer's `tips`: every op of an author whose tip differs here (`divergent`), since the
   * two chains may part anywhere below it; the peer then holds both ops of the fork.
   */
  missingFor (vector: ReadonlyMap<string, number>, tips?: ReadonlyMap<string, Uint8Array>): SignedOp[] {
    const out: SignedOp[] = []
    const diverged = new Set(tips === undefined ? [] : this.divergent(vector, tips).map((d) => d.author))
    const have: number[] = this.authorKeys.map((k) => { const hex = hexOf(k); return diverged.has(hex) ? 0 : vector.get(hex) ?? 0 })
    for (const e of this.entries) {
      if (e.op.seq > have[e.author]! || this.opsAt(e.author, e.op.seq).length > 1) out.push(e.op)
    }
    return out
  }

  /** Deterministic topological order: Kahn's algorithm, ready ops taken in ascending id order. */
  order (): readonly number[] {
    if (this.#order !== undefined) return this.#order
    const n = this.entries.length
    const indegree = new Int32Array(n)
    const children: number[][] = Array.from({ length: n }, () => [])
    for (const e of this.entries) {
      indegree[e.index] = e.parents.length
      for (const p of e.parents) children[p]!.push(e.index)
    }
    const heap = new IdHeap(this.entries)
    for (let i = 0; i < n; i++) if (indegree[i] === 0) heap.push(i)
    const order: number[] = []
    while (heap.size > 0) {
      const i = heap.pop()
      order.push(i)
      for (const c of children[i]!) {
        indegree[c] = indegree[c]! - 1
        if (indegree[c] === 0) heap.push(c)
      }
    }
    this.#order = order
    return order
  }
}

export function hexOf (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]
  return s
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Binary min-heap of entry indices by op id bytes. */
class IdHeap {
  readonly #items: number[] = []
  readonly #entries: readonly DagEntry[]
  constructor (entries: readonly DagEntry[]) { this.#entries = entries }
  get size (): number { return this.#items.length }
  #less (a: number, b: number): boolean { return compareBytes(this.#entries[a]!.op.id, this.#entries[b]!.op.id) < 0 }
  push (i: number): void {
    const items = this.#items
    items.push(i)
    let k = items.length - 1
    while (k > 0) {
      const parent = (k - 1) >> 1
      if (!this.#less(items[k]!, items[parent]!)) break
      ;[items[k], items[parent]] = [items[parent]!, items[k]!]
      k = parent
    }
  }
  pop (): number {
    const items = this.#items
    const top = items[0]!
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let k = 0
      for (;;) {
        const l = 2 * k + 1
        const r = l + 1
        let m = k
        if (l < items.length && this.#less(items[l]!, items[m]!)) m = l
        if (r < items.length && this.#less(items[r]!, items[m]!)) m = r
        if (m === k) break
        ;[items[k], items[m]] = [items[m]!, items[k]!]
        k = m
      }
    }
    return top
  }
}

export type { OpIdHex }
