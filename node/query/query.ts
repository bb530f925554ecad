/**
 * Runs a query over the catalogue at one level: instances are grouped by the level's unique key,
 * each group becomes one row of every attribute at or above the level (and the computed counts),
 * and a row is kept when each key matches. A key for an attribute below the level (Modality in a
 * study query, as QIDO clients send) matches when any instance of the group matches it.
 */
import { ATTRIBUTES, BY_KEYWORD, levelRank, UNIQUE_KEY, type AttributeValue, type CatalogInstance, type QueryLevel } from './attributes.ts'
import { checkKey, compileKey, QueryKeyError } from './match.ts'

export type QueryRow = Record<string, AttributeValue>

export interface QueryResult {
  readonly rows: QueryRow[]
  /** Rows matched before limit and offset were applied. */
  readonly total: number
}

export interface QueryOptions {
  readonly limit?: number
  readonly offset?: number
}

function groupKey (level: QueryLevel, i: CatalogInstance): string {
  // A patient is its ID and name together: two patients may share an ID across issuers.
  if (level === 'PATIENT') return `${i.patientId ?? ''}\u0000${i.patientName ?? ''}`
  if (level === 'STUDY') return i.studyInstanceUid
  if (level === 'SERIES') return i.seriesInstanceUid
  return i.sopInstanceUid
}

function rowOf (level: QueryLevel, instances: readonly CatalogInstance[]): QueryRow {
  const row: QueryRow = {}
  const first = instances[0]!
  for (const a of ATTRIBUTES) {
    if (levelRank(a.level) > levelRank(level)) continue
    if (a.over !== undefined && a.level !== level) continue
    const value = a.over !== undefined ? a.over(instances) : a.of!(first)
    if (value !== undefined) row[a.keyword] = value
  }
  return row
}

function order (level: QueryLevel, a: QueryRow, b: QueryRow): number {
  const s = (r: QueryRow, k: string): string => String(r[k] ?? '')
  const n = (r: QueryRow, k: string): number => Number(r[k] ?? 0)
  if (level === 'PATIENT') return s(a, 'PatientName').localeCompare(s(b, 'PatientName')) || s(a, 'PatientID').localeCompare(s(b, 'PatientID'))
  if (level === 'STUDY') return s(b, 'StudyDate').localeCompare(s(a, 'StudyDate')) || s(a, 'StudyInstanceUID').localeCompare(s(b, 'StudyInstanceUID'))
  if (level === 'SERIES') return n(a, 'SeriesNumber') - n(b, 'SeriesNumber') || s(a, 'SeriesInstanceUID').localeCompare(s(b, 'SeriesInstanceUID'))
  return n(a, 'InstanceNumber') - n(b, 'InstanceNumber') || s(a, 'SOPInstanceUID').localeCompare(s(b, 'SOPInstanceUID'))
}

/**
 * `keys` maps DICOM keywords to matching keys ('' is universal matching). Unknown keywords throw
 * QueryKeyError: callers that may ignore them (C-FIND return keys) filter them out first.
 */
export function runQuery (instances: Iterable<CatalogInstance>, level: QueryLevel, keys: Readonly<Record<string, string>>, options: QueryOptions = {}): QueryResult {
  const checks: Array<{ keyword: string, test: (value: AttributeValue | undefined) => boolean, of: ((i: CatalogInstance) => AttributeValue | undefined) | undefined, below: boolean }> = []
  for (const [keyword, key] of Object.entries(keys)) {
    const definition = BY_KEYWORD.get(keyword)
    if (definition === undefined) throw new QueryKeyError(`${keyword} is not an attribute peerpacs can match on`)
    checkKey(keyword, definition.vr, key)
    if (key === '' || key === '*') continue
    checks.push({ keyword, test: compileKey(definition.vr, key), of: definition.of, below: levelRank(definition.level) > levelRank(level) })
  }
  const groups = new Map<string, CatalogInstance[]>()
  for (const instance of instances) {
    const k = groupKey(level, instance)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [instance])
    else group.push(instance)
  }
  const rows: QueryRow[] = []
  for (const group of groups.values()) {
    const row = rowOf(level, group)
    const kept = checks.every((c) => c.below
      ? group.some((i) => c.test(c.of?.(i)))
      : c.test(row[c.keyword]))
    if (kept) rows.push(row)
  }
  rows.sort((a, b) => order(level, a, b))
  const offset = Math.max(0, options.offset ?? 0)
  const end = options.limit === undefined ? undefined : offset + Math.max(0, options.limit)
  return { rows: rows.slice(offset, end), total: rows.length }
}

export { QueryKeyError, UNIQUE_KEY }
