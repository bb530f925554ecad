/**
 * Canonical encoding: deterministic CBOR (RFC 8949 §4.2.1, via cborg). One value has exactly
 * one encoding, so bytes can be hashed and signed and a second implementation produces the
 * same bytes. The value model is deliberately small: null, booleans, safe integers, text,
 * byte strings, arrays and maps with text keys. No floats, no undefined, no tags.
 * Decoding rejects anything that is not the canonical encoding of its value.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { DecodeError, InvalidArgumentError, NotCanonicalError } from './errors.ts'
import { describe, equalBytes, expectBytes, expectInteger, isBytes } from './bytes.ts'

export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | CanonicalValue[]
  | { [key: string]: CanonicalValue }

/** Default ceiling on decoded input; callers with bigger documents pass their own. */
export const DEFAULT_MAX_CANONICAL_BYTES = 1 << 20
const MAX_DEPTH = 32

function check (value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new InvalidArgumentError(`${path}: nested deeper than ${MAX_DEPTH} levels`)
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || isBytes(value)) return
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(`${path}: only safe integers are encodable, got ${describe(value)}`)
    }
    return
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => check(item, `${path}[${i}]`, depth + 1))
    return
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) throw new InvalidArgumentError(`${path}.${key}: undefined is not encodable (omit the key)`)
      check(item, `${path}.${key}`, depth + 1)
    }
    return
  }
  throw new InvalidArgumentError(`${path}: ${describe(value)} is not encodable`)
}

export function encodeCanonical (value: CanonicalValue): Uint8Array {
  check(value, 'value', 0)
  return encode(value, rfc8949EncodeOptions)
}

/**
 * `knownCanonical`: the caller has proof these exact bytes passed this check before (a node's own
 * journal under its MACed checkpoint), so the re-encoding below is skipped; all else runs.
 */
export function decodeCanonical (bytes: Uint8Array, maxBytes = DEFAULT_MAX_CANONICAL_BYTES, options: { knownCanonical?: boolean } = {}): CanonicalValue {
  expectBytes(bytes, 'decodeCanonical(bytes)')
  expectInteger(maxBytes, 'decodeCanonical(maxBytes)')
  if (bytes.length > maxBytes) {
    throw new DecodeError(`canonical document of ${bytes.length} bytes exceeds the limit of ${maxBytes}`)
  }
  let value: unknown
  try {
    value = decode(bytes, {
      strict: true,
      rejectDuplicateMapKeys: true,
      allowIndefinite: false,
      allowUndefined: false,
      allowInfinity: false,
      allowNaN: false,
      allowBigInt: false,
      tags: []
    })
  } catch (cause) {
    throw new DecodeError(`not valid CBOR: ${(cause as Error).message}`, { cause })
  }
  try {
    check(value, 'value', 0)
  } catch (cause) {
    throw new NotCanonicalError(`decoded value is outside the canonical model: ${(cause as Error).message}`, { cause })
  }
  // Map key order and float forms are not enforced by the decoder; re-encoding catches both.
  if (options.knownCanonical !== true && !equalBytes(encode(value, rfc8949EncodeOptions), bytes)) {
    throw new NotCanonicalError('bytes are valid CBOR but not the canonical encoding of their value')
  }
  return value as CanonicalValue
}

// ---- Shape checks for decoded documents: read a field or say precisely what is wrong. ----

export type CanonicalMap = { [key: string]: CanonicalValue }

export function asMap (value: CanonicalValue | undefined, what: string): CanonicalMap {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value) || isBytes(value)) {
    throw new DecodeError(`${what}: expected a map, got ${describe(value)}`)
  }
  return value
}

export function field<T> (map: CanonicalMap, key: string, what: string, guard: (v: CanonicalValue) => v is CanonicalValue & T, expected: string): T {
  const v = map[key]
  if (v === undefined || !guard(v)) throw new DecodeError(`${what}.${key}: expected ${expected}, got ${describe(v)}`)
  return v
}

export const isText = (v: CanonicalValue): v is string => typeof v === 'string'
export const isInt = (v: CanonicalValue): v is number => typeof v === 'number'
export const isByteString = (v: CanonicalValue): v is Uint8Array => isBytes(v)

export function textField (map: CanonicalMap, key: string, what: string): string {
  return field(map, key, what, isText, 'text')
}

export function intField (map: CanonicalMap, key: string, what: string): number {
  return field(map, key, what, isInt, 'integer')
}

export function bytesField (map: CanonicalMap, key: string, what: string, length?: number): Uint8Array {
  const v = field(map, key, what, isByteString, 'byte string')
  if (length !== undefined && v.length !== length) {
    throw new DecodeError(`${what}.${key}: expected ${length} bytes, got ${v.length}`)
  }
  return v
}

export function optionalText (map: CanonicalMap, key: string, what: string): string | undefined {
  return map[key] === undefined ? undefined : textField(map, key, what)
}

export function optionalInt (map: CanonicalMap, key: string, what: string): number | undefined {
  return map[key] === undefined ? undefined : intField(map, key, what)
}
