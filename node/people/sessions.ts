/**
 * A site's signed-in sessions, in its own kv (never in the log: a session is local to the site
 * that issued it). The id is 32 random bytes (base64url) that only the browser holds, in an
 * HttpOnly cookie (session-cookie.ts); the kv keeps a session under the hex SHA-256 of its id
 * (`keys.session(idHash)`), so a copy of the disk names no usable session. A plain hash is
 * enough: 256 random bits leave nothing to guess.
 *
 * Lifetimes (SessionPolicy, defaults in DEFAULT_SESSION_POLICY):
 * - idle: 15 min since the last recorded request. `lastSeen` is written at most once per
 *   TOUCH_INTERVAL_MS (30 s), so a viewer's hundreds of requests do not each write; the idle
 *   clock therefore runs from a moment up to 30 s before the last request (it can only end a
 *   session early, never keep one alive longer).
 * - absolute: 12 h since the password was accepted, whatever the activity.
 * - mfa stage: a session in stage 'mfa' (password accepted, second factor due) lives 5 min.
 * An expired session is deleted when it is next presented, and by sweep(), which the node runs
 * every few minutes.
 *
 * Address binding: a session is bound to the network it signed in from (client-address.ts: the
 * IPv4 address, or the IPv6 /64). Presented from another network it is deleted and answered
 * 'address'. So a stolen cookie replayed elsewhere dies, and takes the victim's session with it
 * (which tells them); the price is a new sign-in when a laptop moves to another network.
 *
 * promote() turns an 'mfa' session into a 'full' one under a NEW id and a new CSRF token and
 * deletes the old one, so an id seen before the second factor (session fixation) is worth
 * nothing after it.
 *
 * CSRF: each session carries a random token; the client echoes it in X-CSRF-Token on every
 * state-changing request and checkCsrf() compares in constant time. (SameSite=Strict already
 * stops cross-site requests carrying the cookie; the token is the second, independent wall.)
 *
 * Every write goes through one queue, so a touch of lastSeen can never bring back a session
 * that endAllOf(), end() or sweep() has just deleted.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { asMap, decodeCanonical, encodeCanonical, intField, textField, type CanonicalMap, type CanonicalValue } from '../../protocol/canonical.ts'
import { describe } from '../../protocol/bytes.ts'
import { DecodeError, InvalidArgumentError, PeerpacsError } from '../../protocol/errors.ts'
import { keys } from '../store/key-space.ts'
import type { KvOperation, KvStore } from '../store/kv.ts'
import { networkOf } from './client-address.ts'

export interface SessionPolicy { readonly idleMs: number, readonly absoluteMs: number, readonly mfaStageMs: number }

export const DEFAULT_SESSION_POLICY: SessionPolicy = Object.freeze({ idleMs: 15 * 60_000, absoluteMs: 12 * 3_600_000, mfaStageMs: 5 * 60_000 })

/** lastSeen is rewritten at most this often per session. */
export const TOUCH_INTERVAL_MS = 30_000

export interface BreakGlass { readonly study: string, readonly reason: string, readonly until: number }

export interface Session {
  /** hex SHA-256 of the id; the id itself is never stored */
  readonly idHash: string
  /** user id (32 lowercase hex) */
  readonly user: string
  /** 'mfa': password accepted, second factor still due */
  readonly stage: 'mfa' | 'full'
  readonly created: number
  readonly lastSeen: number
  /** the client address it was created from */
  readonly address: string
  /** truncated to 200 characters */
  readonly userAgent: string
  /** random token the client echoes in X-CSRF-Token on state-changing requests */
  readonly csrf: string
  readonly breakGlass?: readonly BreakGlass[]
}

export type Resolved = { ok: true, session: Session } | { ok: false, why: 'unknown' | 'idle' | 'absolute' | 'address' | 'stage' }

/** promote() or update() named a session that is not there (never was, ended, or expired): the person must sign in. */
export class SessionNotFoundError extends PeerpacsError {
  static readonly code = 'NOT_SIGNED_IN'
  constructor (message: string) { super(SessionNotFoundError.code, message, { hint: 'sign in again' }) }
}

