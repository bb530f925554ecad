/**
 * DICOM attribute matching (PS3.4 C.2.2.2, used by QIDO-RS too, PS3.18 §8.3.4): universal
 * matching (empty key), single value, list of UIDs, wildcards (* and ?, wildcard.ts: no regular
 * expressions, no backtracking) and ranges of dates and times (date-key.ts checks them).
 * Person names match without regard to case, as most archives do; other text is
 * case-sensitive as the standard says.
 *
 * A key with several values (`CT\MR`) matches when any of its values matches any value of the
 * attribute (list of UID matching, C.2.2.2.2, and the same rule for every other VR that can hold
 * several values). This is the "any" reading that C-FIND SCUs and QIDO clients expect without
 * Extended Negotiation; the "all values" Multiple Value Matching of C.2.2.2.8 is only defined
 * after that negotiation, which peerpacs does not offer. Date and time keys are one value or one
 * range: a list of them is refused.
 *
 * A key is compiled once per query (compileKey) and then tested against every catalogue entry.
 */
import type { AttributeValue } from './attributes.ts'
import { checkDateKey, normalTime } from './date-key.ts'
import { QueryKeyError } from './query-key-error.ts'
import { compileWildcard } from './wildcard.ts'

export { QueryKeyError }

const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR'])
const RANGE_VRS = new Set(['DA', 'TM', 'DT'])
/** VRs of one value that may itself hold a backslash: their key is never split. */
const ONE_VALUE_VRS = new Set(['LT', 'ST', 'UT', 'UR'])
export const MAX_KEY_LENGTH = 1024

/** The values of a matching key: backslash-separated (PS3.5 6.4), empty ones left out. */
export function keyValues (vr: string, key: string): string[] {
  if (ONE_VALUE_VRS.has(vr) || RANGE_VRS.has(vr)) return [key]
  return key.split('\\').filter((v) => v !== '')
}

/** Dates and date-times compared without their separators (a stored value rarely has any). */
function plainDate (s: string): string {
  return s.includes('.') || s.includes(':') || s.includes('-') ? s.replace(/[.:-]/g, '') : s
}

/** A range key (`low-high`, either end open) compiled once: its ends are normalised here, not per value. */
function compileRange (vr: string, range: string): (value: string) => boolean {
  const dash = range.indexOf('-')
  const norm = vr === 'TM' ? normalTime : plainDate
  const low = range.slice(0, dash) === '' ? undefined : norm(range.slice(0, dash))
  const high = range.slice(dash + 1) === '' ? undefined : norm(range.slice(dash + 1))
  return (value) => {
    const v = norm(value)
    if (low !== undefined && v < low) return false
    // A date range's upper end includes that whole day; a DT prefix includes what it covers.
    if (high !== undefined && v > high && !(vr !== 'TM' && v.startsWith(high))) return false
    return true
  }
}

/** Checks a query key's syntax for its VR; throws QueryKeyError naming what is wrong. */
export function checkKey (keyword: string, vr: string, key: string): void {
  if (key.length > MAX_KEY_LENGTH) throw new QueryKeyError(`${keyword}: the matching key is longer than ${MAX_KEY_LENGTH} characters`)
  if (key === '') return
  if (vr === 'DA' || vr === 'TM') { checkDateKey(keyword, vr, key); return }
  if (vr === 'DT') {
    if (key === '-' || !/^([\d.+-]{4,})?(-([\d.+-]{4,})?)?$/.test(key)) throw new QueryKeyError(`${keyword}: "${key}" is not a date-time or a range of them`)
    return
  }
  const values = keyValues(vr, key)
  if (values.length === 0) throw new QueryKeyError(`${keyword}: the key holds only separators, no value`)
  for (const v of values) {
    if (vr === 'UI' && !/^[\d.]+$/.test(v)) throw new QueryKeyError(`${keyword}: "${v}" is not a UID; expected a UID or a list of UIDs`)
    if (vr === 'IS' && !/^\s*[+-]?\d+\s*$/.test(v)) throw new QueryKeyError(`${keyword}: "${v}" is not an integer`)
    if (vr === 'US' && !/^\s*\+?\d{1,5}\s*$/.test(v)) throw new QueryKeyError(`${keyword}: "${v}" is not an unsigned integer`)
  }
}

type ValueTest = (text: string) => boolean

/** One key value against one stored value (trimmed text). */
function compileOne (vr: string, key: string): ValueTest {
  if (vr === 'UI') return (text) => text === key
  if (vr === 'IS' || vr === 'US') {
    const n = Number(key)
    return (text) => Number(text) === n
  }
  if (RANGE_VRS.has(vr)) {
    if (key.includes('-') && vr !== 'DT') return compileRange(vr, key)
    if (vr === 'TM') {
      const t = normalTime(key)
      return (text) => normalTime(text) === t
    }
    return (text) => text === key
  }
  if (WILDCARD_VRS.has(vr) && (key.includes('*') || key.includes('?'))) return compileWildcard(key, { ignoreCase: vr === 'PN' })
  if (vr === 'PN') {
    const lower = key.trim().toLowerCase()
    return (text) => text.toLowerCase() === lower
  }
  const exact = key.trim()
  return (text) => text === exact
}

/** A predicate for `key` (already checked): whether a value (undefined: absent) satisfies it. */
export function compileKey (vr: string, key: string): (value: AttributeValue | undefined) => boolean {
  if (key === '' || key === '*') return () => true
  const tests = keyValues(vr, key).map((v) => compileOne(vr, v))
  const one = (v: string | number): boolean => {
    const text = String(v).trim()
    return tests.some((test) => test(text))
  }
  return (value) => {
    if (value === undefined) return false
    return Array.isArray(value) ? value.some(one) : one(value as string | number)
  }
}

/** Whether `value` (undefined: the attribute is absent) satisfies matching key `key`. */
export function matches (vr: string, key: string, value: AttributeValue | undefined): boolean {
  return compileKey(vr, key)(value)
}
