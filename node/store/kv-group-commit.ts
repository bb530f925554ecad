/**
 * Group commit over a KvStore: batches that arrive while one is being written are merged and
 * written together, with one sync, when it finishes. Each caller's promise still resolves only
 * once its own operations are durable. With several instances committing at once this turns
 * N synced writes into a few, which is most of the index's cost during an import.
 */
import { checkKey, type KvKey, type KvOperation, type KvStore } from './kv.ts'

interface Waiting {
  operations: readonly KvOperation[]
  resolve: () => void
  reject: (error: unknown) => void
}

export class GroupCommitKvStore implements KvStore {
  readonly #inner: KvStore
  #queue: Waiting[] = []
  #writing = false
  readonly #committed = new Set<(operations: readonly KvOperation[]) => void>()

  constructor (inner: KvStore) { this.#inner = inner }

  get (key: KvKey): Promise<Uint8Array | undefined> { return this.#inner.get(key) }

  entries (prefix: KvKey): AsyncIterable<[KvKey, Uint8Array]> { return this.#inner.entries(prefix) }

  batch (operations: readonly KvOperation[]): Promise<void> {
    // A malformed batch is refused here, so it cannot take a group down with it.
    try {
      for (const op of operations) checkKey(op.key)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ operations, resolve, reject })
      if (!this.#writing) void this.#drain()
    })
  }

  /**
   * Calls `listener` with each caller's operations once they are durable, before that caller's
   * promise resolves (the log uses it to know which of its ops may be sent to peers).
   */
  afterCommit (listener: (operations: readonly KvOperation[]) => void): () => void {
    this.#committed.add(listener)
    return () => { this.#committed.delete(listener) }
  }

  #done (w: Waiting): void {
    // A listener's failure must not turn a durable write into a reported failure.
    for (const listener of this.#committed) { try { listener(w.operations) } catch {} }
    w.resolve()
  }

  async close (): Promise<void> {
    while (this.#writing) await new Promise((resolve) => setImmediate(resolve))
    await this.#inner.close()
  }

  async #drain (): Promise<void> {
    this.#writing = true
    while (this.#queue.length > 0) {
      const group = this.#queue
      this.#queue = []
      try {
        await this.#inner.batch(group.flatMap((w) => w.operations))
        for (const w of group) this.#done(w)
      } catch (error) {
        // A failed group write (an I/O error) is retried batch by batch, so each caller learns its own fate.
        if (group.length === 1) group[0]!.reject(error)
        else for (const w of group) await this.#inner.batch(w.operations).then(() => this.#done(w), w.reject)
      }
    }
    this.#writing = false
  }
}
