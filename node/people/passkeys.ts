/**
 * WebAuthn passkeys as a second factor: the two ceremonies (register a passkey; sign in with
 * one after the password), around @simplewebauthn/server, which does the standard's checks
 * (client data, RP-ID hash, flags, attestation formats, COSE keys, signatures).
 *
 * What this module adds around the library:
 * - Challenges: 32 random bytes, one pending per (ceremony, user) in memory (a new options
 *   call replaces the previous one), single use (taken out before the answer is checked, so a
 *   failed answer cannot be retried either), expiring after `challengeTtlMs` (default 5 min, the
 *   clock injected). Any answer, even a malformed one, uses it up. At most 10 000 pending: the
 *   expired go first, then the oldest.
 * - Untrusted input: the browser's JSON is shape-checked and bounded before the library sees it,
 *   and rebuilt with only the fields WebAuthn defines. Every refusal is a PasskeyError with a
 *   stable `reason`; nothing the input holds can make this throw anything else.
 * - Credentials: a sign-in answer must name one of the user's passkeys (and, when the
 *   authenticator returns a user handle, this user's); a registration may not repeat one.
 * - Counter (clone detection): checked after the signature verifies, so only an answer signed
 *   by the credential's key can report it: when the authenticator keeps a counter (either side
 *   non-zero), the new value must be above the stored one. The caller stores `newCounter`.
 * Choices: attestation 'none' (we need a key, not the authenticator's make), user verification
 * and resident keys 'preferred' (it is a second factor: presence is required, verification is
 * welcome), algorithms EdDSA, ES256 and RS256 (their keys fit the record's 1 KiB bound).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type {
  AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON
} from '@simplewebauthn/server'
import { describe } from '../../protocol/bytes.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'
import { PasskeyError, type PasskeyRefusal } from './errors.ts'
import { credentialIdProblem, PASSKEY_LIMITS, passkeyNameProblem, passkeyToCanonical, type PasskeyCredential } from './passkey-record.ts'

export interface RelyingParty {
  /** The domain the passkeys are bound to, e.g. 'localhost' or the node's host name (not an IP address: browsers refuse those). */
  readonly id: string
  readonly name: string
  /** The exact origins the viewer is served from, e.g. 'https://pacs.example.org:8443'. */
  readonly origins: readonly string[]
}

export const DEFAULT_CHALLENGE_TTL_MS = 5 * 60_000
/** Passkeys one user may hold: bounds the sealed user record. */
export const MAX_PASSKEYS_PER_USER = 16
const MAX_PENDING = 10_000
const CHALLENGE_BYTES = 32
/** COSE algorithms offered and accepted: EdDSA, ES256, RS256. */
const ALGORITHMS = [-8, -7, -257]
const MAX_USER_ID_BYTES = 64

type Ceremony = 'registration' | 'authentication'
interface Pending { readonly challenge: string, readonly expires: number, readonly excluded: ReadonlySet<string> }

const HINTS: Record<PasskeyRefusal, string> = {
  malformed: 'send the JSON the browser produced (PublicKeyCredential.toJSON()) unchanged',
  name: 'give the passkey a short name (1 to 64 characters), e.g. "YubiKey" or "work laptop"',
  'no-challenge': 'ask for new options and try again (a challenge is good for one answer)',
  'challenge-expired': 'ask for new options and answer within the time the options give',
  challenge: 'answer the latest options this node gave (the answer was made for another challenge)',
  origin: "open the viewer at one of the node's configured addresses, or add this origin to the node's passkey settings",
  'rp-id': "the passkey belongs to another site: use one made for this node's domain",
  'unknown-credential': 'use a passkey registered to this account, or sign in with another second factor',
  duplicate: 'this authenticator already holds a passkey for this account; nothing to do',
  counter: 'the passkey may have been cloned: an admin should remove it and check the account; sign in with another second factor',
  signature: 'try again; if it keeps failing, remove the passkey and register it again',
  'no-passkeys': 'register a passkey first, or use another second factor',
  'too-many': `remove an unused passkey first (at most ${MAX_PASSKEYS_PER_USER} per account)`,
  rejected: 'try again from the browser; if it keeps failing, use another second factor'
}

