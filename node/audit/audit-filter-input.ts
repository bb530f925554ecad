/**
 * The audit search's criteria as people type them (`peerpacs audit --since …`, GET /api/audit?since=…)
 * read into an AuditFilter (protocol/audit/filter.ts). One reader for both surfaces; each passes
 * how an option is named to the person (`--since`, `since`) and the error its surface raises
 * (a usage error, exit 2; a bad request, 400), so the messages say the same thing in both.
 */
import { EVENT_ID, NAMES, type AuditFilter } from '../../protocol/audit/index.ts'

export type FilterField = 'since' | 'until' | 'patient' | 'study' | 'user' | 'event'
export const FILTER_FIELDS: readonly FilterField[] = ['since', 'until', 'patient', 'study', 'user', 'event']

export interface FilterSurface {
  /** How the field is called to the person: `--since` at the command line, `since` over HTTP. */
  readonly name: (field: FilterField) => string
  /** The error to throw for a value that cannot be used. */
  readonly fail: (message: string, hint?: string) => Error
}

const DAY = 24 * 60 * 60 * 1000

/** An ISO 8601 date or date-time; a bare date as `until` means the end of that day (UTC). */
export function parseAuditTime (value: string, field: 'since' | 'until', surface: FilterSurface): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value)
  const t = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(t)) throw surface.fail(`${surface.name(field)} "${value.slice(0, 60)}" is not an ISO 8601 date or date-time`, 'e.g. 2024-05-01 or 2024-05-01T13:45:00Z (a time without a zone is local time)')
  return dateOnly && field === 'until' ? t + DAY - 1 : t
}

export function parseAuditEvents (value: string, surface: FilterSurface): number[] {
  const codes = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (codes.length === 0) throw surface.fail(`${surface.name('event')} needs an event id`)
  return codes.map((c) => {
    const n = /^\d+$/.test(c) ? Number(c) : Number.NaN
    if (NAMES.eventId(n) === undefined) {
      throw surface.fail(`${surface.name('event')} "${c.slice(0, 40)}" is not a DICOM audit event id`,
        `use 110100–110114, e.g. ${EVENT_ID.import} Import, ${EVENT_ID.instancesAccessed} Instances Accessed, ${EVENT_ID.securityAlert} Security Alert; several separated by commas`)
    }
    return n
  })
}

/** The filter the given values ask for (absent or undefined values: no criterion). */
export function auditFilterFrom (values: Partial<Record<FilterField, string>>, surface: FilterSurface): AuditFilter {
  const filter: AuditFilter = {}
  if (values.since !== undefined) filter.since = parseAuditTime(values.since, 'since', surface)
  if (values.until !== undefined) filter.until = parseAuditTime(values.until, 'until', surface)
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) throw surface.fail(`${surface.name('since')} is after ${surface.name('until')}: nothing could match`)
  if (values.patient !== undefined) filter.patient = values.patient
  if (values.study !== undefined) filter.study = values.study
  if (values.user !== undefined) filter.user = values.user
  if (values.event !== undefined) filter.event = parseAuditEvents(values.event, surface)
  return filter
}