/** promote() was asked to promote a session that is not waiting for its second factor: the caller's bug, so INVALID_ARGUMENT (HTTP 500). */
export class SessionStageError extends PeerpacsError {
  static readonly code = 'INVALID_ARGUMENT'
  constructor (stage: string) { super(SessionStageError.code, `session promotion: expected a session in stage 'mfa', got one in stage '${stage}'`, { hint: 'only a session whose second factor is due can be promoted; resolve it first and check its stage' }) }
}

const ID = /^[A-Za-z0-9_-]{43}$/
const ID_HASH = /^[0-9a-f]{64}$/
const USER = /^[0-9a-f]{32}$/
const ID_BYTES = 32
const MAX_USER_AGENT = 200
const MAX_ADDRESS = 100
const MAX_CSRF_HEADER = 200
const WHAT = 'session record'

export function hashSessionId (id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex')
}

function truncate (text: string, max: number): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : chars.slice(0, max).join('')
}

function encode (s: Session): Uint8Array {
  const map: CanonicalMap = { user: s.user, stage: s.stage, created: s.created, lastSeen: s.lastSeen, address: s.address, userAgent: s.userAgent, csrf: s.csrf }
  if (s.breakGlass !== undefined) map['breakGlass'] = s.breakGlass.map((b): CanonicalValue => ({ study: b.study, reason: b.reason, until: b.until }))
  return encodeCanonical(map)
}

function decode (idHash: string, bytes: Uint8Array): Session {
  const map = asMap(decodeCanonical(bytes, 64 * 1024), WHAT)
  const stage = textField(map, 'stage', WHAT)
  if (stage !== 'mfa' && stage !== 'full') throw new DecodeError(`${WHAT}.stage: expected 'mfa' or 'full', got ${describe(stage)}`)
  const session: Session = {
    idHash,
    user: textField(map, 'user', WHAT),
    stage,
    created: intField(map, 'created', WHAT),
    lastSeen: intField(map, 'lastSeen', WHAT),
    address: textField(map, 'address', WHAT),
    userAgent: textField(map, 'userAgent', WHAT),
    csrf: textField(map, 'csrf', WHAT)
  }
  const glass = map['breakGlass']
  if (glass === undefined) return session
  if (!Array.isArray(glass)) throw new DecodeError(`${WHAT}.breakGlass: expected an array, got ${describe(glass)}`)
  const breakGlass = glass.map((item) => {
    const b = asMap(item, `${WHAT}.breakGlass[]`)
    return { study: textField(b, 'study', WHAT), reason: textField(b, 'reason', WHAT), until: intField(b, 'until', WHAT) }
  })
  return { ...session, breakGlass }
}

export class SessionStore {
  readonly #kv: KvStore
  readonly #policy: SessionPolicy
  readonly #now: () => number
  readonly #random: (n: number) => Uint8Array
  #writes: Promise<unknown> = Promise.resolve()

  constructor (kv: KvStore, options: { policy?: Partial<SessionPolicy>, now?: () => number, random?: (n: number) => Uint8Array } = {}) {
    this.#kv = kv
    const policy = { ...DEFAULT_SESSION_POLICY, ...options.policy }
    for (const [name, value] of Object.entries(policy)) {
      if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidArgumentError(`session policy ${name}: expected a positive whole number of milliseconds, got ${describe(value)}`)
    }
    this.#policy = Object.freeze(policy)
    this.#now = options.now ?? Date.now
    this.#random = options.random ?? ((n) => new Uint8Array(randomBytes(n)))
  }

