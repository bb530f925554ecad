/**
 * A person's account record, the sealed part of `user.add` and `user.update` (docs/protocol.md
 * "Users"), and the `{by, reason}` note sealed in `user.disable` and `user.enable`. Canonical CBOR:
 *
 *   {v: 1, username, displayName, role, password: PasswordHash map | null, totp: bytes | null,
 *    passkeys: [passkey map...], recovery: [SHA-256 of each unused recovery code], mfa, by, time}
 *
 * `username` is matched case-insensitively after NFC (usernameKey); it may be renamed by an
 * update. `mfa` says a second factor is required even where the role does not require one.
 * `by` names who wrote the record: a user id (an admin signed in), "cli:NODE" (the site's
 * operator at that node's command line), or "recovery". Bounded on decode: the record comes
 * from the log, sealed by a member, but is still checked like any input.
 */
import { asMap, decodeCanonical, encodeCanonical, isText, type CanonicalMap, type CanonicalValue } from '../../protocol/canonical.ts'
import { isBytes } from '../../protocol/bytes.ts'
import { DecodeError, InvalidArgumentError } from '../../protocol/errors.ts'
import { passkeyFromCanonical, passkeyToCanonical, type PasskeyCredential } from './passkey-record.ts'
import { passwordHashFromCanonical, passwordHashToCanonical, type PasswordHash } from './password.ts'
import { isPersonRole, type PersonRole } from './roles.ts'

export interface UserRecord {
  readonly username: string
  readonly displayName: string
  readonly role: PersonRole
  /** null: a service account, which signs in only with its API tokens. */
  readonly password: PasswordHash | null
  /** The TOTP secret (20 bytes), or null when none is enrolled. */
  readonly totp: Uint8Array | null
  readonly passkeys: readonly PasskeyCredential[]
  /** SHA-256 of each recovery code not used yet. */
  readonly recovery: readonly Uint8Array[]
  /** A second factor is required (always for roles in MFA_REQUIRED). */
  readonly mfa: boolean
  readonly by: string
  readonly time: number
}

export interface UserNote {
  readonly by: string
  readonly reason: string
}

export const USERNAME_MAX = 64
export const DISPLAY_NAME_MAX = 128
export const REASON_MAX = 500
const MAX_PASSKEYS = 16
const MAX_RECOVERY = 20
const USERNAME = /^[\p{L}\p{N}][\p{L}\p{N}._@-]*$/u
const RECORD_FIELDS = ['v', 'username', 'displayName', 'role', 'password', 'totp', 'passkeys', 'recovery', 'mfa', 'by', 'time']

/** Why a username is not acceptable, or undefined. Letters and digits of any script, and . _ @ - after the first. */
export function usernameProblem (name: unknown): string | undefined {
  if (typeof name !== 'string') return 'expected text'
  const n = name.normalize('NFC')
  const length = [...n].length
  if (length === 0) return 'it is empty'
  if (length > USERNAME_MAX) return `it is ${length} characters long; at most ${USERNAME_MAX}`
  if (!USERNAME.test(n)) return 'use letters and digits (any script), and . _ @ - after the first character; no spaces or control characters'
  return undefined
}

