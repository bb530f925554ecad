/**
 * Byte helpers and the boundary checks every public protocol function runs on its inputs.
 * An error names the argument, what was expected and what arrived.
 */
import { DecodeError, InvalidArgumentError } from './errors.ts'

export function isBytes (value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array')
}

/** A short description of a value for error messages; never prints the value's content. */
export function describe (value: unknown): string {
  if (value === null) return 'null'
  if (isBytes(value)) return `Uint8Array of length ${value.length}`
  if (Array.isArray(value)) return `array of length ${value.length}`
  if (typeof value === 'string') return `string of length ${value.length}`
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : `number ${String(value)}`
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

/** Checks that `value` is a Uint8Array (of one of `lengths`, if given) and returns it. */
export function expectBytes (value: unknown, name: string, ...lengths: number[]): Uint8Array {
  if (!isBytes(value)) {
    throw new InvalidArgumentError(`${name}: expected Uint8Array, got ${describe(value)}`)
  }
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    const want = lengths.length === 1 ? String(lengths[0]) : lengths.join(' or ')
    throw new InvalidArgumentError(`${name}: expected Uint8Array of length ${want}, got length ${value.length}`)
  }
  return value
}

export function expectString (value: unknown, name: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name}: expected string, got ${describe(value)}`)
  return value
}

/** Checks that `value` is a safe integer in [min, max]. */
export function expectInteger (value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`${name}: expected integer, got ${describe(value)}`)
  }
  if (value < min || value > max) {
    throw new InvalidArgumentError(`${name}: expected integer in [${min}, ${max}], got ${value}`)
  }
  return value
}

/** Checks that `value` is a (non-null) object, such as an options bag, and returns it. */
export function expectObject<T extends object> (value: T | null | undefined, name: string): T {
  if (value === null || typeof value !== 'object') throw new InvalidArgumentError(`${name}: expected an object, got ${describe(value)}`)
  return value
}

export function expectFunction<T extends (...args: never[]) => unknown> (value: T | null | undefined, name: string): T {
  if (typeof value !== 'function') throw new InvalidArgumentError(`${name}: expected a function, got ${describe(value)}`)
  return value
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const [i, part] of parts.entries()) length += expectBytes(part, `concatBytes(parts[${i}])`).length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) { out.set(part, offset); offset += part.length }
  return out
}

/** Equality in time that depends only on the lengths, for comparing tags and digests. */
export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  expectBytes(a, 'equalBytes(a)')
  expectBytes(b, 'equalBytes(b)')
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function utf8Encode (text: string): Uint8Array {
  return encoder.encode(expectString(text, 'utf8Encode(text)'))
}

export function utf8Decode (bytes: Uint8Array): string {
  expectBytes(bytes, 'utf8Decode(bytes)')
  try {
    return decoder.decode(bytes)
  } catch (cause) {
    throw new DecodeError(`expected UTF-8 text, got ${bytes.length} bytes that are not`, { cause })
  }
}

/** Big-endian unsigned integer of `width` bytes (width ≤ 7 keeps it within a safe integer). */
export function uintBE (value: number, width: number): Uint8Array {
  expectInteger(width, 'uintBE(width)', 1, 7)
  expectInteger(value, 'uintBE(value)')
  const out = new Uint8Array(width)
  let v = value
  for (let i = width - 1; i >= 0; i--) { out[i] = v % 256; v = Math.floor(v / 256) }
  if (v !== 0) throw new InvalidArgumentError(`uintBE: ${value} does not fit in ${width} bytes`)
  return out
}

export function readUintBE (bytes: Uint8Array, offset: number, width: number): number {
  expectBytes(bytes, 'readUintBE(bytes)')
  expectInteger(width, 'readUintBE(width)', 1, 7)
  expectInteger(offset, 'readUintBE(offset)', 0, Math.max(0, bytes.length - width))
  if (bytes.length < width) throw new InvalidArgumentError(`readUintBE(bytes): expected at least ${width} bytes, got ${bytes.length}`)
  let v = 0
  for (let i = 0; i < width; i++) v = v * 256 + bytes[offset + i]!
  return v
}
