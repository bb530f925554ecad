/**
 * Strict readers for op bodies: every body is a map whose keys are exactly the ones its type
 * names (unknown keys are refused, so two implementations cannot read one op differently),
 * and every field is checked for type and bounds. Errors are DecodeErrors naming the field;
 * decodeOp turns them into OpRejectedError('bad-body').
 */
import { describe, isBytes } from '../bytes.ts'
import { asMap, type CanonicalMap, type CanonicalValue } from '../canonical.ts'
import { DecodeError } from '../errors.ts'

/** The body as a map with exactly `required` keys plus any of `optional`. */
export function strictMap (value: CanonicalValue | undefined, what: string, required: readonly string[], optional: readonly string[] = []): CanonicalMap {
  const map = asMap(value, what)
  for (const key of required) if (map[key] === undefined) throw new DecodeError(`${what}: missing field "${key}"`)
  const extra = Object.keys(map).filter((k) => !required.includes(k) && !optional.includes(k))
  if (extra.length > 0) throw new DecodeError(`${what}: unknown fields ${extra.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`)
  return map
}

export function boundedText (map: CanonicalMap, key: string, what: string, min: number, max: number, pattern?: RegExp): string {
  const v = map[key]
  if (typeof v !== 'string') throw new DecodeError(`${what}.${key}: expected text, got ${describe(v)}`)
  if (v.length < min || v.length > max) throw new DecodeError(`${what}.${key}: expected ${min} to ${max} characters, got ${v.length}`)
  if (pattern !== undefined && !pattern.test(v)) throw new DecodeError(`${what}.${key}: text does not have the expected form`)
  return v
}

export function boundedBytes (map: CanonicalMap, key: string, what: string, min: number, max: number): Uint8Array {
  const v = map[key]
  if (!isBytes(v)) throw new DecodeError(`${what}.${key}: expected a byte string, got ${describe(v)}`)
  if (v.length < min || v.length > max) {
    throw new DecodeError(min === max ? `${what}.${key}: expected ${min} bytes, got ${v.length}` : `${what}.${key}: expected ${min} to ${max} bytes, got ${v.length}`)
  }
  return v
}

export function boundedInt (map: CanonicalMap, key: string, what: string, min: number, max: number): number {
  const v = map[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new DecodeError(`${what}.${key}: expected an integer, got ${describe(v)}`)
  if (v < min || v > max) throw new DecodeError(`${what}.${key}: expected an integer in [${min}, ${max}], got ${v}`)
  return v
}

export function boundedList (map: CanonicalMap, key: string, what: string, min: number, max: number): CanonicalValue[] {
  const v = map[key]
  if (!Array.isArray(v)) throw new DecodeError(`${what}.${key}: expected an array, got ${describe(v)}`)
  if (v.length < min || v.length > max) throw new DecodeError(`${what}.${key}: expected ${min} to ${max} entries, got ${v.length}`)
  return v
}

/** Bytewise order of byte strings (shorter first on a common prefix). */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** Checks that byte strings are in strictly ascending order (so sorted and unique). */
export function expectAscending (list: readonly Uint8Array[], what: string): void {
  for (let i = 1; i < list.length; i++) {
    if (compareBytes(list[i - 1]!, list[i]!) >= 0) throw new DecodeError(`${what}: entries must be sorted ascending and unique (entry ${i})`)
  }
}
