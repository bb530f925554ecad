/**
 * Signing in and out (docs/access-control.md "Signing in"):
 *
 *   POST   /api/session                  {username, password} → a session cookie; stage "full", or
 *                                        "mfa" when a second factor is due (with the methods the account has)
 *   POST   /api/session/totp-enrolment   (stage mfa, no factor enrolled yet) → a new TOTP secret, its otpauth:// URI and QR code
 *   POST   /api/session/passkey-options  (stage mfa) → WebAuthn request options
 *   POST   /api/session/second-factor    {method: "totp"|"recovery"|"passkey", code | response} → stage "full", a new cookie
 *   GET    /api/session                  who is signed in, the stage, the CSRF token, the limits (idleMs,
 *                                        absoluteMs) and when the session ends (expires.idle, expires.absolute)
 *   DELETE /api/session                  sign out
 *
 * A wrong username, a wrong password and a disabled account get the same answer, after the same
 * scrypt work. Every attempt passes the throttle first and is audited (110114, with its outcome).
 * A second factor's codes are throttled like passwords.
 */
import { Hono, type Context } from 'hono'
import { toHex } from '../../protocol/encoding.ts'
import { problemResponse, RequestError } from '../dicomweb/http-errors.ts'
import { networkUser, personUser } from '../audit/actors.ts'
import { EVENT_TYPE } from '../../protocol/audit/index.ts'
import type { Account } from './directory.ts'
import { PasskeyError } from './errors.ts'
import { callerOf, remoteAddressOf } from './gate.ts'
import { jsonBody, textOf } from './json-body.ts'
import { needsRehash, verifyPassword, verifyPasswordAgainstNone, hashPassword } from './password.ts'
import type { People } from './people.ts'
import { newRecoveryCodes, hashRecoveryCode, findRecoveryCode } from './recovery-codes.ts'
import { MFA_REQUIRED } from './roles.ts'
import { sessionCookie, clearedSessionCookie } from './session-cookie.ts'
import type { Session } from './sessions.ts'
import { newTotpSecret, totpUri } from './totp.ts'
import { qrSvg } from './qr.ts'
import { usernameKey, usernameProblem } from './user-record.ts'
import { TotpCodeError } from './errors.ts'

/** A sign-in refused: one answer for every reason, so none tells whether the username exists. */
export class SignInRefusedError extends RequestError {
  constructor (message = 'the username or password is wrong, or the account cannot sign in') { super('SIGN_IN_REFUSED', message) }
}

export function accountView (a: Account): Record<string, unknown> {
  return {
    id: a.id,
    username: a.record.username,
    displayName: a.record.displayName,
    role: a.record.role,
    disabled: a.disabled,
    mfaRequired: a.record.mfa || MFA_REQUIRED.has(a.record.role),
    secondFactors: { totp: a.record.totp !== null, passkeys: a.record.passkeys.length, recoveryCodes: a.record.recovery.length },
    service: a.record.password === null,
    conflict: a.conflict,
    created: new Date(a.created).toISOString()
  }
}

export function methodsOf (a: Account): string[] {
  const methods: string[] = []
  if (a.record.totp !== null) methods.push('totp')
  if (a.record.passkeys.length > 0) methods.push('passkey')
  if (a.record.recovery.length > 0) methods.push('recovery')
  return methods
}

function sessionView (people: People, account: Account, session: Session, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    stage: session.stage,
    csrf: session.csrf,
    user: accountView(account),
    ...(session.stage === 'mfa' ? { secondFactor: { methods: methodsOf(account), enrol: methodsOf(account).length === 0 } } : {}),
    ...expiryOf(people, session),
    ...extra
  }
}

/**
 * The session's limits and when it ends unless used again (the viewer's idle warning counts
 * against them): `idle` is the last recorded request + idleMs (recorded at most every 30 s, so it
 * may be up to 30 s early), `absolute` the sign-in + absoluteMs (or the mfa stage's end).
 */
function expiryOf (people: People, session: Session): Record<string, unknown> {
  const policy = people.sessions.policy
  const absolute = session.created + (session.stage === 'mfa' ? Math.min(policy.mfaStageMs, policy.absoluteMs) : policy.absoluteMs)
  return {
    limits: { idleMs: policy.idleMs, absoluteMs: policy.absoluteMs },
    expires: { idle: new Date(Math.min(session.lastSeen + policy.idleMs, absolute)).toISOString(), absolute: new Date(absolute).toISOString() }
  }
}

