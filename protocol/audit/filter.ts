/**
 * The audit search filter (`peerpacs audit --since --patient …`, the auditor's page): which
 * records match. Every given criterion must hold (AND); an absent one matches everything.
 *   since, until  ms, inclusive: since ≤ time ≤ until
 *   patient       a patient object (role 1) with this id, exactly
 *   study         a study object (id type 110180) with this Study Instance UID, exactly
 *   user          an active participant with this user id or alternative user id, exactly
 *   event         an event id (110100–110114), or a list of them
 * Matching is exact rather than fuzzy on purpose: an auditor asks about one patient, and a
 * partial match would show them other patients' records.
 */
import { expectInteger, expectObject, expectString } from '../bytes.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { AuditRecord } from './record.ts'
import { ID_TYPE, NAMES, OBJECT_ROLE } from './vocabulary.ts'

export interface AuditFilter {
  since?: number
  until?: number
  patient?: string
  study?: string
  user?: string
  event?: number | readonly number[]
}

export function matchesAuditFilter (record: AuditRecord, filter: AuditFilter): boolean {
  expectObject(record, 'matchesAuditFilter(record)')
  expectObject(filter, 'matchesAuditFilter(filter)')
  const { since, until, patient, study, user, event } = filter
  if (since !== undefined && record.time < expectInteger(since, 'matchesAuditFilter(filter.since)')) return false
  if (until !== undefined && record.time > expectInteger(until, 'matchesAuditFilter(filter.until)')) return false
  if (patient !== undefined) {
    const id = expectString(patient, 'matchesAuditFilter(filter.patient)')
    if (!record.objects.some(o => o.roleCode === OBJECT_ROLE.patient && o.id === id)) return false
  }
  if (study !== undefined) {
    const uid = expectString(study, 'matchesAuditFilter(filter.study)')
    if (!record.objects.some(o => o.idTypeCode === ID_TYPE.studyInstanceUid && o.id === uid)) return false
  }
  if (user !== undefined) {
    const id = expectString(user, 'matchesAuditFilter(filter.user)')
    if (!record.participants.some(p => p.userId === id || p.altUserId === id)) return false
  }
  if (event !== undefined) {
    const events: readonly number[] = typeof event === 'number' ? [event] : event
    if (!Array.isArray(events) || events.some(e => typeof e !== 'number' || NAMES.eventId(e) === undefined)) {
      throw new InvalidArgumentError('matchesAuditFilter(filter.event): expected an event id 110100–110114 or a list of them')
    }
    if (!events.includes(record.eventId)) return false
  }
  return true
}
