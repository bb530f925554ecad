/**
 * `peerpacs audit`: the audit trail in the signed log. Search it (a table, or JSON lines), verify
 * it (every author's chain complete, every op signed, no fork, every record opens), or export it
 * as JSON lines or DICOM audit messages. Reading or exporting the trail is itself audited (110101).
 */
import { lazyRun, type CommandSpec } from '../command.ts'

export const audit: CommandSpec = {
  name: 'audit',
  summary: 'Search, verify or export the audit trail: who did what to which study, and when.',
  args: '[verify|export]',
  minArgs: 0,
  maxArgs: 1,
  usesKeys: true,
  description: `
Actions:
  audit [FILTERS]                    lists the records that match, oldest first: time, event,
                                     action, outcome, user, patient, study. With --json, one
                                     JSON line per record ({"type":"audit", ...} in the JSON
                                     lines export format).
  audit verify                       checks the trail is whole: every author's ops form the
                                     chain 1..n (a deleted entry shows as a gap), every op's
                                     signature verifies (an edited entry shows as damage), no
                                     author forked, no audit op was rejected, and every record
                                     opens with this node's keys (--keyless: skip that, no
                                     passphrase needed). Deleted newest entries leave no gap:
                                     this node's chain must also reach its high-water mark
                                     (log-mark.json) and, through a running node, every seq
                                     its peers and the backup hold of it.
  audit export [--format F] [--out FILE] [FILTERS]
                                     every matching record, as JSON lines (--format jsonl, the
                                     default) or as DICOM audit messages (--format dicom-xml,
                                     PS3.15 A.5: an XML document whose root <AuditMessages>
                                     holds one <AuditMessage> per line). Without --out, to
                                     stdout. An existing FILE is not overwritten.

FILTERS (all given must hold): --since/--until an ISO 8601 date or date-time (inclusive; a
bare date as --until means the whole day, UTC), --patient ID and --study UID (exact),
--user ID (a participant's user id, e.g. os:alice or token:ID), --event CODE[,CODE...]
(110100–110114, e.g. 110107 Import, 110103 Instances Accessed, 110113 Security Alert).

Listing and exporting are audited too: a 110101 Audit Log Used record is written after the
records are read (so it shows from the next reading on). Exit code 1 when a record does not
open, or when verify finds a problem.`,
  options: {
    since: { type: 'string', value: 'TIME', help: 'only records at or after TIME (ISO 8601)' },
    until: { type: 'string', value: 'TIME', help: 'only records at or before TIME (ISO 8601; a bare date: that whole day)' },
    patient: { type: 'string', value: 'ID', help: 'only records about this patient id (exact)' },
    study: { type: 'string', value: 'UID', help: 'only records about this StudyInstanceUID (exact)' },
    user: { type: 'string', value: 'ID', help: 'only records with this participant user id (exact)' },
    event: { type: 'string', value: 'CODE', help: 'only these event ids, comma-separated (110100–110114)' },
    format: { type: 'string', value: 'F', help: 'export: jsonl (default) or dicom-xml' },
    out: { type: 'string', value: 'FILE', help: 'export: write to FILE (mode 0600) instead of stdout' },
    keyless: { type: 'boolean', help: 'verify: check chains and signatures only, without opening records' }
  },
  run: lazyRun(async () => await import('../run/audit.ts'))
}