function refuse (reason: PasskeyRefusal, message: string, cause?: unknown): PasskeyError {
  const error = new PasskeyError(reason, message, HINTS[reason])
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, enumerable: false })
  return error
}

/**
 * The WebAuthn library, loaded at the first ceremony: it and its dependencies are ~16 MB of a
 * node's resident memory, and most nodes never see a passkey.
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined
const webauthn = (): Promise<typeof import('@simplewebauthn/server')> => (library ??= import('@simplewebauthn/server'))

export class PasskeyCeremonies {
  readonly #rp: RelyingParty
  readonly #now: () => number
  readonly #ttl: number
  readonly #pending = new Map<string, Pending>()

  constructor (rp: RelyingParty, options: { now?: () => number, challengeTtlMs?: number } = {}) {
    this.#rp = checkRelyingParty(rp)
    this.#now = options.now ?? Date.now
    this.#ttl = options.challengeTtlMs ?? DEFAULT_CHALLENGE_TTL_MS
    if (!Number.isSafeInteger(this.#ttl) || this.#ttl < 1000) {
      throw new InvalidArgumentError(`challengeTtlMs: expected an integer of at least 1000 ms, got ${describe(options.challengeTtlMs)}`)
    }
  }

  /** Options for navigator.credentials.create(): the user is signed in fully and adds a passkey. */
  async registrationOptions (user: { id: string, username: string, displayName: string }, existing: readonly PasskeyCredential[]): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const userHandle = userHandleOf(user.id)
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw refuse('too-many', `the account already has ${existing.length} passkeys, the most it may hold`)
    const challenge = randomBytes(CHALLENGE_BYTES)
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.#rp.name,
      rpID: this.#rp.id,
      userName: user.username,
      userID: userHandle,
      userDisplayName: user.displayName,
      challenge,
      timeout: this.#ttl,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: [...c.transports] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      supportedAlgorithmIDs: ALGORITHMS
    })
    this.#remember('registration', user.id, options.challenge, new Set(existing.map((c) => c.id)))
    return options
  }

  /** Checks the browser's answer to the latest registrationOptions for this user; returns the passkey to keep. */
  async verifyRegistration (userId: string, response: unknown, name: string): Promise<PasskeyCredential> {
    const label = typeof name === 'string' ? name.normalize('NFC').trim() : name
    const nameProblem = passkeyNameProblem(label)
    if (nameProblem !== undefined) throw refuse('name', `passkey name: ${nameProblem}`)
    const pending = this.#take('registration', userId)
    const answer = registrationShape(response)
    const challenge = challengeCheck(pending.challenge)
    let verified
    try {
      verified = await (await webauthn()).verifyRegistrationResponse({
        response: answer,
        expectedChallenge: challenge.matches,
        expectedOrigin: [...this.#rp.origins],
        expectedRPID: this.#rp.id,
        requireUserPresence: true,
        requireUserVerification: false,
        supportedAlgorithmIDs: ALGORITHMS
      })
    } catch (cause) {
      throw libraryRefusal(cause, challenge.mismatched, 'registration')
    }
    if (!verified.verified) throw refuse('signature', 'the attestation statement does not verify')
    const { credential } = verified.registrationInfo
    if (pending.excluded.has(credential.id)) throw refuse('duplicate', 'this passkey is already registered to the account')
    const record: PasskeyCredential = {
      id: credential.id,
      publicKey: Uint8Array.from(credential.publicKey),
      counter: credential.counter,
      transports: transportsOf(answer.response.transports),
      created: this.#now(),
      name: label as string
    }
    try {
      passkeyToCanonical(record)
    } catch (cause) {
      throw refuse('malformed', `the authenticator's credential cannot be kept: ${(cause as Error).message}`, cause)
    }
    return record
  }

  /** Options for navigator.credentials.get(): the password was accepted, the second factor is due. */
  async authenticationOptions (userId: string, credentials: readonly PasskeyCredential[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
    userHandleOf(userId)
    if (credentials.length === 0) throw refuse('no-passkeys', 'the account has no passkey')
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: this.#rp.id,
      allowCredentials: credentials.map((c) => ({ id: c.id, transports: [...c.transports] })),
      challenge: randomBytes(CHALLENGE_BYTES),
      timeout: this.#ttl,
      userVerification: 'preferred'
    })
    this.#remember('authentication', userId, options.challenge, new Set())
    return options
  }

  /** Checks the browser's answer to the latest authenticationOptions for this user; the caller stores `newCounter` on that passkey. */
  async verifyAuthentication (userId: string, response: unknown, credentials: readonly PasskeyCredential[]): Promise<{ credentialId: string, newCounter: number }> {
    const pending = this.#take('authentication', userId)
    const answer = authenticationShape(response)
    const credential = credentials.find((c) => c.id === answer.id)
    if (credential === undefined) throw refuse('unknown-credential', 'the answer was made with a passkey that is not registered to this account')
    const handle = answer.response.userHandle
    if (handle !== undefined && handle !== Buffer.from(userHandleOf(userId)).toString('base64url')) {
      throw refuse('unknown-credential', 'the passkey answered for another account (its user handle is not this one)')
    }
    const challenge = challengeCheck(pending.challenge)
    let verified
    try {
      verified = await (await webauthn()).verifyAuthenticationResponse({
        response: answer,
        expectedChallenge: challenge.matches,
        expectedOrigin: [...this.#rp.origins],
        expectedRPID: this.#rp.id,
        // Counter 0 here: the library would compare before the signature; we compare after it (see the header).
        credential: { id: credential.id, publicKey: Uint8Array.from(credential.publicKey), counter: 0, transports: [...credential.transports] },
        requireUserVerification: false
      })
    } catch (cause) {
      throw libraryRefusal(cause, challenge.mismatched, 'sign-in')
    }
    if (!verified.verified) throw refuse('signature', 'the signature does not verify with the passkey\'s public key')
    const newCounter = verified.authenticationInfo.newCounter
    if ((newCounter > 0 || credential.counter > 0) && newCounter <= credential.counter) {
      throw refuse('counter', `the passkey's signature counter went from ${credential.counter} to ${newCounter}: it should only grow`)
    }
    return { credentialId: credential.id, newCounter }
  }

  /** Pending challenges (for tests and status). */
  get pending (): number { return this.#pending.size }

  #remember (ceremony: Ceremony, userId: string, challenge: string, excluded: ReadonlySet<string>): void {
    const key = `${ceremony}\u0000${userId}`
    this.#pending.delete(key)
    if (this.#pending.size >= MAX_PENDING) {
      const now = this.#now()
      for (const [k, p] of this.#pending) if (p.expires <= now) this.#pending.delete(k)
      while (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value as string)
    }
    this.#pending.set(key, { challenge, expires: this.#now() + this.#ttl, excluded })
  }

  #take (ceremony: Ceremony, userId: string): Pending {
    const key = `${ceremony}\u0000${String(userId)}`
    const pending = this.#pending.get(key)
    this.#pending.delete(key)
    if (pending === undefined) throw refuse('no-challenge', `no ${ceremony} challenge is pending for this account (never asked, already answered, or replaced by a newer one)`)
    if (this.#now() >= pending.expires) throw refuse('challenge-expired', `the ${ceremony} challenge expired ${Math.round((this.#now() - pending.expires) / 1000)} s ago`)
    return pending
  }
}

// ---- The checks around the library ----

function checkRelyingParty (rp: RelyingParty): RelyingParty {
  const bad = (m: string): never => { throw new InvalidArgumentError(`passkey relying party: ${m}`, { hint: 'set the node\'s host name (a domain, or localhost) and the exact origins the viewer is served from' }) }
  if (typeof rp?.id !== 'string' || rp.id.length === 0) bad(`id: expected a domain name, got ${describe(rp?.id)}`)
  let host = ''
  try { host = new URL(`https://${rp.id}`).hostname } catch { bad(`id "${rp.id}" is not a domain name`) }
  if (host !== rp.id) bad(`id "${rp.id}" is not a lower-case ASCII domain name (use "${host}")`)
  if (isIP(rp.id) !== 0 || rp.id.startsWith('[')) bad(`id "${rp.id}" is an IP address; browsers bind passkeys to domain names only`)
  if (typeof rp.name !== 'string' || rp.name.length === 0 || rp.name.length > 64) bad(`name: expected 1 to 64 characters, got ${describe(rp.name)}`)
  if (!Array.isArray(rp.origins) || rp.origins.length === 0) bad(`origins: expected a non-empty list, got ${describe(rp.origins)}`)
  for (const origin of rp.origins) {
    let url: URL | undefined
    try { url = new URL(origin) } catch { bad(`origin "${String(origin)}" is not a URL`) }
    if (url === undefined || url.origin !== origin) bad(`origin "${String(origin)}" is not in origin form (scheme://host[:port], no path or trailing slash)`)
    const local = url!.hostname === 'localhost' || url!.hostname.endsWith('.localhost')
    if (url!.protocol !== 'https:' && !(url!.protocol === 'http:' && local)) bad(`origin "${origin}" is not https (browsers allow WebAuthn over http only on localhost)`)
    if (url!.hostname !== rp.id && !url!.hostname.endsWith(`.${rp.id}`)) bad(`origin "${origin}" is not on the domain "${rp.id}" or a subdomain of it`)
  }
  return Object.freeze({ id: rp.id, name: rp.name, origins: Object.freeze([...rp.origins]) })
}

/** The WebAuthn user handle: the user id's UTF-8 bytes (an opaque id, no personal data). */
function userHandleOf (userId: unknown): Uint8Array<ArrayBuffer> {
  const bytes = typeof userId === 'string' ? Buffer.from(userId, 'utf8') : undefined
  if (bytes === undefined || bytes.length === 0 || bytes.length > MAX_USER_ID_BYTES) {
    throw new InvalidArgumentError(`passkey user id: expected 1 to ${MAX_USER_ID_BYTES} bytes of text, got ${describe(userId)}`)
  }
  return new Uint8Array(bytes)
}

/** The library is given a function, so a wrong challenge is known without reading its message. */
function challengeCheck (expected: string): { matches: (c: string) => boolean, mismatched: () => boolean } {
  let mismatched = false
  const want = Buffer.from(expected)
  return {
    matches: (c: string) => {
      const got = Buffer.from(String(c))
      const ok = got.length === want.length && timingSafeEqual(got, want)
      mismatched = !ok
      return ok
    },
    mismatched: () => mismatched
  }
}

function libraryRefusal (cause: unknown, challengeMismatched: () => boolean, what: string): PasskeyError {
  if (cause instanceof PasskeyError) return cause
  if (challengeMismatched()) return refuse('challenge', `the ${what} answer was made for another challenge`, cause)
  // The library's errors, by name and code (the library itself is loaded lazily).
  const code = cause instanceof Error && cause.name === 'SimpleWebAuthnError' ? (cause as Error & { code?: unknown }).code : undefined
  if (code === 'UNEXPECTED_ORIGIN') return refuse('origin', `the ${what} answer came from an origin this node does not serve: ${(cause as Error).message}`, cause)
  if (code === 'UNEXPECTED_RP_ID') return refuse('rp-id', `the ${what} answer is for another relying party (its RP-ID hash is not this node's)`, cause)
  const message = cause instanceof Error ? cause.message : String(cause)
  // The library meets bytes of the wrong structure (an attestation object that is not a map...) as a TypeError or RangeError.
  if (cause instanceof TypeError || cause instanceof RangeError) return refuse('malformed', `the ${what} answer's bytes do not parse as WebAuthn structures: ${message.slice(0, 200)}`, cause)
  return refuse('rejected', `the ${what} answer does not verify: ${message.slice(0, 200)}`, cause)
}

function transportsOf (value: readonly string[] | undefined): string[] {
  // Kept only when they fit the record; an unknown or odd entry just is not kept (they are a hint for the browser).
  const ok = (value ?? []).filter((t) => typeof t === 'string' && /^[a-z][a-z-]*$/.test(t) && t.length <= PASSKEY_LIMITS.transportChars)
  return [...new Set(ok)].slice(0, PASSKEY_LIMITS.transports)
}

// ---- Shapes of the browser's JSON (untrusted): checked, bounded, rebuilt ----

const LIMITS = { clientDataJSON: 8 * 1024, attestationObject: 64 * 1024, authenticatorData: 8 * 1024, signature: 1024, userHandle: 128 }
const B64URL = /^[A-Za-z0-9_-]*$/

function malformed (message: string): PasskeyError { return refuse('malformed', message) }

function asRecord (value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(`${what}: expected an object, got ${describe(value)}`)
  return value as Record<string, unknown>
}

function base64url (map: Record<string, unknown>, key: string, what: string, maxBytes: number, optional = false): string | undefined {
  const v = map[key]
  if (v === undefined && optional) return undefined
  if (typeof v !== 'string' || v.length === 0) throw malformed(`${what}.${key}: expected base64url text, got ${describe(v)}`)
  if (v.length > Math.ceil(maxBytes * 4 / 3)) throw malformed(`${what}.${key}: expected at most ${maxBytes} bytes, got ${v.length} characters`)
  if (!B64URL.test(v) || v.length % 4 === 1) throw malformed(`${what}.${key}: expected base64url text (A-Z a-z 0-9 - _, no padding)`)
  return v
}

function credentialHead (value: unknown, what: string): { map: Record<string, unknown>, id: string, inner: Record<string, unknown> } {
  const map = asRecord(value, what)
  const idProblem = credentialIdProblem(map.id)
  if (idProblem !== undefined) throw malformed(`${what}.id: ${idProblem}`)
  if (map.rawId !== map.id) throw malformed(`${what}.rawId: expected the same text as id`)
  if (map.type !== 'public-key') throw malformed(`${what}.type: expected "public-key", got ${describe(map.type)}`)
  const inner = asRecord(map.response, `${what}.response`)
  clientDataShape(base64url(inner, 'clientDataJSON', `${what}.response`, LIMITS.clientDataJSON)!, `${what}.response.clientDataJSON`)
  return { map, id: map.id as string, inner }
}

/** clientDataJSON must be a JSON object with text type, challenge and origin (the library checks their values). */
function clientDataShape (text: string, what: string): void {
  let data: unknown
  try { data = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) } catch { throw malformed(`${what}: expected base64url of a JSON object, got text that does not parse`) }
  const map = asRecord(data, what)
  for (const key of ['type', 'challenge', 'origin']) {
    if (typeof map[key] !== 'string') throw malformed(`${what}.${key}: expected text, got ${describe(map[key])}`)
  }
}

