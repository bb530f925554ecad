/**
 * The node's audit trail writer. Every edge reports what touched PHI here; each report becomes
 * one signed, sealed `audit.event` op (docs/protocol.md "Audit"). Writing never blocks or fails the
 * work it records: a C-STORE is answered whether or not its audit op is on disk yet, and a
 * failed audit write is logged loudly (without PHI) and counted, so `status` can show it.
 * `flush()` waits for everything reported so far: the node calls it before it stops.
 *
 * A node that has just joined cannot write yet (it holds no epoch key, and its own membership
 * has not reached it): its records wait, up to MAX_WAITING, and are written when the mesh has
 * brought the keys (`retry()`), with the time they happened.
 */
import type { AuditRecord } from '../../protocol/audit/index.ts'
import type { Logger } from '../daemon/log.ts'

export type AuditWriter = (record: AuditRecord) => Promise<void>

export const MAX_WAITING = 1000

/** The node cannot write audit ops yet, but will once the mesh brings its keys. */
function notYet (error: unknown): boolean {
  const e = error as { code?: string, message?: string }
  // LOG_HELD: the journal lacks own ops it signed; writing resumes once they are back (mesh/own-seqs.ts).
  return e.code === 'KEY_FILE' || e.code === 'LOG_HELD' || (e.code === 'LOG_WRITE' && /not an active member/.test(e.message ?? ''))
}

export class Auditor {
  readonly #write: AuditWriter
  readonly #log: Logger
  readonly #pending = new Set<Promise<void>>()
  #failures = 0
  #waiting: AuditRecord[] = []

  constructor (write: AuditWriter, log: Logger) {
    this.#write = write
    this.#log = log
  }

  /** Records an event; returns at once. */
  emit (record: AuditRecord): void {
    const done = this.#write(record).catch((error: unknown) => {
      if (notYet(error) && this.#waiting.length < MAX_WAITING) {
        this.#waiting.push(record)
        this.#log.info('audit.deferred', { eventId: record.eventId, waiting: this.#waiting.length })
        return
      }
      this.#failures++
      this.#log.error('audit.write-failed', { eventId: record.eventId, code: (error as { code?: string }).code ?? 'UNKNOWN' })
    })
    this.#pending.add(done)
    void done.finally(() => this.#pending.delete(done))
  }

  /**
   * Records an event and waits until it is durable (CLI commands, which exit right after);
   * throws when it could not be written, so a command never ends silently unaudited.
   */
  async record (record: AuditRecord): Promise<void> {
    const done = this.#write(record)
    const tracked = done.then(() => undefined, () => undefined)
    this.#pending.add(tracked)
    void tracked.finally(() => this.#pending.delete(tracked))
    try {
      await done
    } catch (error) {
      this.#failures++
      throw error
    }
    await this.flush()
  }

  get failures (): number { return this.#failures }

  /** Records waiting for the node to be able to write. */
  get waiting (): number { return this.#waiting.length }

  /** Writes the waiting records again (the mesh calls it when keys or membership arrived). */
  retry (): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const record of waiting) this.emit(record)
  }

  async flush (): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }
}
