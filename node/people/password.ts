/**
 * People's passwords: scrypt (node:crypto, memory-hard) with its parameters stored beside the
 * hash, so they can be raised later (needsRehash says when a stored hash is below today's
 * defaults: rehash it at the next successful sign-in), and the policy a new password must meet.
 *
 * Defaults N = 2^16, r = 8, p = 1: 64 MiB and about 200 ms per hash on the 2-core build machine
 * (measured 2026-12: 187-260 ms; N = 2^15 took ~95 ms, 2^17 ~440 ms). Stronger than the 2^15
 * floor, while a burst of sign-ins cannot hold the libuv pool long: at most
 * HASHING_CONCURRENCY hashes run at once in a process (the pool has 4 threads, shared with
 * every file read and write), the rest wait their turn, so memory stays bounded too.
 *
 * A stored record comes from the signed log, sealed, but is still checked before it is used: a
 * record whose parameters are out of bounds (N not a power of two or above 2^20, more than
 * 256 MiB, more than 16 times the default work, odd salt or hash lengths) is refused with
 * PasswordHashError rather than run, so a hostile or damaged record cannot make the node burn
 * memory or CPU.
 *
 * Passwords are NFC-normalised before hashing and checking, so the same characters typed on
 * two keyboards (composed or decomposed accents) are the same password. The policy a new
 * password must meet is password-policy.ts (re-exported here).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { describe, isBytes } from '../../protocol/bytes.ts'
import type { CanonicalValue } from '../../protocol/canonical.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'
import { PasswordHashError } from './errors.ts'
import { PASSWORD_MAX_LENGTH, withinMaxLength } from './password-policy.ts'

export { checkPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.ts'

export interface PasswordHash {
  readonly kdf: 'scrypt'
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Uint8Array
  readonly hash: Uint8Array
}

export const SCRYPT_DEFAULTS: { readonly N: number, readonly r: number, readonly p: number } = Object.freeze({ N: 2 ** 16, r: 8, p: 1 })

/** Bounds on any parameters run here, new or stored. Low N is allowed (tests, old records); needsRehash flags it. */
export const SCRYPT_BOUNDS = Object.freeze({
  minLogN: 10,
  maxLogN: 20,
  maxR: 32,
  maxP: 16,
  /** scrypt's working memory is about 128 * N * r bytes. */
  maxMemory: 256 * 1024 * 1024,
  /** N * r * p, the work, at most 16 times the defaults'. */
  maxWork: 16 * 2 ** 16 * 8 * 1,
  saltBytes: { min: 16, max: 64 },
  hashBytes: { min: 32, max: 64 }
})

const SALT_BYTES = 16
const HASH_BYTES = 32

/** How many scrypt runs at once in this process; the others queue. */
export const HASHING_CONCURRENCY = 2

// ---- the queue in front of scrypt ----

let running = 0
const waiting: Array<() => void> = []

/** What the hashing queue holds now: for status pages and for the tests of the bound. */
export function passwordHashingLoad (): { running: number, waiting: number } {
  return { running, waiting: waiting.length }
}

async function runScrypt (password: string, salt: Uint8Array, keyLength: number, params: { N: number, r: number, p: number }): Promise<Uint8Array> {
  if (running >= HASHING_CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve))
  else running++
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const maxmem = 128 * params.N * params.r + 128 * params.r * params.p + (1 << 20)
      scrypt(password, salt, keyLength, { N: params.N, r: params.r, p: params.p, maxmem }, (error, key) => {
        if (error !== null) reject(error)
        else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))
      })
    })
  } finally {
    const next = waiting.shift()
    if (next !== undefined) next() // the slot passes straight to the next in line
    else running--
  }
}

// ---- bounds ----

/** Why these parameters may not run, or undefined when they may. */
function outOfBounds (N: unknown, r: unknown, p: unknown): string | undefined {
  const b = SCRYPT_BOUNDS
  if (!Number.isSafeInteger(N) || (N as number) < 2 ** b.minLogN || (N as number) > 2 ** b.maxLogN || ((N as number) & ((N as number) - 1)) !== 0) {
    return `N must be a power of two from 2^${b.minLogN} to 2^${b.maxLogN}, got ${describeNumber(N)}`
  }
  if (!Number.isSafeInteger(r) || (r as number) < 1 || (r as number) > b.maxR) return `r must be an integer from 1 to ${b.maxR}, got ${describeNumber(r)}`
  if (!Number.isSafeInteger(p) || (p as number) < 1 || (p as number) > b.maxP) return `p must be an integer from 1 to ${b.maxP}, got ${describeNumber(p)}`
  const n = N as number
  const rr = r as number
  const pp = p as number
  if (128 * n * rr > b.maxMemory) return `N = 2^${Math.log2(n)} with r = ${rr} needs ${128 * n * rr / 2 ** 20} MiB, more than the ${b.maxMemory / 2 ** 20} MiB allowed`
  if (n * rr * pp > b.maxWork) return `N * r * p = ${n * rr * pp} is more than the ${b.maxWork} allowed (16 times the defaults' work)`
  return undefined
}

function describeNumber (v: unknown): string {
  return typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : describe(v)
}

