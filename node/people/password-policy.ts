/**
 * The policy a new password must meet (NIST SP 800-63B's shape: length, a blocklist, context
 * words; no composition rules): 12 to 1024 characters (code points, after NFC), not in the
 * bundled list of common passwords (common-passwords.txt, compared case-insensitively and with
 * whitespace removed), not containing the username (3 characters or more) or a part of the
 * display name (4 or more), not one short unit (up to 4 characters) repeated. A refusal names
 * its rule and says what to do; it never repeats the password.
 */
import { readFileSync } from 'node:fs'
import { describe } from '../../protocol/bytes.ts'
import { PasswordPolicyError } from './errors.ts'

export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 1024

/** At most PASSWORD_MAX_LENGTH code points (a cheap test on UTF-16 units first, so a huge string costs nothing). */
export function withinMaxLength (password: string): boolean {
  if (password.length <= PASSWORD_MAX_LENGTH) return true
  if (password.length > 2 * PASSWORD_MAX_LENGTH) return false
  return codePoints(password) <= PASSWORD_MAX_LENGTH
}

function codePoints (text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

let common: ReadonlySet<string> | undefined

/** How a password and a list entry are compared: NFC, lower case, whitespace removed ('Password 1234' is 'password1234'). */
function listForm (text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/gu, '')
}

/** The bundled list, read at first use (nothing happens at import). */
function commonPasswords (): ReadonlySet<string> {
  if (common === undefined) {
    const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    common = new Set(text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).map(listForm))
  }
  return common
}

const ADVICE = 'choose a passphrase of several unrelated words, 12 characters or more'

/** Throws PasswordPolicyError (with its `rule`) when a new password breaks a rule of the header. */
export function checkPasswordPolicy (password: string, context: { username?: string, displayName?: string } = {}): void {
  if (typeof password !== 'string') throw new PasswordPolicyError('not-text', `a password must be text, got ${describe(password)}`, ADVICE)
  const normalised = password.normalize('NFC')
  if (!withinMaxLength(normalised)) throw new PasswordPolicyError('too-long', `a password may have at most ${PASSWORD_MAX_LENGTH} characters`, 'choose a shorter passphrase')
  const chars = [...normalised]
  if (chars.length < PASSWORD_MIN_LENGTH) throw new PasswordPolicyError('too-short', `a password needs at least ${PASSWORD_MIN_LENGTH} characters`, ADVICE)
  if (repeatsShortUnit(chars)) throw new PasswordPolicyError('repeated', 'a password may not be one character, or a group of up to 4, repeated', ADVICE)
  const lower = normalised.toLowerCase()
  if (commonPasswords().has(listForm(normalised))) throw new PasswordPolicyError('common', 'this password is in the list of common passwords that attackers try first', ADVICE)
  const username = context.username?.normalize('NFC').toLowerCase()
  if (username !== undefined && codePoints(username) >= 3 && lower.includes(username)) {
    throw new PasswordPolicyError('contains-username', 'a password may not contain the username', ADVICE)
  }
  const parts = (context.displayName ?? '').normalize('NFC').toLowerCase().split(/[\s\p{P}]+/u).filter((part) => codePoints(part) >= 4)
  if (parts.some((part) => lower.includes(part))) {
    throw new PasswordPolicyError('contains-name', 'a password may not contain the person\'s name', ADVICE)
  }
}

function repeatsShortUnit (chars: readonly string[]): boolean {
  // 'abcabcabcabca' counts: the last repeat may be cut short.
  for (let unit = 1; unit <= 4 && unit < chars.length; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true
  }
  return false
}
