/** The audit trail's own error: an event written as several records (parts) was written only in part. */
import { PeerpacsError } from '../../protocol/errors.ts'

export class AuditWriteError extends PeerpacsError {
  static readonly code = 'AUDIT_WRITE'
  /** Records of the event that are in the log. */
  readonly written: number
  readonly total: number
  constructor (eventId: number, written: number, total: number, cause: unknown) {
    super(AuditWriteError.code,
      `${written} of the ${total} records of one ${eventId} audit event were written; record ${written + 1} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, hint: 'the work they record was done; see the node\'s log (audit.write-failed) and `peerpacs audit verify`' })
    this.written = written
    this.total = total
  }
}