function checkStored (stored: PasswordHash): void {
  if (stored === null || typeof stored !== 'object') throw new PasswordHashError(`stored password hash: expected a record, got ${describe(stored)}`)
  const kdf: unknown = stored.kdf
  if (kdf !== 'scrypt') throw new PasswordHashError(`stored password hash: kdf must be 'scrypt', got ${typeof kdf === 'string' ? `'${kdf.slice(0, 20)}'` : describe(kdf)}`)
  const why = outOfBounds(stored.N, stored.r, stored.p)
  if (why !== undefined) throw new PasswordHashError(`stored password hash: ${why}`)
  checkLength('salt', stored.salt, SCRYPT_BOUNDS.saltBytes)
  checkLength('hash', stored.hash, SCRYPT_BOUNDS.hashBytes)
}

function checkLength (name: string, value: unknown, bounds: { min: number, max: number }): void {
  if (!isBytes(value)) throw new PasswordHashError(`stored password hash: ${name} must be bytes, got ${describe(value)}`)
  if (value.length < bounds.min || value.length > bounds.max) {
    throw new PasswordHashError(`stored password hash: ${name} must be ${bounds.min} to ${bounds.max} bytes, got ${value.length}`)
  }
}

function expectPassword (password: unknown, name: string): string {
  if (typeof password !== 'string') throw new InvalidArgumentError(`${name}: expected a string, got ${describe(password)}`)
  return password
}

// ---- hashing ----

export async function hashPassword (password: string, params: Partial<typeof SCRYPT_DEFAULTS> = {}): Promise<PasswordHash> {
  expectPassword(password, 'hashPassword(password)')
  const normalised = password.normalize('NFC')
  if (!withinMaxLength(normalised)) throw new InvalidArgumentError(`hashPassword(password): more than ${PASSWORD_MAX_LENGTH} characters; checkPasswordPolicy refuses it first`)
  const N = params.N ?? SCRYPT_DEFAULTS.N
  const r = params.r ?? SCRYPT_DEFAULTS.r
  const p = params.p ?? SCRYPT_DEFAULTS.p
  const why = outOfBounds(N, r, p)
  if (why !== undefined) throw new InvalidArgumentError(`hashPassword(params): ${why}`)
  const salt = new Uint8Array(randomBytes(SALT_BYTES))
  const hash = await runScrypt(normalised, salt, HASH_BYTES, { N, r, p })
  return Object.freeze({ kdf: 'scrypt', N, r, p, salt, hash })
}

/**
 * True when `password` is the one `stored` was made from. Throws PasswordHashError, without
 * running scrypt, when the record is malformed or out of bounds. A password longer than the
 * policy allows is false at once (no stored hash can be of one).
 */
export async function verifyPassword (password: string, stored: PasswordHash): Promise<boolean> {
  expectPassword(password, 'verifyPassword(password)')
  checkStored(stored)
  const normalised = password.normalize('NFC')
  if (!withinMaxLength(normalised)) return false
  const computed = await runScrypt(normalised, stored.salt, stored.hash.length, stored)
  return timingSafeEqual(computed, stored.hash)
}

const NO_SALT = new Uint8Array(SALT_BYTES)

/**
 * Spends what a verification with the defaults spends, and answers false: for a sign-in with a
 * username nobody has, so the answer takes as long as a wrong password for a real user.
 */
export async function verifyPasswordAgainstNone (password: string): Promise<false> {
  expectPassword(password, 'verifyPasswordAgainstNone(password)')
  const normalised = password.normalize('NFC')
  if (withinMaxLength(normalised)) await runScrypt(normalised, NO_SALT, HASH_BYTES, SCRYPT_DEFAULTS)
  return false
}

/** True when `stored` is weaker than today's defaults: hash the password again at the next sign-in. */
export function needsRehash (stored: PasswordHash): boolean {
  checkStored(stored)
  return stored.N < SCRYPT_DEFAULTS.N || stored.r < SCRYPT_DEFAULTS.r || stored.p < SCRYPT_DEFAULTS.p || stored.hash.length < HASH_BYTES
}

// ---- canonical form (inside the sealed user record) ----

const FIELDS = ['N', 'hash', 'kdf', 'p', 'r', 'salt']

export function passwordHashToCanonical (h: PasswordHash): CanonicalValue {
  checkStored(h)
  return { kdf: h.kdf, N: h.N, r: h.r, p: h.p, salt: h.salt, hash: h.hash }
}

export function passwordHashFromCanonical (v: CanonicalValue): PasswordHash {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || isBytes(v)) {
    throw new PasswordHashError(`stored password hash: expected a map, got ${describe(v)}`)
  }
  const keys = Object.keys(v).sort()
  if (keys.length !== FIELDS.length || keys.some((k, i) => k !== FIELDS[i])) {
    throw new PasswordHashError(`stored password hash: expected exactly the fields ${FIELDS.join(', ')}, got ${keys.slice(0, 10).map((k) => k.slice(0, 20)).join(', ')}`)
  }
  const h = { kdf: v.kdf, N: v.N, r: v.r, p: v.p, salt: v.salt, hash: v.hash } as unknown as PasswordHash
  checkStored(h)
  return Object.freeze({ kdf: 'scrypt', N: h.N, r: h.r, p: h.p, salt: h.salt.slice(), hash: h.hash.slice() })
}
