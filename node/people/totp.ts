/**
 * TOTP second factor (RFC 6238 over RFC 4226 HOTP), through the otpauth package: HMAC-SHA1,
 * 6 digits, 30-second steps from the Unix epoch, which every authenticator app reads from an
 * otpauth:// URI. The secret is 20 random bytes (160 bits, RFC 4226's recommendation); it lives
 * only in the sealed user record.
 *
 * A code is accepted in its own step and, by default, one step either side (clock drift of up
 * to 30 s each way). TotpGuard makes each code good once: it remembers, at this site, the
 * newest step accepted for each user (kv `keys.totpStep(user)`, durable, so a restart does not
 * forget it) and refuses any code whose step is not newer, as RFC 6238 §5.2 asks. Checks for one
 * user are serialised (per kv store), so two requests racing with the same code cannot both
 * pass. The guard is per site: a code used at site A could still be replayed at site B within
 * its 90-second window; B's own guard then stops a second use there.
 */
import { Secret, TOTP } from 'otpauth'
import { randomBytes } from 'node:crypto'
import { decodeCanonical, encodeCanonical } from '../../protocol/canonical.ts'
import { describe, expectBytes, expectInteger, expectString, isBytes } from '../../protocol/bytes.ts'
import { DecodeError, InvalidArgumentError } from '../../protocol/errors.ts'
import { keys } from '../store/key-space.ts'
import type { KvStore } from '../store/kv.ts'
import { TotpCodeError } from './errors.ts'

export const TOTP_SECRET_BYTES = 20
export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
const ALGORITHM = 'SHA1'
const MAX_WINDOW = 10

export function newTotpSecret (): Uint8Array {
  return new Uint8Array(randomBytes(TOTP_SECRET_BYTES))
}

function toSecret (secret: Uint8Array, name: string): Secret {
  if (!isBytes(secret) || secret.length < 16 || secret.length > 64) {
    throw new InvalidArgumentError(`${name}: expected a TOTP secret of 16 to 64 bytes, got ${describe(secret)}`)
  }
  return new Secret({ buffer: secret.slice().buffer })
}

function expectLabelPart (value: unknown, name: string): string {
  const text = expectString(value, name)
  if (text.length === 0 || text.length > 128) throw new InvalidArgumentError(`${name}: expected 1 to 128 characters, got ${text.length}`)
  // The key URI format joins issuer and account with ':' in the label: neither may hold one.
  if (text.includes(':') || /\p{Cc}/u.test(text)) throw new InvalidArgumentError(`${name}: may not contain ':' or control characters`)
  return text
}

/** The otpauth:// URI an authenticator app enrols from (shown as text and as a QR code). */
export function totpUri (options: { secret: Uint8Array, account: string, issuer: string }): string {
  const secret = toSecret(options.secret, 'totpUri(secret)')
  const account = expectLabelPart(options.account, 'totpUri(account)')
  const issuer = expectLabelPart(options.issuer, 'totpUri(issuer)')
  return new TOTP({ issuer, label: account, secret, algorithm: ALGORITHM, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS }).toString()
}

/**
 * The code as typed, checked: six ASCII digits, spaces allowed between groups ('123 456', as
 * apps show it). Throws TotpCodeError otherwise; the message never repeats what was typed.
 */
export function normaliseTotpCode (code: string): string {
  if (typeof code !== 'string') throw new TotpCodeError(`a TOTP code must be text, got ${describe(code)}`, 'type the 6 digits your authenticator app shows')
  const digits = code.length > 64 ? code : code.replace(/ /g, '')
  if (!/^[0-9]+$/.test(digits)) throw new TotpCodeError('a TOTP code has only digits', 'type the 6 digits your authenticator app shows')
  if (digits.length !== TOTP_DIGITS) throw new TotpCodeError(`a TOTP code has ${TOTP_DIGITS} digits, got ${digits.length}`, 'type the 6 digits your authenticator app shows')
  return digits
}

/**
 * The 30-second time step (seconds since the epoch / 30) whose code `code` is, looking `window`
 * steps either side of `now` (milliseconds since the epoch); undefined when none matches.
 * Throws TotpCodeError for a code that is not 6 digits.
 */
export function totpStepOf (secret: Uint8Array, code: string, now: number, window = 1): number | undefined {
  const s = toSecret(secret, 'totpStepOf(secret)')
  const token = normaliseTotpCode(code)
  expectInteger(now, 'totpStepOf(now)')
  expectInteger(window, 'totpStepOf(window)', 0, MAX_WINDOW)
  const delta = TOTP.validate({ token, secret: s, algorithm: ALGORITHM, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, timestamp: now, window })
  return delta === null ? undefined : TOTP.counter({ period: TOTP_PERIOD_SECONDS, timestamp: now }) + delta
}

// One queue per kv store and user: the read of the last step and the write of the new one
// happen with no other check for that user in between.
const queues = new WeakMap<KvStore, Map<string, Promise<unknown>>>()

async function serialised<T> (kv: KvStore, user: string, work: () => Promise<T>): Promise<T> {
  let byUser = queues.get(kv)
  if (byUser === undefined) queues.set(kv, byUser = new Map())
  const previous = byUser.get(user) ?? Promise.resolve()
  const run = previous.then(work, work)
  const tail = run.then(() => undefined, () => undefined)
  byUser.set(user, tail)
  void tail.then(() => { if (byUser.get(user) === tail) byUser.delete(user) })
  return await run
}

export class TotpGuard {
  readonly #kv: KvStore

  constructor (kv: KvStore) {
    this.#kv = kv
  }

  /**
   * True, once, for a right code: its step is remembered and no code of that step or an older
   * one is accepted again for `user` at this site. False for a wrong code, or one already used
   * (or older than one used). Throws TotpCodeError for a code that is not 6 digits.
   */
  async accept (user: string, secret: Uint8Array, code: string, now: number): Promise<boolean> {
    expectString(user, 'TotpGuard.accept(user)')
    if (user.length === 0) throw new InvalidArgumentError('TotpGuard.accept(user): expected a user id, got an empty string')
    expectBytes(secret, 'TotpGuard.accept(secret)')
    const step = totpStepOf(secret, code, now)
    if (step === undefined) return false
    return await serialised(this.#kv, user, async () => {
      const last = await this.lastStep(user)
      if (last !== undefined && step <= last) return false
      await this.#kv.batch([{ type: 'put', key: keys.totpStep(user), value: encodeCanonical(step) }])
      return true
    })
  }

  /** The newest step accepted for `user` at this site, if any. */
  async lastStep (user: string): Promise<number | undefined> {
    const bytes = await this.#kv.get(keys.totpStep(user))
    if (bytes === undefined) return undefined
    const value = decodeCanonical(bytes, 16)
    if (typeof value !== 'number' || value < 0) throw new DecodeError(`the last TOTP step stored for a user: expected a non-negative integer, got ${describe(value)}`)
    return value
  }
}
