/**
 * A signed-in person's own account (docs/access-control.md):
 *
 *   GET    /api/me/sessions             this person's sessions at this site (the current one marked)
 *   DELETE /api/me/sessions/:session    ends one of them (by the id hash prefix the list shows)
 *   POST   /api/me/password             {current, next}: a new password; the person's other sessions here end
 *   POST   /api/me/totp                 {password} → a new secret, URI and QR code; then {code} → enrolled (replaces the old one)
 *   POST   /api/me/recovery-codes       {password} → ten new recovery codes, shown once (the old ones stop working)
 *   POST   /api/me/passkeys/options     {} → WebAuthn creation options
 *   POST   /api/me/passkeys             {response, name, password} → the passkey is added
 *
 * What would let a stolen session outlive its sign-in (a new second factor, new recovery codes)
 * asks for the password again.
 *   POST   /api/break-glass             {study: StudyInstanceUID, reason}: emergency access (see break-glass.ts)
 */
import { Hono, type Context } from 'hono'
import { RequestError } from '../dicomweb/http-errors.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { breakGlass } from './break-glass.ts'
import { callerOf, remoteAddressOf, type Caller } from './gate.ts'
import { jsonBody, textOf } from './json-body.ts'
import { verifyPassword } from './password.ts'
import type { People } from './people.ts'
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes.ts'
import { SignInRefusedError, accountView } from './session-routes.ts'
import { newTotpSecret, totpUri } from './totp.ts'
import { qrSvg } from './qr.ts'

type Person = Extract<Caller, { kind: 'person' }>

/** The person's password again, for changes that add a way in. */
async function reauthenticate (me: Person, body: Readonly<Record<string, unknown>>): Promise<void> {
  const password = textOf(body, 'password', 4096)
  const stored = me.account.record.password
  if (stored === null || !await verifyPassword(password, stored)) throw new SignInRefusedError('the password is wrong')
}

function person (c: Context): Person {
  const caller = callerOf(c)
  if (caller.kind !== 'person') throw new RequestError('NOT_SIGNED_IN', 'no session')
  return caller
}

export function meRoutes (people: People): Hono {
  const app = new Hono()
  const pendingTotp = new Map<string, Uint8Array>()

  app.get('/sessions', async (c) => {
    const me = person(c)
    const list = await people.sessions.listOf(me.account.id)
    return c.json(list.map((s) => ({
      id: s.idHash.slice(0, 16), current: s.idHash === me.session.idHash, stage: s.stage,
      created: new Date(s.created).toISOString(), lastSeen: new Date(s.lastSeen).toISOString(), address: s.address, userAgent: s.userAgent
    })))
  })

  app.delete('/sessions/:session', async (c) => {
    const me = person(c)
    const prefix = c.req.param('session')
    if (!/^[0-9a-f]{16}$/.test(prefix)) throw new RequestError('BAD_REQUEST', 'the session is named by the 16 hex digits GET /api/me/sessions shows')
    const target = (await people.sessions.listOf(me.account.id)).find((s) => s.idHash.startsWith(prefix))
    if (target === undefined) throw new RequestError('NOT_FOUND', 'no such session of yours here')
    await people.sessions.endByHash(target.idHash)
    return c.json({ ended: prefix })
  })

  app.post('/password', async (c) => {
    const me = person(c)
    const body = await jsonBody(c)
    const current = textOf(body, 'current', 4096)
    const next = textOf(body, 'next', 4096)
    const stored = me.account.record.password
    if (stored === null || !await verifyPassword(current, stored)) throw new SignInRefusedError('the current password is wrong')
    const account = await people.accounts.setPassword(me.account.id, next, people.authorOf(me.account, remoteAddressOf(c)))
    const ended = await people.sessions.endAllOf(me.account.id, me.session.idHash)
    return c.json({ user: accountView(account), otherSessionsEnded: ended })
  })

  app.post('/totp', async (c) => {
    const me = person(c)
    const body = await jsonBody(c)
    const code = textOf(body, 'code', 20, true)
    if (code === undefined) {
      await reauthenticate(me, body)
      const secret = newTotpSecret()
      if (pendingTotp.size >= 10_000) pendingTotp.clear()
      pendingTotp.set(me.session.idHash, secret)
      const uri = totpUri({ secret, account: me.account.record.username, issuer: `peerpacs ${people.archive.keyring.org.genesis.body.name}`.slice(0, 60) })
      return c.json({ uri, qrSvg: await qrSvg(uri), next: 'POST /api/me/totp {"code":"123456"} with the code your app shows' })
    }
    const secret = pendingTotp.get(me.session.idHash)
    if (secret === undefined) throw new RequestError('BAD_REQUEST', 'no TOTP enrolment is under way in this session: POST /api/me/totp {} first')
    if (!await people.totp.accept(me.account.id, secret, code, people.now())) throw new SignInRefusedError('the code is wrong or expired; check the phone\'s clock and try the next code')
    pendingTotp.delete(me.session.idHash)
    const account = await people.accounts.update(me.account.id, (r) => ({ ...r, totp: secret }), people.authorOf(me.account, remoteAddressOf(c)), 'TOTP enrolled')
    return c.json({ user: accountView(account) })
  })

  app.post('/recovery-codes', async (c) => {
    const me = person(c)
    await reauthenticate(me, await jsonBody(c))
    const codes = newRecoveryCodes()
    const hashes = codes.map(hashRecoveryCode)
    const account = await people.accounts.update(me.account.id, (r) => ({ ...r, recovery: hashes }), people.authorOf(me.account, remoteAddressOf(c)), 'recovery codes replaced')
    return c.json({ user: accountView(account), recoveryCodes: codes })
  })

  app.post('/passkeys/options', async (c) => {
    const me = person(c)
    return c.json(await people.passkeys.registrationOptions({ id: me.account.id, username: me.account.record.username, displayName: me.account.record.displayName }, me.account.record.passkeys))
  })

  app.post('/passkeys', async (c) => {
    const me = person(c)
    const body = await jsonBody(c)
    const name = textOf(body, 'name', 64, true) ?? 'passkey'
    await reauthenticate(me, body)
    const credential = await people.passkeys.verifyRegistration(me.account.id, body.response, name)
    const account = await people.accounts.update(me.account.id, (r) => ({ ...r, passkeys: [...r.passkeys, credential] }), people.authorOf(me.account, remoteAddressOf(c)), `passkey "${credential.name}" added`)
    return c.json({ user: accountView(account) })
  })
  return app
}

export function breakGlassRoutes (people: People, pacs: Pacs): Hono {
  const app = new Hono()
  app.post('/', async (c) => {
    const me = person(c)
    const body = await jsonBody(c)
    return c.json(await breakGlass(people, pacs, me, textOf(body, 'study', 64), textOf(body, 'reason', 500), remoteAddressOf(c)))
  })
  return app
}