  get policy (): SessionPolicy { return this.#policy }

  async create (user: string, stage: 'mfa' | 'full', address: string, userAgent = ''): Promise<{ id: string, session: Session }> {
    if (typeof user !== 'string' || !USER.test(user)) throw new InvalidArgumentError(`session user: expected a user id of 32 lowercase hex digits, got ${describe(user)}`)
    if (stage !== 'mfa' && stage !== 'full') throw new InvalidArgumentError(`session stage: expected 'mfa' or 'full', got ${describe(stage)}`)
    if (typeof address !== 'string') throw new InvalidArgumentError(`session address: expected the client address as text, got ${describe(address)}`)
    const now = this.#now()
    const id = this.#token()
    const session: Session = {
      idHash: hashSessionId(id),
      user,
      stage,
      created: now,
      lastSeen: now,
      address: address.slice(0, MAX_ADDRESS),
      userAgent: typeof userAgent === 'string' ? truncate(userAgent, MAX_USER_AGENT) : '',
      csrf: this.#token()
    }
    await this.#serial(() => this.#kv.batch([{ type: 'put', key: keys.session(session.idHash), value: encode(session) }]))
    return { id, session }
  }

  /** The live session an id names, seen from `address`; anything else is a reason, never a throw. */
  async resolve (id: string, address: string): Promise<Resolved> {
    if (typeof id !== 'string' || !ID.test(id)) return { ok: false, why: 'unknown' }
    const idHash = hashSessionId(id)
    const now = this.#now()
    const session = await this.#read(idHash)
    if (session === undefined) return { ok: false, why: 'unknown' }
    const expired = this.#expired(session, now)
    if (expired !== undefined) {
      await this.#delete([idHash])
      return { ok: false, why: expired }
    }
    if (typeof address !== 'string' || networkOf(session.address) !== networkOf(address)) {
      await this.#delete([idHash])
      return { ok: false, why: 'address' }
    }
    if (now - session.lastSeen < TOUCH_INTERVAL_MS) return { ok: true, session }
    return await this.#serial(async (): Promise<Resolved> => {
      const current = await this.#read(idHash) // it may have changed or ended since the read above
      if (current === undefined) return { ok: false, why: 'unknown' }
      const touched = { ...current, lastSeen: Math.max(current.lastSeen, now) }
      await this.#kv.batch([{ type: 'put', key: keys.session(idHash), value: encode(touched) }])
      return { ok: true, session: touched }
    })
  }

  /** mfa → full under a new id and CSRF token; the old id is dead when this returns. */
  async promote (id: string): Promise<{ id: string, session: Session }> {
    if (typeof id !== 'string' || !ID.test(id)) throw new SessionNotFoundError('session promotion: the session id is malformed')
    const idHash = hashSessionId(id)
    return await this.#serial(async () => {
      const now = this.#now()
      const old = await this.#read(idHash)
      if (old === undefined) throw new SessionNotFoundError('session promotion: no such session (it ended, expired or was never issued here)')
      const expired = this.#expired(old, now)
      if (expired !== undefined) {
        await this.#kv.batch([{ type: 'del', key: keys.session(idHash) }])
        throw new SessionNotFoundError(`session promotion: the session expired (${expired})`)
      }
      if (old.stage !== 'mfa') throw new SessionStageError(old.stage)
      const newId = this.#token()
      const session: Session = { ...old, idHash: hashSessionId(newId), stage: 'full', lastSeen: now, csrf: this.#token() }
      await this.#kv.batch([
        { type: 'del', key: keys.session(idHash) },
        { type: 'put', key: keys.session(session.idHash), value: encode(session) }
      ])
      return { id: newId, session }
    })
  }

  /** Rewrites a live session (e.g. to add a break-glass grant); its hash, user and creation stay. */
  async update (idHash: string, change: (s: Session) => Session): Promise<void> {
    if (typeof idHash !== 'string' || !ID_HASH.test(idHash)) throw new InvalidArgumentError(`session update: expected a session id hash of 64 lowercase hex digits, got ${describe(idHash)}`)
    await this.#serial(async () => {
      const current = await this.#read(idHash)
      if (current === undefined) throw new SessionNotFoundError('session update: no such session (it ended or expired)')
      const next = change(current)
      if (next.idHash !== current.idHash || next.user !== current.user || next.created !== current.created) {
        throw new InvalidArgumentError('session update: the change must keep the session\'s idHash, user and created')
      }
      await this.#kv.batch([{ type: 'put', key: keys.session(idHash), value: encode(next) }])
    })
  }

  async end (id: string): Promise<void> {
    if (typeof id !== 'string' || !ID.test(id)) return
    await this.#delete([hashSessionId(id)])
  }

  /** Ends the session with this id hash (the session list names sessions by hash); false if there was none. */
  async endByHash (idHash: string): Promise<boolean> {
    if (typeof idHash !== 'string' || !ID_HASH.test(idHash)) return false
    return await this.#serial(async () => {
      if (await this.#kv.get(keys.session(idHash)) === undefined) return false
      await this.#kv.batch([{ type: 'del', key: keys.session(idHash) }])
      return true
    })
  }

  /** Ends every session of `user` at this site (disabled user, password change), except one by hash. */
  async endAllOf (user: string, except?: string): Promise<number> {
    return await this.#serial(async () => {
      const doomed: string[] = []
      for await (const [idHash, session] of this.#scan()) {
        if (session?.user === user && idHash !== except) doomed.push(idHash)
      }
      await this.#kv.batch(doomed.map((h): KvOperation => ({ type: 'del', key: keys.session(h) })))
      return doomed.length
    })
  }

  /** The live sessions of `user` at this site, oldest first. */
  async listOf (user: string): Promise<Session[]> {
    const now = this.#now()
    const out: Session[] = []
    for await (const [, session] of this.#scan()) {
      if (session !== undefined && session.user === user && this.#expired(session, now) === undefined) out.push(session)
    }
    return out.sort((a, b) => a.created - b.created)
  }

  /** Deletes expired (and unreadable) sessions; returns how many. */
  async sweep (): Promise<number> {
    return await this.#serial(async () => {
      const now = this.#now()
      const doomed: string[] = []
      for await (const [idHash, session] of this.#scan()) {
        if (session === undefined || this.#expired(session, now) !== undefined) doomed.push(idHash)
      }
      await this.#kv.batch(doomed.map((h): KvOperation => ({ type: 'del', key: keys.session(h) })))
      return doomed.length
    })
  }

  /** Whether `header` is this session's CSRF token, compared in constant time. */
  static checkCsrf (session: Session, header: string | undefined): boolean {
    if (typeof header !== 'string' || header.length === 0 || header.length > MAX_CSRF_HEADER) return false
    const a = createHash('sha256').update(header, 'utf8').digest()
    const b = createHash('sha256').update(session.csrf, 'utf8').digest()
    return timingSafeEqual(a, b)
  }

  #expired (s: Session, now: number): 'absolute' | 'stage' | 'idle' | undefined {
    if (now - s.created >= this.#policy.absoluteMs) return 'absolute'
    if (s.stage === 'mfa' && now - s.created >= this.#policy.mfaStageMs) return 'stage'
    if (now - s.lastSeen >= this.#policy.idleMs) return 'idle'
    return undefined
  }

  #token (): string {
    const bytes = this.#random(ID_BYTES)
    if (!(bytes instanceof Uint8Array) || bytes.length !== ID_BYTES) throw new InvalidArgumentError(`session random source: expected ${ID_BYTES} bytes, got ${describe(bytes)}`)
    return Buffer.from(bytes).toString('base64url')
  }

  /** The session under idHash; an unreadable record counts as none (sweep() removes it). */
  async #read (idHash: string): Promise<Session | undefined> {
    const bytes = await this.#kv.get(keys.session(idHash))
    if (bytes === undefined) return undefined
    try { return decode(idHash, bytes) } catch { return undefined }
  }

  /** Every stored session, [idHash, session or undefined when unreadable]. */
  async * #scan (): AsyncIterable<[string, Session | undefined]> {
    for await (const [key, value] of this.#kv.entries(keys.sessions)) {
      const idHash = key[1]!
      let session: Session | undefined
      try { session = decode(idHash, value) } catch { session = undefined }
      yield [idHash, session]
    }
  }

  async #delete (idHashes: string[]): Promise<void> {
    await this.#serial(() => this.#kv.batch(idHashes.map((h): KvOperation => ({ type: 'del', key: keys.session(h) }))))
  }

  /** Runs `work` after every write queued before it; a failure is the caller's, not the queue's. */
  async #serial<T> (work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work)
    this.#writes = run.catch(() => undefined)
    return await run
  }
}