/** Enrolments begun in the mfa stage (a secret shown, its first code not yet given), by session id hash. */
const MAX_PENDING = 10_000

export function sessionRoutes (people: People): Hono {
  const app = new Hono()
  const pendingTotp = new Map<string, Uint8Array>()

  /** A 429 with Retry-After when the throttle says wait, else undefined. */
  const throttled = (c: Context, account: string): Response | undefined => {
    const verdict = people.throttle.check(account, remoteAddressOf(c))
    if (verdict.allowed) return undefined
    const seconds = Math.ceil(verdict.retryAfterMs / 1000)
    people.auditSignIn('failure', networkUser(account.slice(0, 64), remoteAddressOf(c)), `sign-in refused: too many attempts (${verdict.reason})`)
    return problemResponse(new RequestError('SIGN_IN_THROTTLED', `too many attempts; try again in ${seconds} s`), { 'Retry-After': String(seconds) })
  }

  app.post('/', async (c) => {
    const body = await jsonBody(c)
    const username = textOf(body, 'username', 256)
    const password = textOf(body, 'password', 4096)
    const key = usernameProblem(username) === undefined ? usernameKey(username) : `invalid:${username.slice(0, 64)}`
    const wait = throttled(c, key)
    if (wait !== undefined) return wait
    const address = remoteAddressOf(c)
    const account = usernameProblem(username) === undefined ? people.directory.byUsername(username) : undefined
    const stored = account !== undefined && !account.disabled ? account.record.password : null
    const ok = stored === null ? await verifyPasswordAgainstNone(password) : await verifyPassword(password, stored)
    if (!ok || account === undefined) {
      people.throttle.failure(key, address)
      people.auditSignIn('failure', account === undefined ? networkUser(username.slice(0, 64), address) : personUser({ id: account.id, ...account.record }, address), 'sign-in refused: wrong username or password, or the account is disabled')
      throw new SignInRefusedError()
    }
    people.throttle.success(key, address)
    if (needsRehash(stored!)) {
      const fresh = await hashPassword(password)
      await people.accounts.update(account.id, (r) => ({ ...r, password: fresh }), people.authorOf(account, address), 'password hash strengthened').catch(() => undefined)
    }
    const second = account.record.mfa || MFA_REQUIRED.has(account.record.role)
    const { id, session } = await people.sessions.create(account.id, second ? 'mfa' : 'full', address, c.req.header('user-agent') ?? '')
    c.header('Set-Cookie', sessionCookie(id, { secure: people.secure }))
    if (!second) people.auditSignIn('success', personUser({ id: account.id, ...account.record }, address), 'signed in with a password')
    return c.json(sessionView(people, account, session))
  })

  app.get('/', (c) => {
    const caller = callerOf(c)
    if (caller.kind !== 'person') throw new RequestError('NOT_SIGNED_IN', 'no session')
    return c.json(sessionView(people, caller.account, caller.session))
  })

  app.delete('/', async (c) => {
    const caller = callerOf(c)
    if (caller.kind !== 'person') throw new RequestError('NOT_SIGNED_IN', 'no session')
    await people.sessions.end(caller.sessionId)
    pendingTotp.delete(caller.session.idHash)
    c.header('Set-Cookie', clearedSessionCookie(people.secure))
    people.auditSignIn('success', personUser({ id: caller.account.id, ...caller.account.record }, remoteAddressOf(c)), 'signed out', 'logout')
    return c.json({ signedOut: true })
  })

  app.post('/totp-enrolment', async (c) => {
    const caller = callerOf(c)
    // Not the gate's 403: the route is allowed, the request does not fit this session's state.
    if (caller.kind !== 'person' || caller.session.stage !== 'mfa') throw new RequestError('BAD_REQUEST', 'enrolment here is for a session waiting for its second factor; signed-in people use POST /api/me/totp')
    if (methodsOf(caller.account).length > 0) throw new RequestError('BAD_REQUEST', 'this account has a second factor already: use it; an admin can reset it (`peerpacs users reset-mfa`)')
    const secret = newTotpSecret()
    if (pendingTotp.size >= MAX_PENDING) pendingTotp.clear()
    pendingTotp.set(caller.session.idHash, secret)
    const uri = totpUri({ secret, account: caller.account.record.username, issuer: `peerpacs ${people.archive.keyring.org.genesis.body.name}`.slice(0, 60) })
    return c.json({ uri, qrSvg: await qrSvg(uri), next: 'POST /api/session/second-factor {"method":"totp","code":"123456"} with the code your app shows' })
  })

  app.post('/passkey-options', async (c) => {
    const caller = callerOf(c)
    if (caller.kind !== 'person') throw new RequestError('NOT_SIGNED_IN', 'no session')
    return c.json(await people.passkeys.authenticationOptions(caller.account.id, caller.account.record.passkeys))
  })

  app.post('/second-factor', async (c) => {
    const caller = callerOf(c)
    if (caller.kind !== 'person') throw new RequestError('NOT_SIGNED_IN', 'no session')
    if (caller.session.stage === 'full') return c.json(sessionView(people, caller.account, caller.session))
    const body = await jsonBody(c)
    const method = textOf(body, 'method', 20)
    const account = caller.account
    const address = remoteAddressOf(c)
    const key = usernameKey(account.record.username)
    const wait = throttled(c, key)
    if (wait !== undefined) return wait
    const author = people.authorOf(account, address)
    let recoveryCodes: string[] | undefined
    let ok = false
    let how = method
    try {
      if (method === 'totp') {
        const code = textOf(body, 'code', 20)
        const enrolling = pendingTotp.get(caller.session.idHash)
        const secret = account.record.totp ?? enrolling
        if (secret === undefined) throw new RequestError('BAD_REQUEST', 'this account has no TOTP enrolled: begin with POST /api/session/totp-enrolment, or use another method')
        ok = await people.totp.accept(account.id, secret, code, people.now())
        if (ok && account.record.totp === null) {
          recoveryCodes = newRecoveryCodes()
          const hashes = recoveryCodes.map(hashRecoveryCode)
          await people.accounts.update(account.id, (r) => ({ ...r, totp: secret, recovery: hashes }), author, 'TOTP enrolled at sign-in; recovery codes issued')
          pendingTotp.delete(caller.session.idHash)
          how = 'totp (enrolled)'
        }
      } else if (method === 'recovery') {
        const code = textOf(body, 'code', 40)
        const index = findRecoveryCode(code, account.record.recovery)
        ok = index >= 0
        if (ok) {
          const used = account.record.recovery[index]!
          // Single use at every site: the code's hash leaves the record in the log.
          await people.accounts.update(account.id, (r) => ({ ...r, recovery: r.recovery.filter((h) => toHex(h) !== toHex(used)) }), author, 'a recovery code was used')
        }
      } else if (method === 'passkey') {
        const { credentialId, newCounter } = await people.passkeys.verifyAuthentication(account.id, body.response, account.record.passkeys)
        ok = true
        const current = account.record.passkeys.find((p) => p.id === credentialId)
        if (current !== undefined && newCounter !== current.counter) {
          await people.accounts.update(account.id, (r) => ({ ...r, passkeys: r.passkeys.map((p) => p.id === credentialId ? { ...p, counter: newCounter } : p) }), author, 'passkey counter advanced')
        }
      } else throw new RequestError('BAD_REQUEST', `"method" must be totp, recovery or passkey, got "${method.slice(0, 20)}"`)
    } catch (error) {
      if (error instanceof PasskeyError && error.reason === 'counter') {
        people.alert([EVENT_TYPE.useOfRestrictedFunction], personUser({ id: account.id, ...account.record }, address), account.id, 'a passkey answered with a counter that did not grow: it may have been cloned')
      }
      if (error instanceof PasskeyError || error instanceof TotpCodeError) {
        people.throttle.failure(key, address)
        people.auditSignIn('failure', personUser({ id: account.id, ...account.record }, address), `second factor refused (${method}): ${error.message.slice(0, 120)}`)
      }
      throw error
    }
    if (!ok) {
      people.throttle.failure(key, address)
      people.auditSignIn('failure', personUser({ id: account.id, ...account.record }, address), `second factor refused (${method})`)
      throw new SignInRefusedError('the code is wrong, expired or was used already')
    }
    people.throttle.success(key, address)
    const promoted = await people.sessions.promote(caller.sessionId)
    c.header('Set-Cookie', sessionCookie(promoted.id, { secure: people.secure }))
    people.auditSignIn('success', personUser({ id: account.id, ...account.record }, address), `signed in with a password and ${how}`)
    const fresh = people.directory.byId(account.id) ?? account
    return c.json(sessionView(people, fresh, promoted.session, recoveryCodes === undefined ? {} : { recoveryCodes }))
  })
  return app
}
