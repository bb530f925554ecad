/**
 * C-FIND over the catalogue (Patient Root and Study Root models, PS3.4 C.6.1/C.6.2). The request
 * identifier's attributes that peerpacs can match (node/query/attributes.ts) become matching
 * keys of pacs.query; any other requested attribute is not a matching key and is returned empty.
 * Each response carries exactly the requested attributes, plus Query/Retrieve Level, plus
 * Specific Character Set when asked or when a value needs it.
 */
import { BY_KEYWORD, type AttributeValue, type QueryLevel } from '../query/attributes.ts'
import type { QueryRow } from '../query/query.ts'
import { QueryKeyError } from '../query/match.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { QueryModel } from './syntaxes.ts'
import { STATUS } from './statuses.ts'

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

function naturalValue (keyword: string, value: AttributeValue | undefined): unknown {
  if (value === undefined) return ''
  const vr = BY_KEYWORD.get(keyword)?.vr
  if (vr === 'PN') return Array.isArray(value) ? value.map((v) => ({ Alphabetic: v })) : [{ Alphabetic: String(value) }]
  return value
}

function needsUtf8 (value: unknown): boolean {
  return typeof value === 'string' ? /[^\x00-\x7f]/.test(value) : Array.isArray(value) ? value.some(needsUtf8) : false
}

export interface FindAnswer { readonly identifiers: Array<Record<string, unknown>> }

/** Runs one C-FIND; returns the identifiers of the pending responses, or a failure. */
export function find (pacs: Pacs, model: QueryModel, elements: Record<string, unknown>): FindAnswer | FindFailure {
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
    const result = pacs.query(level, matching, { limit: MAX_MATCHES })
    // Never a silently shortened answer: too many matches is a refusal the caller can act on.
    if (result.total > MAX_MATCHES) return { status: STATUS.outOfResources, comment: `more than ${MAX_MATCHES} matches; narrow the query` }
    rows = result.rows
  } catch (error) {
    if (error instanceof QueryKeyError) return { status: STATUS.cannotUnderstand, comment: error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 64) }
    throw error
  }
  const askedCharset = 'SpecificCharacterSet' in elements
  const identifiers = rows.map((row) => {
    const out: Record<string, unknown> = {}
    for (const keyword of requested) {
      // Sequences and attributes peerpacs does not keep are returned empty (PS3.4 C.2.2.1.3).
      out[keyword] = BY_KEYWORD.has(keyword) ? naturalValue(keyword, row[keyword]) : Array.isArray(elements[keyword]) ? [] : ''
    }
    out.QueryRetrieveLevel = level
    const utf8 = Object.values(out).some(needsUtf8) || requested.some((k) => needsUtf8(row[k]))
    if (utf8) out.SpecificCharacterSet = 'ISO_IR 192'
    else if (askedCharset) out.SpecificCharacterSet = ''
    return out
  })
  return { identifiers }
}
