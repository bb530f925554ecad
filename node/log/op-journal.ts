/**
 * Where a node keeps its ops: the signed bytes in the index's level store, in the order this
 * node accepted them (['oplog', counter]). Arrival order is a causal order for everything this
 * node applied, so loading replays without ops waiting for their parents. The bytes are the
 * truth: they are verified again on load, never trusted because they were written here.
 *
 * A journal entry is written in the same level batch as whatever the op caused in the index
 * (an instance record, a study record), so the index never runs ahead of the log or behind it.
 */
import { keys } from '../store/key-space.ts'
import type { KvOperation, KvStore } from '../store/kv.ts'


export class OpJournal {
  readonly #kv: KvStore
  #next: number

  private constructor (kv: KvStore, next: number) {
    this.#kv = kv
    this.#next = next
  }

  /** Reads every stored op in order, handing each to `visit`; returns the journal, ready to append. */
  static async load (kv: KvStore, visit: (bytes: Uint8Array, position: number) => void): Promise<OpJournal> {
    let next = 0
    for await (const [key, value] of kv.entries(keys.journal)) {
      const n = Number(key[1])
      visit(value, n)
      next = n + 1
    }
    return new OpJournal(kv, next)
  }

  get count (): number { return this.#next }

  /** The write that records `bytes` as the next op; the caller puts it into its batch. */
  entry (bytes: Uint8Array): KvOperation {
    return { type: 'put', key: keys.journalEntry(this.#next++), value: bytes }
  }

  /** Records ops on their own (ops that change nothing else in the index). */
  async append (ops: readonly Uint8Array[]): Promise<void> {
    await this.#kv.batch(ops.map((bytes) => this.entry(bytes)))
  }
}
