/**
 * C-FIND over the catalogue (Patient Root and Study Root models, PS3.4 C.6.1/C.6.2). The request
 * identifier's attributes that peerpacs can match (node/query/attributes.ts) become matching
 * keys of pacs.query; any other requested attribute is not a matching key and is returned empty.
 * Each response carries exactly the requested attributes, plus Query/Retrieve Level, plus
 * Specific Character Set when asked or when a value needs it, as elements that identifier.ts
 * writes with the values as stored (a stored value that breaks its VR's rules is no reason to
 * fail a query).
 */
import dcmjs from 'dcmjs'
import { BY_KEYWORD, type QueryLevel } from '../query/attributes.ts'
import type { QueryRow } from '../query/query.ts'
import { QueryKeyError } from '../query/match.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { IdentifierColumn, IdentifierValue } from './identifier.ts'
import type { QueryModel } from './syntaxes.ts'
import { dimseStatusOf } from './error-statuses.ts'
import { STATUS } from './statuses.ts'

/** dcmjs's data dictionary by keyword (tag as "(gggg,eeee)"), for requested attributes peerpacs does not keep. */
const DICTIONARY = (dcmjs.data as unknown as { DicomMetaDictionary: { nameMap: Record<string, { tag: string, vr: string } | undefined> } }).DicomMetaDictionary.nameMap

function dictionaryEntry (keyword: string): { tag: number, vr: string } | undefined {
  const entry = Object.hasOwn(DICTIONARY, keyword) ? DICTIONARY[keyword] : undefined
  const match = entry === undefined ? null : /^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$/.exec(entry.tag)
  return match === null ? undefined : { tag: parseInt(match[1]! + match[2]!, 16), vr: entry!.vr }
}

export interface FindFailure { readonly status: number, readonly comment: string }

const SKIPPED = new Set(['_vrMap', 'QueryRetrieveLevel', 'SpecificCharacterSet'])
const MAX_MATCHES = 10_000

/** A naturalized (dcmjs) value as a DICOM matching key string. */
export function keyText (value: unknown): string {
  if (value === undefined || value === null) return ''
  if (Array.isArray(value)) return value.map(keyText).join('\\')
  if (typeof value === 'object') {
    const alphabetic = (value as { Alphabetic?: unknown }).Alphabetic
    return alphabetic === undefined ? '' : keyText(alphabetic)
  }
  return String(value).replace(/[\0 ]+$/, '').replace(/^ +/, '')
}

export function levelOf (elements: Record<string, unknown>, model: QueryModel): QueryLevel | FindFailure {
  const level = keyText(elements.QueryRetrieveLevel).toUpperCase()
  if (level === '') return { status: STATUS.doesNotMatch, comment: 'Query/Retrieve Level (0008,0052) is missing' }
  if (level !== 'PATIENT' && level !== 'STUDY' && level !== 'SERIES' && level !== 'IMAGE') {
    return { status: STATUS.doesNotMatch, comment: 'Query/Retrieve Level must be PATIENT, STUDY, SERIES or IMAGE' }
  }
  if (level === 'PATIENT' && model === 'studyRoot') return { status: STATUS.doesNotMatch, comment: 'PATIENT level is not in the Study Root model' }
  return level
}

function needsUtf8 (value: unknown): boolean {
  return typeof value === 'string' ? /[^\x00-\x7f]/.test(value) : Array.isArray(value) ? value.some(needsUtf8) : false
}

/**
 * The answer to one C-FIND: its identifier columns (the same for every match) and each match's
 * values in column order. The last column, Specific Character Set, is there only in the rows that
 * need it or when the request asked for it.
 */
export interface FindAnswer {
  readonly columns: readonly IdentifierColumn[]
  readonly rows: ReadonlyArray<readonly IdentifierValue[]>
}

/** Where a column's value comes from: a catalogue attribute of the row, or one value for all rows. */
type Source = { readonly attribute: string } | { readonly fixed: IdentifierValue }

/** Runs one C-FIND; returns the identifiers of the pending responses, or a failure. */
export async function find (pacs: Pacs, model: QueryModel, elements: Record<string, unknown>): Promise<FindAnswer | FindFailure> {
  const level = levelOf(elements, model)
  if (typeof level !== 'string') return level
  const requested = Object.keys(elements).filter((k) => !SKIPPED.has(k) && !/^[0-9A-Fa-f]{8}$/.test(k))
  const matching: Record<string, string> = {}
  for (const keyword of requested) {
    if (!BY_KEYWORD.has(keyword)) continue
    const value = elements[keyword]
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && !('Alphabetic' in (value[0] as object))) continue
    matching[keyword] = keyText(value)
  }
  let rows: QueryRow[]
  try {
    const result = await pacs.query(level, matching, { limit: MAX_MATCHES })
    // Never a silently shortened answer: too many matches is a refusal the caller can act on.
    if (result.total > MAX_MATCHES) return { status: STATUS.outOfResources, comment: `more than ${MAX_MATCHES} matches; narrow the query` }
    rows = result.rows
  } catch (error) {
    if (error instanceof QueryKeyError) return { status: dimseStatusOf(error), comment: error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 64) }
    throw error
  }
  const columns: IdentifierColumn[] = []
  const sources: Source[] = []
  for (const keyword of requested) {
    const kept = BY_KEYWORD.get(keyword)
    if (kept !== undefined) {
      columns.push({ keyword, tag: parseInt(kept.tag, 16), vr: kept.vr })
      sources.push({ attribute: keyword })
      continue
    }
    // Sequences and attributes peerpacs does not keep are returned empty (PS3.4 C.2.2.1.3).
    const entry = dictionaryEntry(keyword)
    if (entry === undefined) continue
    columns.push({ keyword, tag: entry.tag, vr: entry.vr })
    sources.push({ fixed: entry.vr === 'SQ' ? 'sequence' : '' })
  }
  columns.push({ keyword: 'QueryRetrieveLevel', tag: 0x00080052, vr: 'CS' })
  sources.push({ fixed: level })
  columns.push({ keyword: 'SpecificCharacterSet', tag: 0x00080005, vr: 'CS' })
  const noCharset = 'SpecificCharacterSet' in elements ? '' : undefined
  return {
    columns,
    rows: rows.map((row) => {
      const values: IdentifierValue[] = sources.map((s) => 'fixed' in s ? s.fixed : row[s.attribute] ?? '')
      values.push(values.some(needsUtf8) ? 'ISO_IR 192' : noCharset)
      return values
    })
  }
}
