/**
 * Runs a query at one level. Patient and study queries are answered from the compact study
 * index in memory (study-index.ts): one row per study, or per patient (the studies of one
 * PatientID and PatientName together). Series and instance queries read the instances of each
 * candidate study from the index on disk, one study at a time: the candidates are the studies
 * whose entry can hold a match (study keys, and the series, modalities, SOP classes and SOP
 * instances a study holds), so a query within one study opens only that study's records.
 * Instances are grouped by the level's unique key; each group becomes one row of every attribute
 * at or above the level (and the computed counts), and a row is kept when each key matches. A
 * key for an attribute below the level (Modality in a study query, as QIDO clients send) matches
 * when any instance of the group matches it. Patient and study attributes of series and instance
 * rows are the instances' own; candidates are chosen by their study's record, which holds the
 * values of the study's first instance.
 */
import type { StudyId } from '../../protocol/study-id.ts'
import { ATTRIBUTES, BY_KEYWORD, levelRank, UNIQUE_KEY, type AttributeDefinition, type AttributeValue, type CatalogInstance, type QueryLevel, type StudyEntry } from './attributes.ts'
import { checkKey, compileKey, keyValues, QueryKeyError } from './match.ts'
import type { StudyIndex } from './study-index.ts'

export type QueryRow = Record<string, AttributeValue>

export interface QueryResult {
  readonly rows: QueryRow[]
  /** Rows matched before limit and offset were applied. */
  readonly total: number
}

export interface QueryOptions {
  readonly limit?: number
  readonly offset?: number
  /**
   * The studies the asker may see (a person's role: node/people/study-access.ts). Others are not
   * matched, counted or looked into, so no count or total says they exist.
   */
  readonly visible?: (study: StudyId) => boolean
}

/** What a query reads: the study index in memory, and the records on disk. */
export interface QuerySource {
  readonly studies: StudyIndex
  /** The instances of one study, from the index on disk (damaged records left out). */
  instancesOf: (entry: StudyEntry) => Promise<CatalogInstance[]>
  /** The study an instance is stored under, by its SOP Instance UID. */
  studyOfInstance: (sopInstanceUid: string) => Promise<StudyId | undefined>
}

interface Check {
  readonly definition: AttributeDefinition
  readonly test: (value: AttributeValue | undefined) => boolean
  readonly below: boolean
}

function groupKey (level: QueryLevel, i: CatalogInstance): string {
  if (level === 'SERIES') return i.seriesInstanceUid
  return i.sopInstanceUid
}

