/**
 * Invite codes (docs/protocol.md "Enrollment"): what an admin hands to the person setting up a
 * new node, as one copy-pasteable token. It names the org, the role, level and scope the new
 * node will get, when the invite expires, where the inviter listens, and the seed of a one-time
 * Ed25519 *invite key*: the new node presents that key as its libp2p identity when it dials the
 * inviter, whose connection gater admits it only while the invite is unexpired and unused.
 *
 *   code     = "ppi1_" ‖ base64url-nopad(payload ‖ checksum)
 *   payload  = canonical CBOR {v: 1, org: bytes32, role, level, scope, expires: ms, secret: bytes32, addrs: [text]}
 *   checksum = first 4 bytes of SHA-256("peerpacs/invite/v1" ‖ payload)
 *
 * The checksum catches a mistyped, truncated or altered code locally, before anything is dialled
 * or written. It is not a signature: the code is a bearer secret, to be passed on privately.
 */
import { base64urlnopad } from '@scure/base'
import { concatBytes, equalBytes, expectBytes, expectInteger, expectObject, expectString, utf8Encode } from './bytes.ts'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from './canonical.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { fromHex, toHex } from './encoding.ts'
import { DecodeError, InvalidArgumentError, PeerpacsError } from './errors.ts'
import { boundedBytes, boundedInt, boundedList, strictMap } from './log/fields.ts'
import { isLevel, isRole, isScope, LEVELS, ROLES, type Level, type Role, type Scope } from './log/levels.ts'

export const INVITE_PREFIX = 'ppi1_'
export const INVITE_VERSION = 1
export const MAX_INVITE_ADDRS = 16
export const MAX_INVITE_ADDR_LENGTH = 256
/** Longest code accepted (16 addresses of 256 characters fit). */
export const MAX_INVITE_CHARS = 8192
const CHECKSUM_LENGTH = 4
const CHECKSUM_CONTEXT = utf8Encode('peerpacs/invite/v1')

export interface InviteCode {
  readonly v: 1
  /** The org id (64 lowercase hex). */
  readonly org: string
  readonly role: Role
  readonly level: Level
  readonly scope: Scope
  /** When the invite stops being accepted (ms since 1970). */
  readonly expires: number
  /** The invite key's 32-byte Ed25519 seed. */
  readonly secret: Uint8Array
  /** The inviter's multiaddrs, each ending in /p2p/<its node id>. */
  readonly addrs: readonly string[]
}

/** The code does not read back: wrong prefix, not base64url, checksum mismatch. */
export class InviteDamagedError extends PeerpacsError {
  static readonly code = 'INVITE_DAMAGED'
  constructor (detail: string) {
    super(InviteDamagedError.code, `the invite code is damaged or was altered (${detail})`, { hint: 'copy the whole code again (it starts with ppi1_), or ask the admin for a new one' })
  }
}

export class InviteExpiredError extends PeerpacsError {
  static readonly code = 'INVITE_EXPIRED'
  constructor (expires: number, now: number) {
    super(InviteExpiredError.code, `the invite code expired at ${new Date(expires).toISOString()} (${describeAgo(now - expires)} ago)`,
      { hint: 'ask the admin for a new one (`peerpacs invite` on a running node)' })
  }
}

/** The checksum holds but a field is not what this version writes (another version made it). */
export class InviteInvalidError extends PeerpacsError {
  static readonly code = 'INVITE_INVALID'
  constructor (message: string) {
    super(InviteInvalidError.code, `the invite code is not one this peerpacs can use: ${message}`, { hint: 'make sure both nodes run the same peerpacs version, or ask for a new code' })
  }
}

function describeAgo (ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000))
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`
  const hours = Math.round(minutes / 60)
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`
}

function checksum (provider: CryptoProvider, payload: Uint8Array): Uint8Array {
  return provider.sha256(concatBytes(CHECKSUM_CONTEXT, payload)).subarray(0, CHECKSUM_LENGTH)
}

function checkAddrs (addrs: readonly unknown[], what: string, fail: (message: string) => Error): string[] {
  if (addrs.length < 1 || addrs.length > MAX_INVITE_ADDRS) throw fail(`${what}: expected 1 to ${MAX_INVITE_ADDRS} addresses, got ${addrs.length}`)
  return addrs.map((a, i) => {
    if (typeof a !== 'string' || a.length < 1 || a.length > MAX_INVITE_ADDR_LENGTH || !a.startsWith('/') || !a.includes('/p2p/')) {
      throw fail(`${what}[${i}]: expected a multiaddr ending in /p2p/<node id> (at most ${MAX_INVITE_ADDR_LENGTH} characters)`)
    }
    return a
  })
}