/** The key a username is matched by: NFC, then lower case (locale-independent). */
export function usernameKey (name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** Why a display name is not acceptable, or undefined. */
export function displayNameProblem (name: unknown): string | undefined {
  if (typeof name !== 'string') return 'expected text'
  const length = [...name].length
  if (length > DISPLAY_NAME_MAX) return `it is ${length} characters long; at most ${DISPLAY_NAME_MAX}`
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return 'it contains control characters'
  return undefined
}

function check (r: UserRecord, fail: (m: string) => Error): void {
  const u = usernameProblem(r.username)
  if (u !== undefined) throw fail(`username: ${u}`)
  const d = displayNameProblem(r.displayName)
  if (d !== undefined) throw fail(`displayName: ${d}`)
  if (!isPersonRole(r.role)) throw fail(`role: "${String(r.role).slice(0, 40)}" is not a role`)
  if (r.totp !== null && (!isBytes(r.totp) || r.totp.length < 10 || r.totp.length > 64)) throw fail('totp: expected 10 to 64 bytes or null')
  if (!Array.isArray(r.passkeys) || r.passkeys.length > MAX_PASSKEYS) throw fail(`passkeys: expected at most ${MAX_PASSKEYS}`)
  if (!Array.isArray(r.recovery) || r.recovery.length > MAX_RECOVERY || !r.recovery.every((h) => isBytes(h) && h.length === 32)) throw fail(`recovery: expected at most ${MAX_RECOVERY} hashes of 32 bytes`)
  if (typeof r.mfa !== 'boolean') throw fail('mfa: expected a boolean')
  if (typeof r.by !== 'string' || r.by.length === 0 || r.by.length > 100) throw fail('by: expected 1 to 100 characters')
  if (!Number.isSafeInteger(r.time) || r.time < 0) throw fail('time: expected a non-negative integer')
}

export function encodeUserRecord (r: UserRecord): Uint8Array {
  check(r, (m) => new InvalidArgumentError(`user record ${m}`))
  return encodeCanonical({
    v: 1,
    username: r.username.normalize('NFC'),
    displayName: r.displayName,
    role: r.role,
    password: r.password === null ? null : passwordHashToCanonical(r.password),
    totp: r.totp,
    passkeys: r.passkeys.map(passkeyToCanonical),
    recovery: [...r.recovery],
    mfa: r.mfa,
    by: r.by,
    time: r.time
  })
}

function strict (bytes: Uint8Array, fields: readonly string[], what: string): CanonicalMap {
  const map = asMap(decodeCanonical(bytes, 64 * 1024), what)
  const extra = Object.keys(map).filter((k) => !fields.includes(k))
  if (extra.length > 0) throw new DecodeError(`${what}: unexpected field(s) ${extra.slice(0, 4).map((k) => JSON.stringify(k.slice(0, 32))).join(', ')}`)
  const missing = fields.filter((k) => map[k] === undefined)
  if (missing.length > 0) throw new DecodeError(`${what}: missing field(s) ${missing.join(', ')}`)
  if (map.v !== 1) throw new DecodeError(`${what}: version ${String(map.v).slice(0, 20)} is not known (expected 1)`)
  return map
}

export function decodeUserRecord (bytes: Uint8Array): UserRecord {
  const m = strict(bytes, RECORD_FIELDS, 'user record')
  const list = (v: CanonicalValue | undefined, what: string): CanonicalValue[] => {
    if (!Array.isArray(v)) throw new DecodeError(`user record: ${what} must be a list`)
    return v
  }
  const record: UserRecord = {
    username: m.username as string,
    displayName: m.displayName as string,
    role: m.role as PersonRole,
    password: m.password === null ? null : passwordHashFromCanonical(m.password!),
    totp: m.totp === null ? null : m.totp as Uint8Array,
    passkeys: list(m.passkeys, 'passkeys').map(passkeyFromCanonical),
    recovery: list(m.recovery, 'recovery') as Uint8Array[],
    mfa: m.mfa as boolean,
    by: m.by as string,
    time: m.time as number
  }
  check(record, (message) => new DecodeError(`user record ${message}`))
  return record
}

export function encodeUserNote (n: UserNote): Uint8Array {
  if (typeof n.by !== 'string' || n.by.length === 0 || n.by.length > 100) throw new InvalidArgumentError('user note by: expected 1 to 100 characters')
  if (typeof n.reason !== 'string' || [...n.reason].length > REASON_MAX) throw new InvalidArgumentError(`user note reason: expected at most ${REASON_MAX} characters`)
  return encodeCanonical({ v: 1, by: n.by, reason: n.reason })
}

export function decodeUserNote (bytes: Uint8Array): UserNote {
  const m = strict(bytes, ['v', 'by', 'reason'], 'user note')
  if (!isText(m.by!) || !isText(m.reason!)) throw new DecodeError('user note: by and reason must be text')
  return { by: m.by, reason: m.reason }
}
