/**
 * Keeps the journal checkpoint (journal-checkpoint.ts) moving while the node runs: it follows
 * the journal entries NodeLog hands to batches, extends the chain over the durable prefix of the
 * journal (an entry is chained only once it and every entry before it committed, so the record
 * never covers a write that could still be lost or land out of order), and writes the record
 * every EVERY chained entries and when the log is settled before close. A record that lags
 * behind costs only time: entries after it are verified in full at the next open.
 *
 * Writes are on their own batch, one at a time; a failed write is forgotten (the next one or
 * the next open's full verification covers it).
 */
import type { KvOperation, KvStore } from '../store/kv.ts'
import type { JournalChain, JournalCheckpoint } from './journal-checkpoint.ts'

/** Chained entries between two records written while the node runs. */
export const CHECKPOINT_EVERY = 1024

export class CheckpointWriter {
  readonly #kv: KvStore
  readonly #checkpoint: JournalCheckpoint
  readonly #chain: JournalChain
  /** Journal position the chain takes next. */
  #next: number
  /** Entries handed to a batch and not chained yet: position → op id, and whether it committed. */
  readonly #entries = new Map<number, { id: Uint8Array, durable: boolean }>()
  readonly #positions = new Map<KvOperation, number>()
  /** The count of the last record written (or found valid at open). */
  #recorded: number
  #writing: Promise<void> = Promise.resolve()

  constructor (kv: KvStore, checkpoint: JournalCheckpoint, chain: JournalChain, nextPosition: number, recorded: number) {
    this.#kv = kv
    this.#checkpoint = checkpoint
    this.#chain = chain
    this.#next = nextPosition
    this.#recorded = recorded
  }

  /** Entries the chain covers (all durable). */
  get chained (): number { return this.#chain.count }

  /** A journal entry (`write`, from OpJournal.entry) of the op with `id` was handed to a batch. */
  entry (write: KvOperation, id: Uint8Array): void {
    const position = Number(write.key[1])
    this.#entries.set(position, { id, durable: false })
    this.#positions.set(write, position)
  }

  /** The batch carrying `write` committed (writes this writer does not follow are ignored). */
  durable (write: KvOperation): void {
    const position = this.#positions.get(write)
    if (position === undefined) return
    this.#positions.delete(write)
    this.#entries.get(position)!.durable = true
    for (let next = this.#entries.get(this.#next); next?.durable === true; next = this.#entries.get(this.#next)) {
      this.#chain.extend(next.id)
      this.#entries.delete(this.#next++)
    }
    if (this.#chain.count - this.#recorded >= CHECKPOINT_EVERY) this.#write()
  }

  #write (): void {
    const count = this.#chain.count
    const operation = this.#checkpoint.write(count, this.#chain.hash)
    this.#recorded = count
    this.#writing = this.#writing.then(async () => { await this.#kv.batch([operation]) }).catch(() => undefined)
  }

  /** Writes a record covering every chained entry, if the last one covers fewer; resolves when written. */
  async flush (): Promise<void> {
    if (this.#chain.count > this.#recorded) this.#write()
    await this.#writing
  }
}