function attachment (map: Record<string, unknown>): { authenticatorAttachment?: 'platform' | 'cross-platform' } {
  const a = map.authenticatorAttachment
  return a === 'platform' || a === 'cross-platform' ? { authenticatorAttachment: a } : {}
}

function registrationShape (value: unknown): RegistrationResponseJSON {
  const what = 'registration answer'
  const { map, id, inner } = credentialHead(value, what)
  const attestationObject = base64url(inner, 'attestationObject', `${what}.response`, LIMITS.attestationObject)!
  const t = inner.transports
  if (t !== undefined && (!Array.isArray(t) || t.length > 16 || !t.every((x) => typeof x === 'string' && x.length <= 64))) {
    throw malformed(`${what}.response.transports: expected a short list of names, got ${describe(t)}`)
  }
  return {
    id, rawId: id, type: 'public-key', clientExtensionResults: {}, ...attachment(map),
    response: { clientDataJSON: inner.clientDataJSON as string, attestationObject, ...(t === undefined ? {} : { transports: [...t as string[]] }) }
  }
}

function authenticationShape (value: unknown): AuthenticationResponseJSON {
  const what = 'sign-in answer'
  const { map, id, inner } = credentialHead(value, what)
  const authenticatorData = base64url(inner, 'authenticatorData', `${what}.response`, LIMITS.authenticatorData)!
  const signature = base64url(inner, 'signature', `${what}.response`, LIMITS.signature)!
  // A browser sends null for "no user handle"; treat it as absent.
  const userHandle = inner.userHandle === null ? undefined : base64url(inner, 'userHandle', `${what}.response`, LIMITS.userHandle, true)
  return {
    id, rawId: id, type: 'public-key', clientExtensionResults: {}, ...attachment(map),
    response: { clientDataJSON: inner.clientDataJSON as string, authenticatorData, signature, ...(userHandle === undefined ? {} : { userHandle }) }
  }
}