function checkGrant (role: unknown, level: unknown, scope: unknown, fail: (message: string) => Error): { role: Role, level: Level, scope: Scope } {
  if (!isRole(role)) throw fail(`role: expected one of ${ROLES.join(', ')}`)
  if (!isLevel(level)) throw fail(`level: expected one of ${LEVELS.join(', ')}`)
  if (!isScope(scope)) throw fail('scope: expected "org" or a study id')
  if (role === 'site' && scope !== 'org') throw fail('a site member is invited at org scope')
  if (role === 'backup' && (scope !== 'org' || level !== 'relay')) throw fail('a backup is invited at org scope with level relay')
  return { role, level, scope }
}

export function encodeInvite (provider: CryptoProvider, code: InviteCode): string {
  expectProvider(provider, 'encodeInvite(provider)')
  expectObject(code, 'encodeInvite(code)')
  if (code.v !== INVITE_VERSION) throw new InvalidArgumentError(`encodeInvite(code.v): expected ${INVITE_VERSION}`)
  const orgHex = expectString(code.org, 'encodeInvite(code.org)')
  if (!/^[0-9a-f]{64}$/.test(orgHex)) throw new InvalidArgumentError('encodeInvite(code.org): expected an org id (64 lowercase hex digits)')
  const org = fromHex(orgHex, 32)
  const bad = (message: string): Error => new InvalidArgumentError(`encodeInvite(code): ${message}`)
  const { role, level, scope } = checkGrant(code.role, code.level, code.scope, bad)
  const expires = expectInteger(code.expires, 'encodeInvite(code.expires)', 1)
  const secret = expectBytes(code.secret, 'encodeInvite(code.secret)', 32)
  if (!Array.isArray(code.addrs)) throw bad('addrs: expected an array')
  const addrs = checkAddrs(code.addrs, 'addrs', bad)
  const payload = encodeCanonical({ v: INVITE_VERSION, org, role, level, scope, expires, secret, addrs } satisfies CanonicalValue)
  return INVITE_PREFIX + base64urlnopad.encode(concatBytes(payload, checksum(provider, payload)))
}

/**
 * Reads a code as pasted (whitespace and line breaks ignored). Throws InviteDamagedError,
 * InviteInvalidError, or InviteExpiredError when `now` is at or past its expiry.
 */
export function decodeInvite (provider: CryptoProvider, text: string, now: number): InviteCode {
  expectProvider(provider, 'decodeInvite(provider)')
  expectString(text, 'decodeInvite(text)')
  expectInteger(now, 'decodeInvite(now)')
  const compact = text.replace(/\s+/g, '')
  if (!compact.startsWith(INVITE_PREFIX)) throw new InviteDamagedError(`it should start with ${INVITE_PREFIX}`)
  if (compact.length > MAX_INVITE_CHARS) throw new InviteDamagedError(`${compact.length} characters, more than any invite has`)
  const body = compact.slice(INVITE_PREFIX.length)
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new InviteDamagedError('it has characters outside its alphabet: letters, digits, - and _')
  let bytes: Uint8Array
  try {
    bytes = base64urlnopad.decode(body)
  } catch {
    throw new InviteDamagedError('it is cut short or has a character too many')
  }
  if (bytes.length <= CHECKSUM_LENGTH) throw new InviteDamagedError('it is too short')
  const payload = bytes.subarray(0, bytes.length - CHECKSUM_LENGTH)
  if (!equalBytes(bytes.subarray(bytes.length - CHECKSUM_LENGTH), checksum(provider, payload))) throw new InviteDamagedError('its checksum does not match')
  let code: InviteCode
  try {
    const map = strictMap(decodeCanonical(payload), 'invite', ['v', 'org', 'role', 'level', 'scope', 'expires', 'secret', 'addrs'])
    const v = boundedInt(map, 'v', 'invite', 0, Number.MAX_SAFE_INTEGER)
    if (v !== INVITE_VERSION) throw new DecodeError(`version ${v} (this peerpacs reads version ${INVITE_VERSION})`)
    const fail = (message: string): Error => new DecodeError(message)
    const grant = checkGrant(map.role, map.level, map.scope, fail)
    code = {
      v: INVITE_VERSION,
      org: toHex(boundedBytes(map, 'org', 'invite', 32, 32)),
      ...grant,
      expires: boundedInt(map, 'expires', 'invite', 1, Number.MAX_SAFE_INTEGER),
      secret: boundedBytes(map, 'secret', 'invite', 32, 32).slice(),
      addrs: checkAddrs(boundedList(map, 'addrs', 'invite', 0, MAX_INVITE_ADDRS + 1), 'addrs', fail)
    }
  } catch (cause) {
    if (cause instanceof PeerpacsError) throw new InviteInvalidError(cause.message)
    throw cause
  }
  if (now >= code.expires) throw new InviteExpiredError(code.expires, now)
  return code
}