/** A patient is its ID and name together: two patients may share an ID across issuers. */
function patientKey (e: StudyEntry): string {
  return `${e.attributes.patientId ?? ''}\u0000${e.attributes.patientName ?? ''}`
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

function studyRowOf (level: 'PATIENT' | 'STUDY', entries: readonly StudyEntry[]): QueryRow {
  const row: QueryRow = {}
  const first = entries[0]!
  for (const a of ATTRIBUTES) {
    if (levelRank(a.level) > levelRank(level)) continue
    if (a.over !== undefined && a.level !== level) continue
    const value = a.patient !== undefined ? a.patient(entries) : a.study!(first)
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

/** The attributes each level's rows are ordered by. */
const ORDER_KEYS: Readonly<Record<QueryLevel, readonly string[]>> = {
  PATIENT: ['PatientName', 'PatientID'], STUDY: ['StudyDate', 'StudyInstanceUID'], SERIES: ['SeriesNumber', 'SeriesInstanceUID'], IMAGE: ['InstanceNumber', 'SOPInstanceUID']
}

interface Candidate {
  /** The row's values of the level's order keys (the whole row when it is already built). */
  readonly sort: QueryRow
  readonly row: () => QueryRow
}

/**
 * The matches kept so far, in order: with a limit only the first offset + limit are held (the
 * rest are counted), and a patient or study row is only built for the matches answered, so a
 * broad query holds and builds no more rows than it returns.
 */
class Kept {
  readonly #kept: Candidate[] = []
  readonly #cap: number
  readonly #level: QueryLevel
  /** Once the kept rows are trimmed to the cap: the last of them; a match ordered after it is only counted. */
  #worst: QueryRow | undefined
  total = 0
  constructor (level: QueryLevel, options: QueryOptions) {
    this.#level = level
    this.#cap = options.limit === undefined ? Infinity : Math.max(0, options.offset ?? 0) + Math.max(0, options.limit)
  }

  add (candidate: Candidate): void {
    this.total++
    if (this.#worst !== undefined && order(this.#level, candidate.sort, this.#worst) >= 0) return
    this.#kept.push(candidate)
    if (this.#kept.length >= 2 * this.#cap + 1024) this.#trim()
  }

  #trim (): void {
    this.#kept.sort((a, b) => order(this.#level, a.sort, b.sort))
    this.#kept.length = Math.min(this.#kept.length, this.#cap)
    if (this.#kept.length > 0 && this.#kept.length === this.#cap) this.#worst = this.#kept[this.#cap - 1]!.sort
  }

  result (options: QueryOptions): QueryResult {
    this.#trim()
    const offset = Math.max(0, options.offset ?? 0)
    const end = options.limit === undefined ? undefined : offset + Math.max(0, options.limit)
    return { rows: this.#kept.slice(offset, end).map((c) => c.row()), total: this.total }
  }
}

/** A built row as a candidate. */
function built (row: QueryRow): Candidate { return { sort: row, row: () => row } }

/** A patient or study group as a candidate: its order keys now, its row when answered. */
function pending (level: 'PATIENT' | 'STUDY', group: readonly StudyEntry[]): Candidate {
  const sort: QueryRow = {}
  for (const keyword of ORDER_KEYS[level]) {
    const value = BY_KEYWORD.get(keyword)!.study!(group[0]!)
    if (value !== undefined) sort[keyword] = value
  }
  return { sort, row: () => studyRowOf(level, group) }
}

function compile (level: QueryLevel, keys: Readonly<Record<string, string>>): Check[] {
  const checks: Check[] = []
  for (const [keyword, key] of Object.entries(keys)) {
    const definition = BY_KEYWORD.get(keyword)
    if (definition === undefined) throw new QueryKeyError(`${keyword} is not an attribute peerpacs can match on`)
    checkKey(keyword, definition.vr, key)
    if (key === '' || key === '*') continue
    checks.push({ definition, test: compileKey(definition.vr, key), below: levelRank(definition.level) > levelRank(level) })
  }
  return checks
}

/** Whether the instances of a group satisfy the checks (the row is computed from them). */
function groupMatches (checks: readonly Check[], row: QueryRow, group: readonly CatalogInstance[]): boolean {
  return checks.every((c) => c.below
    ? group.some((i) => c.test(c.definition.of?.(i)))
    : c.test(row[c.definition.keyword]))
}

/**
 * The studies that may hold a match: those named by StudyInstanceUID or holding a named SOP
 * instance when such keys are given (looked up, not scanned), else every study. A patient query
 * takes every study (a patient's counts are over all of them); `holdsSop` still says which hold
 * the SOP instances named.
 */
async function candidates (source: QuerySource, keys: Readonly<Record<string, string>>, everyStudy = false): Promise<{ list: Iterable<StudyEntry>, holdsSop?: Set<StudyId> }> {
  let list: Iterable<StudyEntry> = source.studies.entries()
  const studyKey = keys.StudyInstanceUID
  if (studyKey !== undefined && studyKey !== '' && studyKey !== '*') {
    list = [...new Set(keyValues('UI', studyKey))].map((uid) => source.studies.byUid(uid)).filter((e): e is StudyEntry => e !== undefined)
  }
  const sopKey = keys.SOPInstanceUID
  if (sopKey === undefined || sopKey === '' || sopKey === '*') return { list: everyStudy ? source.studies.entries() : list }
  const holdsSop = new Set<StudyId>()
  for (const uid of new Set(keyValues('UI', sopKey))) {
    const id = await source.studyOfInstance(uid)
    if (id !== undefined) holdsSop.add(id)
  }
  return { list: everyStudy ? source.studies.entries() : [...list].filter((e) => holdsSop.has(e.storedIn)), holdsSop }
}

/**
 * Whether a study's entry can hold a match of `check`, decided in memory: true or false, or
 * undefined when only its instances can tell (read from disk, for study and patient queries).
 */
function entryAllows (check: Check, e: StudyEntry, holdsSop: Set<StudyId> | undefined): boolean | undefined {
  const d = check.definition
  if (d.study !== undefined) return d.over !== undefined && check.below ? false : check.test(d.study(e))
  if (d.anyInStudy !== undefined) return d.anyInStudy(e).some((v) => check.test(v))
  if (d.keyword === 'SOPInstanceUID' && holdsSop !== undefined) return holdsSop.has(e.storedIn)
  return undefined
}

/** The value a patient or study row has for a check's attribute (what studyRowOf would put there). */
function groupValue (level: 'PATIENT' | 'STUDY', d: AttributeDefinition, group: readonly StudyEntry[]): AttributeValue | undefined {
  if (d.over !== undefined && d.level !== level) return undefined
  return d.patient !== undefined ? d.patient(group) : d.study?.(group[0]!)
}

async function studyLevel (source: QuerySource, level: 'PATIENT' | 'STUDY', keys: Readonly<Record<string, string>>, checks: readonly Check[], kept: Kept): Promise<void> {
  const { list, holdsSop } = await candidates(source, keys, level === 'PATIENT')
  // A check on an attribute at or above the level is tested on the group's row; a check on one
  // below it is met when any study of the group (any instance of it) meets it. Rows are only
  // built for the groups kept, and disk is only read for checks the entries cannot decide.
  const onRow = checks.filter((c) => !c.below)
  const below = checks.filter((c) => c.below)
  const onDisk = async (c: Check, group: readonly StudyEntry[]): Promise<boolean> => {
    for (const e of group) {
      const allowed = entryAllows(c, e, holdsSop)
      if (allowed ?? (await source.instancesOf(e)).some((i) => c.test(c.definition.of?.(i)))) return true
    }
    return false
  }
  /** Whether a group is kept as far as memory can tell: true, false, or the checks left to the disk. */
  const decide = (group: readonly StudyEntry[]): boolean | Check[] => {
    if (!onRow.every((c) => c.test(groupValue(level, c.definition, group)))) return false
    const undecided: Check[] = []
    for (const c of below) {
      const decided = group.map((e) => entryAllows(c, e, holdsSop))
      if (decided.includes(true)) continue
      if (!decided.includes(undefined)) return false
      undecided.push(c)
    }
    return undecided.length === 0 || undecided
  }
  const consider = async (group: readonly StudyEntry[]): Promise<void> => {
    const decided = decide(group)
    if (decided === false) return
    if (decided !== true) for (const c of decided) if (!await onDisk(c, group)) return
    kept.add(pending(level, group))
  }
  if (level === 'STUDY') {
    // The hot loop of a study query: each key read straight from the entry, no array, no
    // promise per study unless a key needs the study's records.
    const tests = onRow.map((c) => {
      const d = c.definition
      const absent = d.over !== undefined && d.level !== level
      return (e: StudyEntry): boolean => c.test(absent ? undefined : d.study?.(e))
    })
    for (const e of list) {
      if (!tests.every((test) => test(e))) continue
      if (below.length === 0) {
        kept.add(pending(level, [e]))
        continue
      }
      await consider([e])
    }
    return
  }
  const patients = new Map<string, StudyEntry[]>()
  for (const e of list) {
    const k = patientKey(e)
    const group = patients.get(k)
    if (group === undefined) patients.set(k, [e])
    else group.push(e)
  }
  for (const group of patients.values()) await consider(group)
}

async function instanceLevel (source: QuerySource, level: 'SERIES' | 'IMAGE', keys: Readonly<Record<string, string>>, checks: readonly Check[], kept: Kept): Promise<void> {
  // A computed study or patient attribute is not part of a series or instance row: never met.
  if (checks.some((c) => !c.below && c.definition.over !== undefined && c.definition.level !== level)) return
  const { list, holdsSop } = await candidates(source, keys)
  for (const e of list) {
    if (!checks.every((c) => c.definition.over !== undefined || entryAllows(c, e, holdsSop) !== false)) continue
    const groups = new Map<string, CatalogInstance[]>()
    for (const instance of await source.instancesOf(e)) {
      const k = groupKey(level, instance)
      const group = groups.get(k)
      if (group === undefined) groups.set(k, [instance])
      else group.push(instance)
    }
    for (const group of groups.values()) {
      const row = rowOf(level, group)
      if (groupMatches(checks, row, group)) kept.add(built(row))
    }
  }
}

/**
 * `keys` maps DICOM keywords to matching keys ('' is universal matching). Unknown keywords throw
 * QueryKeyError: callers that may ignore them (C-FIND return keys) filter them out first.
 */
export async function runQuery (source: QuerySource, level: QueryLevel, keys: Readonly<Record<string, string>>, options: QueryOptions = {}): Promise<QueryResult> {
  const checks = compile(level, keys)
  const kept = new Kept(level, options)
  const visible = options.visible
  if (visible !== undefined) {
    const studies = source.studies
    const view = {
      * entries () { for (const e of studies.entries()) if (visible(e.storedIn)) yield e },
      byUid: (uid: string) => { const e = studies.byUid(uid); return e !== undefined && visible(e.storedIn) ? e : undefined }
    }
    source = { ...source, studies: view as unknown as StudyIndex }
  }
  if (level === 'PATIENT' || level === 'STUDY') await studyLevel(source, level, keys, checks, kept)
  else await instanceLevel(source, level, keys, checks, kept)
  return kept.result(options)
}

export { QueryKeyError, UNIQUE_KEY }
