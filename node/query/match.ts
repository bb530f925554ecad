/**
 * DICOM attribute matching (PS3.4 C.2.2.2, used by QIDO-RS too, PS3.18 §8.3.4): universal
 * matching (empty key), single value, list of UIDs, wildcards (* and ?) and ranges of dates and
 * times. Person names match without regard to case, as most archives do; other text is
 * case-sensitive as the standard says.
 */
import { PeerpacsError } from '../../protocol/errors.ts'
import type { AttributeValue } from './attributes.ts'

const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR'])
const RANGE_VRS = new Set(['DA', 'TM', 'DT'])

/** A matching key that is malformed or names an attribute peerpacs does not match on. */
export class QueryKeyError extends PeerpacsError {
  static readonly code = 'QUERY_KEY'
  constructor (message: string) { super(QueryKeyError.code, message) }
}

function escapeRegex (text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, '\\$&')
}

/** Times compare by their digits; "0930" means 09:30:00. */
function normalTime (t: string): string {
  const digits = t.replace(/:/g, '')
  const [whole = '', fraction = ''] = digits.split('.')
  return whole.padEnd(6, '0') + '.' + fraction.padEnd(6, '0')
}

function inRange (vr: string, value: string, range: string): boolean {
  const dash = range.indexOf('-')
  const low = range.slice(0, dash)
  const high = range.slice(dash + 1)
  const norm = vr === 'TM' ? normalTime : (s: string): string => s.replace(/[.:-]/g, '')
  const v = norm(value)
  if (low !== '' && v < norm(low)) return false
  // A date range's upper end includes that whole day; a DT prefix includes what it covers.
  if (high !== '' && v > norm(high) && !(vr !== 'TM' && v.startsWith(norm(high)))) return false
  return true
}

/** Checks a query key's syntax for its VR; throws QueryKeyError naming what is wrong. */
export function checkKey (keyword: string, vr: string, key: string): void {
  if (key.length > 1024) throw new QueryKeyError(`${keyword}: the matching key is longer than 1024 characters`)
  if (RANGE_VRS.has(vr) && key !== '') {
    const pattern = vr === 'DA' ? /^(\d{8})?(-(\d{8})?)?$/ : vr === 'TM' ? /^([\d:.]{2,})?(-([\d:.]{2,})?)?$/ : /^([\d.+-]{4,})?(-([\d.+-]{4,})?)?$/
    if (vr !== 'DT' ? !pattern.test(key) || key === '-' : key === '-') {
      throw new QueryKeyError(`${keyword}: "${key}" is not a ${vr === 'DA' ? 'date (YYYYMMDD)' : vr === 'TM' ? 'time (HHMMSS)' : 'date-time'} or a range of them`)
    }
  }
  if (vr === 'UI' && key !== '' && !/^[\d.\\]+$/.test(key)) throw new QueryKeyError(`${keyword}: "${key}" is not a UID or a list of UIDs`)
  if (vr === 'IS' && key !== '' && !/^\s*[+-]?\d+\s*$/.test(key)) throw new QueryKeyError(`${keyword}: "${key}" is not an integer`)
}

function matchOne (vr: string, key: string, value: string | number): boolean {
  const text = String(value).trim()
  if (vr === 'UI') return key.split('\\').includes(text)
  if (vr === 'IS' || vr === 'US') return Number(key) === Number(value)
  if (RANGE_VRS.has(vr)) return key.includes('-') && vr !== 'DT' ? inRange(vr, text, key) : vr === 'TM' ? normalTime(text) === normalTime(key) : text === key
  if (WILDCARD_VRS.has(vr) && /[*?]/.test(key)) {
    const regex = new RegExp('^' + escapeRegex(key).replace(/\*/g, '.*').replace(/\?/g, '.') + '$', vr === 'PN' ? 'is' : 's')
    return regex.test(text)
  }
  return vr === 'PN' ? text.toLowerCase() === key.trim().toLowerCase() : text === key.trim()
}

/** Whether `value` (undefined: the attribute is absent) satisfies matching key `key`. */
export function matches (vr: string, key: string, value: AttributeValue | undefined): boolean {
  if (key === '' || key === '*') return true
  if (value === undefined) return false
  if (Array.isArray(value)) return value.some((v) => matchOne(vr, key, v))
  return matchOne(vr, key, value as string | number)
}
