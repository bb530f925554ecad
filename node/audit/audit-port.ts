/**
 * What an edge (DIMSE, DICOMweb, HTTP authentication) needs to write the audit trail: this
 * node's id, to name it as the source and the other party, and the trail's writer. Narrower
 * than the archive it comes from, so an edge cannot reach the index, the keys or the blobs
 * through its audit.
 */
import type { AuditRecords } from './auditor.ts'

export interface AuditPort {
  /** This node's id (the audit source, and the local party of each record). */
  readonly nodeId: string
  /** Writes a record, or the parts of one event, without waiting (never blocks the work it records). */
  emit (records: AuditRecords): void
}
