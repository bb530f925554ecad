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
import type { ErrorCode } from '../../protocol/errors.ts'
import type { Logger } from '../logging/logger.ts'
import { errorCodeOf } from '../errors.ts'

export type AuditWriter = (record: AuditRecord) => Promise<void>

export const MAX_WAITING = 1000

/**
 * Codes that mean the node cannot write audit ops yet, but will once the mesh brings what is
 * missing: its epoch key (KEY_FILE), its own membership (LOG_NOT_MEMBER), or own ops its
 * journal lost (LOG_HELD: writing resumes once they are back, mesh/own-seqs.ts).
 */
const NOT_YET: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['KEY_FILE', 'LOG_NOT_MEMBER', 'LOG_HELD'])

function notYet (error: unknown): boolean {
  return NOT_YET.has(errorCodeOf(error))
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
