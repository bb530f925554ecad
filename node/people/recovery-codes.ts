/**
 * Recovery codes: ten single-use codes a person writes down at MFA enrolment and types instead
 * of a TOTP code when the phone is lost. A code is 12 characters from Crockford's base32
 * alphabet (digits and lower-case letters without i, l, o, u), shown in three groups of four,
 * 'k7qm-2x9p-a4tz': 60 random bits. Typing is forgiving: case, spaces and dashes do not count,
 * and o reads as 0, i and l as 1, as Crockford's decoding has it.
 *
 * Only a SHA-256 of each normalised code is kept, and only inside the sealed user record
 * (never in clear on disk, on the wire or in the backup). A plain hash is enough: the codes are
 * random, so there is nothing to guess from a list of likely codes, and a party able to open
 * the sealed record holds the TOTP secret anyway. Single use is the record's job: the caller
 * removes the hash that matched (a user.update op) as part of accepting the code.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { describe, isBytes } from '../../protocol/bytes.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'
import { TotpCodeError } from './errors.ts'

export const RECOVERY_CODE_COUNT = 10
/** Crockford's base32, lower case: 32 symbols, so a random byte's low 5 bits pick one uniformly. */
export const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const CHARS = 12
const GROUP = 4
const HASH_BYTES = 32
/** Separates these hashes from any other SHA-256 the project computes. */
const DOMAIN = 'peerpacs recovery code v1\u0000'
const HINT = 'type one of your recovery codes as written, e.g. k7qm-2x9p-a4tz; each works once'

export function newRecoveryCodes (count: number = RECOVERY_CODE_COUNT): string[] {
  if (!Number.isSafeInteger(count) || count < 1 || count > 100) throw new InvalidArgumentError(`newRecoveryCodes(count): expected 1 to 100, got ${describe(count)}`)
  const codes: string[] = []
  while (codes.length < count) {
    const bytes = randomBytes(CHARS)
    let code = ''
    for (let i = 0; i < CHARS; i++) {
      if (i > 0 && i % GROUP === 0) code += '-'
      code += RECOVERY_ALPHABET[bytes[i]! & 31]
    }
    if (!codes.includes(code)) codes.push(code)
  }
  return codes
}

/** The code as typed, reduced to its 12 symbols; TotpCodeError when it cannot be one (the message never repeats it). */
export function normaliseRecoveryCode (code: string): string {
  if (typeof code !== 'string') throw new TotpCodeError(`a recovery code must be text, got ${describe(code)}`, HINT)
  if (code.length > 64) throw new TotpCodeError(`a recovery code has ${CHARS} letters and digits, got ${code.length} characters`, HINT)
  const plain = code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1')
  if (plain.length !== CHARS) throw new TotpCodeError(`a recovery code has ${CHARS} letters and digits, got ${plain.length}`, HINT)
  for (const c of plain) {
    if (!RECOVERY_ALPHABET.includes(c)) throw new TotpCodeError('a recovery code has only digits and the letters a-z without u', HINT)
  }
  return plain
}

export function hashRecoveryCode (code: string): Uint8Array {
  const digest = createHash('sha256').update(DOMAIN).update(normaliseRecoveryCode(code)).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/**
 * The index in `hashes` of the code's hash, or -1. Every hash is compared, each in constant
 * time, whatever matched, so the time taken says nothing about which code (or whether one) did.
 */
export function findRecoveryCode (code: string, hashes: readonly Uint8Array[]): number {
  if (!Array.isArray(hashes)) throw new InvalidArgumentError(`findRecoveryCode(hashes): expected an array, got ${describe(hashes)}`)
  hashes.forEach((h, i) => {
    if (!isBytes(h) || h.length !== HASH_BYTES) throw new InvalidArgumentError(`findRecoveryCode(hashes[${i}]): expected ${HASH_BYTES} bytes, got ${describe(h)}`)
  })
  const hash = hashRecoveryCode(code)
  let found = -1
  for (let i = 0; i < hashes.length; i++) {
    const same = timingSafeEqual(hash, hashes[i]!)
    found = same && found === -1 ? i : found
  }
  return found
}
