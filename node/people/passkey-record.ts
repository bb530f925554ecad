/**
 * What the sealed user record keeps of each WebAuthn passkey: its credential id, its COSE
 * public key, the signature counter last seen, the transports the browser reported, when it was
 * registered and the name the person gave it. Nothing here is secret (a public key cannot sign),
 * but it lives in the sealed record anyway, with the rest of the account.
 *
 * Canonical form: a map `{ id, publicKey, counter, transports, created, name }`, no other key.
 * Decoding is strict and bounded, because a record arrives from the log, written by another
 * site: a credential id is base64url text of 1 to 1023 bytes (WebAuthn's own limit), a public
 * key 1 byte to 1 KiB (a COSE RSA-4096 key is about 540 bytes; ES256 77), the counter a 32-bit
 * unsigned integer, at most 8 transports of `[a-z-]`, up to 32 characters each, a creation time
 * in ms since the epoch, and a name of 1 to 64 characters without control characters.
 */
import { asMap, isText, type CanonicalValue } from '../../protocol/canonical.ts'
import { describe, isBytes } from '../../protocol/bytes.ts'
import { DecodeError, InvalidArgumentError } from '../../protocol/errors.ts'

export interface PasskeyCredential {
  /** The credential id, base64url without padding (as WebAuthn's JSON forms carry it). */
  readonly id: string
  /** The COSE_Key of the credential's public key, as the authenticator produced it. */
  readonly publicKey: Uint8Array
  /** The signature counter last accepted (0 for authenticators that keep none). */
  readonly counter: number
  readonly transports: readonly string[]
  readonly created: number
  readonly name: string
}

export const PASSKEY_LIMITS = {
  idBytes: 1023,
  publicKeyBytes: 1024,
  transports: 8,
  transportChars: 32,
  nameChars: 64
} as const

const MAX_COUNTER = 0xffff_ffff
const BASE64URL = /^[A-Za-z0-9_-]+$/
const TRANSPORT = /^[a-z][a-z-]*$/
// C0 and C1 controls, DEL, line and paragraph separators, and bidi overrides: a name is shown in lists.
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u
const FIELDS = ['id', 'publicKey', 'counter', 'transports', 'created', 'name']

/** The byte length of a base64url credential id, or a sentence saying why it is not one. */
export function credentialIdProblem (id: unknown): string | undefined {
  if (typeof id !== 'string') return `expected base64url text, got ${describe(id)}`
  if (id.length === 0) return 'expected base64url text, got an empty string'
  if (id.length > Math.ceil(PASSKEY_LIMITS.idBytes * 4 / 3)) return `expected at most ${PASSKEY_LIMITS.idBytes} bytes, got ${id.length} characters`
  if (!BASE64URL.test(id) || id.length % 4 === 1) return 'expected base64url text (A-Z a-z 0-9 - _, no padding)'
  // Re-encoding must give the same text: no stray bits in the last character.
  if (Buffer.from(id, 'base64url').toString('base64url') !== id) return 'expected canonical base64url (the last character carries stray bits)'
  return undefined
}

/** Why `name` cannot name a passkey, or undefined when it can (apply NFC and trim first). */
export function passkeyNameProblem (name: unknown): string | undefined {
  if (typeof name !== 'string') return `expected text, got ${describe(name)}`
  const chars = [...name].length
  if (chars === 0 || chars > PASSKEY_LIMITS.nameChars) return `expected 1 to ${PASSKEY_LIMITS.nameChars} characters, got ${chars}`
  if (NAME_FORBIDDEN.test(name)) return 'control or direction-override characters are not allowed'
  if (name.trim() !== name) return 'leading or trailing spaces are not allowed'
  if (name.normalize('NFC') !== name) return 'expected NFC-normalised text'
  return undefined
}

/** Every rule of the record at once; `fail` builds the error the caller's side raises. */
function check (c: { [K in keyof PasskeyCredential]: unknown }, fail: (message: string) => Error): void {
  const idProblem = credentialIdProblem(c.id)
  if (idProblem !== undefined) throw fail(`id: ${idProblem}`)
  if (!isBytes(c.publicKey)) throw fail(`publicKey: expected a byte string, got ${describe(c.publicKey)}`)
  if (c.publicKey.length === 0 || c.publicKey.length > PASSKEY_LIMITS.publicKeyBytes) {
    throw fail(`publicKey: expected 1 to ${PASSKEY_LIMITS.publicKeyBytes} bytes, got ${c.publicKey.length}`)
  }
  if (!Number.isSafeInteger(c.counter) || (c.counter as number) < 0 || (c.counter as number) > MAX_COUNTER) {
    throw fail(`counter: expected an integer from 0 to ${MAX_COUNTER}, got ${describe(c.counter)}`)
  }
  if (!Array.isArray(c.transports) || c.transports.length > PASSKEY_LIMITS.transports) {
    throw fail(`transports: expected a list of at most ${PASSKEY_LIMITS.transports}, got ${describe(c.transports)}`)
  }
  c.transports.forEach((t: unknown, i) => {
    if (typeof t !== 'string' || t.length > PASSKEY_LIMITS.transportChars || !TRANSPORT.test(t)) {
      throw fail(`transports[${i}]: expected a transport name such as "usb" or "internal" (a-z and -, at most ${PASSKEY_LIMITS.transportChars}), got ${describe(t)}`)
    }
  })
  if (!Number.isSafeInteger(c.created) || (c.created as number) < 0) {
    throw fail(`created: expected a time in ms since the epoch, got ${describe(c.created)}`)
  }
  const nameProblem = passkeyNameProblem(c.name)
  if (nameProblem !== undefined) throw fail(`name: ${nameProblem}`)
}

export function passkeyToCanonical (c: PasskeyCredential): CanonicalValue {
  check(c, (m) => new InvalidArgumentError(`passkey record ${m}`))
  return { id: c.id, publicKey: c.publicKey, counter: c.counter, transports: [...c.transports], created: c.created, name: c.name }
}

export function passkeyFromCanonical (v: CanonicalValue): PasskeyCredential {
  const map = asMap(v, 'passkey record')
  const extra = Object.keys(map).filter((k) => !FIELDS.includes(k))
  if (extra.length > 0) throw new DecodeError(`passkey record: unexpected field(s) ${extra.slice(0, 4).map((k) => JSON.stringify(k.slice(0, 32))).join(', ')}; expected only ${FIELDS.join(', ')}`)
  const missing = FIELDS.filter((k) => map[k] === undefined)
  if (missing.length > 0) throw new DecodeError(`passkey record: missing field(s) ${missing.join(', ')}`)
  const record = { id: map.id, publicKey: map.publicKey, counter: map.counter, transports: map.transports, created: map.created, name: map.name }
  check(record, (m) => new DecodeError(`passkey record ${m}`))
  const transports = (record.transports as CanonicalValue[]).filter(isText)
  return Object.freeze({
    id: record.id as string,
    publicKey: (record.publicKey as Uint8Array).slice(),
    counter: record.counter as number,
    transports: Object.freeze(transports),
    created: record.created as number,
    name: record.name as string
  })
}
