/**
 * The node's audit trail writer. Every edge reports what touched PHI here; each report becomes
 * one signed, sealed `audit.event` op (docs/protocol.md "Audit"). Writing never blocks or fails the
 * work it records: a C-STORE is answered whether or not its audit op is on disk yet, and a
 * failed audit write is logged loudly (without PHI) and counted, so `status` can show it.
 * `flush()` waits for everything reported so far: the node calls it before it stops.
 *
 * An event that names many studies comes as a list of records, its parts (protocol/audit/
 * parts.ts); `emit` and `record` take the list and write every part, in order.
 *
 * A node that has just joined cannot write yet (it holds no epoch key, and its own membership
 * has not reached it): its records wait, up to MAX_WAITING, and are written when the mesh has
 * brought the keys (`retry()`), with the time they happened.
 */
import type { AuditRecord } from '../../protocol/audit/index.ts'
import type { ErrorCode } from '../../protocol/errors.ts'
import type { Logger } from '../logging/logger.ts'
import { errorCodeOf } from '../errors.ts'
import { AuditWriteError } from './errors.ts'

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

/** One record, or the parts of one event. */
export type AuditRecords = AuditRecord | readonly AuditRecord[]

function listOf (records: AuditRecords): readonly AuditRecord[] {
  return Array.isArray(records) ? records as readonly AuditRecord[] : [records as AuditRecord]
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

  /** Records an event (a record, or its parts); returns at once. */
  emit (records: AuditRecords): void {
    for (const record of listOf(records)) this.#emitOne(record)
  }

  #emitOne (record: AuditRecord): void {
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
   * Records an event (a record, or its parts in order) and waits until it is durable (CLI
   * commands, which exit right after); throws when it could not be written, so a command never
   * ends silently unaudited: the write's own error for a single record, AuditWriteError (how
   * many parts are in the log) when a part of several failed.
   */
  async record (records: AuditRecords): Promise<void> {
    const list = listOf(records)
    for (let i = 0; i < list.length; i++) {
      const record = list[i]!
      const done = this.#write(record)
      const tracked = done.then(() => undefined, () => undefined)
      this.#pending.add(tracked)
      void tracked.finally(() => this.#pending.delete(tracked))
      try {
        await done
      } catch (error) {
        this.#failures++
        this.#log.error('audit.write-failed', { eventId: record.eventId, part: i + 1, parts: list.length, code: (error as { code?: string }).code ?? 'UNKNOWN' })
        if (list.length === 1) throw error
        throw new AuditWriteError(record.eventId, i, list.length, error)
      }
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
