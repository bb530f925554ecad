/**
 * Signing in over the node's HTTP front (node/people/session-routes.ts, gate.ts), in process with
 * a real archive and log: password then TOTP (enrolled at first sign-in), recovery codes single
 * use, a TOTP code good once, CSRF on every state-changing request, idle and absolute expiry and
 * the throttle with an injected clock, a cookie replayed from another address, a disabled
 * account's session ended, and the same answer for a wrong password as for an unknown user.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { peopleFront } from '../../../helpers/people-front.ts'

const PASSWORD = 'correct horse battery staple 7'

test('an admin signs in with a password, enrols TOTP at first sign-in, gets recovery codes, and reaches the admin API', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('alice', 'admin', PASSWORD)
  const b = f.browser()
  const first = await b.request('POST', '/api/session', { username: 'alice', password: PASSWORD })
  assert.equal(first.status, 200)
  assert.equal(first.body.stage, 'mfa', 'admins must use a second factor')
  assert.equal(first.body.secondFactor.enrol, true)
  assert.equal((await b.request('GET', '/api/users')).status, 401, 'no admin API before the second factor')
  const enrol = await b.request('POST', '/api/session/totp-enrolment', {})
  assert.match(enrol.body.uri, /^otpauth:\/\/totp\//)
  assert.match(enrol.body.qrSvg, /^<svg/)
  b.totpUri = enrol.body.uri
  const oldCookie = b.cookie
  const done = await b.request('POST', '/api/session/second-factor', { method: 'totp', code: b.code() })
  assert.equal(done.status, 200, JSON.stringify(done.body))
  assert.equal(done.body.stage, 'full')
  assert.equal(done.body.recoveryCodes.length, 10)
  assert.notEqual(b.cookie, oldCookie, 'a new session id after the second factor (no fixation)')
  const users = await b.request('GET', '/api/users')
  assert.equal(users.status, 200)
  assert.deepEqual(users.body.users.map((u: { username: string }) => u.username), ['alice'])
  assert.equal(users.body.users[0].secondFactors.totp, true)

  // The old (pre-MFA) cookie is dead.
  const stale = f.browser(); stale.cookie = oldCookie
  assert.equal((await stale.request('GET', '/api/session')).status, 401)

  // Sign out: the cookie no longer works.
  assert.equal((await b.request('DELETE', '/api/session')).status, 200)
  assert.equal((await b.request('GET', '/api/users')).status, 401)
})

test('a wrong password, an unknown user and a disabled account get one answer; each attempt is audited', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('bob', 'technologist', PASSWORD)
  await f.addUser('carol', 'technologist', PASSWORD)
  await f.people.accounts.disable('carol', 'left the practice', { by: 'cli:test', actor: { userId: 'os:test' } })
  const answers = []
  for (const [username, password] of [['bob', 'wrong password 123'], ['nobody-here', PASSWORD], ['carol', PASSWORD]] as const) {
    const r = await f.browser().request('POST', '/api/session', { username, password })
    answers.push([r.status, r.body.error, r.body.message])
  }
  assert.equal(new Set(answers.map((a) => JSON.stringify(a))).size, 1, JSON.stringify(answers))
  assert.equal(answers[0]![0], 401)
  const ok = await f.browser().request('POST', '/api/session', { username: 'BOB', password: PASSWORD })
  assert.equal(ok.status, 200, 'usernames match case-insensitively')
  assert.equal(ok.body.stage, 'full', 'a technologist needs no second factor by default')
  await f.archive.auditor.flush()
  const log = await f.archive.log()
  const auditOps = [...log.oplog.state.audit.values()].reduce((n, l) => n + l.length, 0)
  assert.ok(auditOps >= 4, `every attempt is audited (${auditOps} audit ops)`)
})

test('recovery codes are single use; a TOTP code is good once', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('dora', 'radiologist', PASSWORD)
  const b = f.browser()
  const signed = await b.signIn('dora', PASSWORD)
  const codes: string[] = signed.body.recoveryCodes
  assert.equal(codes.length, 10)

  f.advance(31_000)
  const c1 = f.browser()
  await c1.request('POST', '/api/session', { username: 'dora', password: PASSWORD })
  assert.equal((await c1.request('POST', '/api/session/second-factor', { method: 'recovery', code: codes[3] })).status, 200)
  const c2 = f.browser()
  await c2.request('POST', '/api/session', { username: 'dora', password: PASSWORD })
  const again = await c2.request('POST', '/api/session/second-factor', { method: 'recovery', code: codes[3] })
  assert.equal(again.status, 401, 'a used recovery code is refused')
  assert.equal(f.people.directory.byUsername('dora')!.record.recovery.length, 9)

  const code = b.code()
  const c3 = f.browser(); c3.totpUri = b.totpUri
  await c3.request('POST', '/api/session', { username: 'dora', password: PASSWORD })
  assert.equal((await c3.request('POST', '/api/session/second-factor', { method: 'totp', code })).status, 200)
  const c4 = f.browser()
  await c4.request('POST', '/api/session', { username: 'dora', password: PASSWORD })
  assert.equal((await c4.request('POST', '/api/session/second-factor', { method: 'totp', code })).status, 401, 'a replayed TOTP code is refused')
  const bad = await c4.request('POST', '/api/session/second-factor', { method: 'totp', code: '12ab' })
  assert.equal(bad.status, 400, 'a code of the wrong shape is a bad request')
})

test('CSRF: a signed-in state-changing request without the session\'s token is refused', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('erin', 'admin', PASSWORD)
  const b = f.browser()
  await b.signIn('erin', PASSWORD)
  const body = { username: 'frank', role: 'technologist', password: PASSWORD }
  assert.equal((await b.request('POST', '/api/users', body, { 'x-csrf-token': '' })).status, 403)
  assert.equal((await b.request('POST', '/api/users', body, { 'x-csrf-token': 'x'.repeat(43) })).status, 403)
  const made = await b.request('POST', '/api/users', body)
  assert.equal(made.status, 201, JSON.stringify(made.body))
  assert.equal(made.body.user.username, 'frank')
  // A form post from another site cannot send JSON: sign-in refuses other content types.
  const form = await f.browser().request('POST', '/api/session', 'username=frank&password=x', { 'content-type': 'application/x-www-form-urlencoded' })
  assert.equal(form.status, 415)
})

test('idle timeout, absolute lifetime and the second-factor window end sessions (injected clock)', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('gus', 'technologist', PASSWORD)
  const b = f.browser()
  await b.signIn('gus', PASSWORD)
  f.advance(14 * 60_000)
  assert.equal((await b.request('GET', '/api/session')).status, 200, 'active within 15 min')
  f.advance(15 * 60_000 + 1)
  const idle = await b.request('GET', '/api/session')
  assert.equal(idle.status, 401)
  assert.equal(idle.body.error, 'session-ended')
  assert.match(idle.body.message, /without activity/)

  const c = f.browser()
  await c.signIn('gus', PASSWORD)
  let absolute
  let minutes = 0
  for (;;) {
    f.advance(10 * 60_000); minutes += 10
    absolute = await c.request('GET', '/api/session')
    if (absolute.status !== 200 || minutes > 13 * 60) break
  }
  assert.equal(absolute.status, 401)
  assert.equal(minutes, 12 * 60, 'active every 10 min, the session still ends after 12 h')
  assert.match(absolute.body.message, /maximum lifetime/)

  await f.addUser('hana', 'auditor', PASSWORD)
  const d = f.browser()
  await d.request('POST', '/api/session', { username: 'hana', password: PASSWORD })
  f.advance(5 * 60_000 + 1)
  assert.equal((await d.request('POST', '/api/session/totp-enrolment', {})).status, 401, 'the second factor is due within 5 min')
})

test('the throttle: repeated failures get 429 with Retry-After, and the user at another address is not locked out', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('ivan', 'technologist', PASSWORD)
  const attacker = f.browser('198.51.100.7')
  const statuses = []
  for (let i = 0; i < 8; i++) statuses.push((await attacker.request('POST', '/api/session', { username: 'ivan', password: `guess number ${i}!!` })).status)
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401])
  const locked = await attacker.request('POST', '/api/session', { username: 'ivan', password: PASSWORD })
  assert.equal(locked.status, 429, 'even the right password waits its turn')
  assert.ok(Number(locked.headers.get('retry-after')) >= 1)
  assert.equal((await f.browser('192.0.2.50').request('POST', '/api/session', { username: 'ivan', password: PASSWORD })).status, 200, 'the user elsewhere signs in')
  f.advance(16 * 60_000)
  assert.equal((await attacker.request('POST', '/api/session', { username: 'ivan', password: PASSWORD })).status, 200, 'every wait ends')
})

test('a session cookie replayed from another network is refused and ends the session', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('jo', 'technologist', PASSWORD)
  const b = f.browser('192.0.2.10')
  await b.signIn('jo', PASSWORD)
  const thief = f.browser('203.0.113.9'); thief.cookie = b.cookie; thief.csrf = b.csrf
  const stolen = await thief.request('GET', '/api/session')
  assert.equal(stolen.status, 401)
  assert.match(stolen.body.message, /another network address/)
  assert.equal((await b.request('GET', '/api/session')).status, 401, 'the owner is signed out too (the session was ended)')
})

test('disabling an account ends its sessions at once; a role change applies at the next request', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('kim', 'admin', PASSWORD)
  await f.addUser('lee', 'technologist', PASSWORD)
  const admin = f.browser()
  await admin.signIn('kim', PASSWORD)
  const lee = f.browser('192.0.2.77')
  await lee.signIn('lee', PASSWORD)
  assert.equal((await lee.request('GET', '/api/users')).status, 403, 'a technologist may not manage accounts')
  const role = await admin.request('POST', `/api/users/lee/role`, { role: 'auditor' })
  assert.equal(role.status, 200)
  assert.equal((await lee.request('POST', '/dicomweb/studies', 'x', { 'content-type': 'application/dicom' })).status, 403, 'an auditor may not store')
  const reset = await admin.request('POST', '/api/users/lee/password', { password: 'a brand new long phrase 88' })
  assert.equal(reset.status, 200)
  assert.equal(reset.body.sessionsEnded, 1, 'a password reset by an admin signs the account out here')
  assert.equal((await lee.request('GET', '/api/session')).status, 401)
  await lee.signIn('lee', 'a brand new long phrase 88')
  const self = await admin.request('POST', '/api/users/kim/disable', { reason: 'oops' })
  assert.equal(self.status, 400, 'an admin cannot disable themself')
  const off = await admin.request('POST', '/api/users/lee/disable', { reason: 'left the practice' })
  assert.equal(off.status, 200)
  assert.equal(off.body.user.disabled, true)
  const after = await lee.request('GET', '/api/session')
  assert.equal(after.status, 401)
  assert.equal((await f.browser().request('POST', '/api/session', { username: 'lee', password: PASSWORD })).status, 401)
  assert.equal((await admin.request('POST', '/api/users/lee/enable', { reason: 'back' })).status, 200)
  assert.equal((await f.browser().request('POST', '/api/session', { username: 'lee', password: 'a brand new long phrase 88' })).status, 200)
})

test('a disable written anywhere ends the person\'s sessions here as soon as its op is durable', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('pat', 'technologist', PASSWORD)
  const pat = f.browser()
  await pat.signIn('pat', PASSWORD)
  const id = f.people.directory.byUsername('pat')!.id
  assert.equal((await f.people.sessions.listOf(id)).length, 1)
  // As a disable arriving from another site does: through the log, not through this site's route.
  await f.people.accounts.disable('pat', 'left', { by: 'cli:other-site', actor: { userId: 'os:other' } })
  await f.people.close()
  assert.equal((await f.people.sessions.listOf(id)).length, 0, 'the session is gone from the list, not only refused at the next request')
  assert.equal((await pat.request('GET', '/api/session')).status, 401)
})

test('bad input: malformed JSON, oversized fields and bodies, unicode usernames, a weak password', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('mia', 'admin', PASSWORD)
  const b = f.browser()
  const broken = await b.request('POST', '/api/session', '{"username": "mia", ')
  assert.equal(broken.status, 400)
  assert.match(broken.body.message, /not JSON/)
  assert.equal((await b.request('POST', '/api/session', '[1,2]')).status, 400)
  assert.equal((await b.request('POST', '/api/session', { username: 'mia' })).status, 400)
  assert.equal((await b.request('POST', '/api/session', { username: 'mia', password: 42 })).status, 400)
  assert.equal((await b.request('POST', '/api/session', { username: 'x'.repeat(300), password: PASSWORD })).status, 400)
  const huge = await b.request('POST', '/api/session', JSON.stringify({ username: 'mia', password: 'p'.repeat(100_000) }))
  assert.equal(huge.status, 413)
  assert.equal((await b.request('POST', '/api/session', { username: 'mia\u0000', password: PASSWORD })).status, 401, 'an impossible username is just a failed sign-in')
  await b.signIn('mia', PASSWORD)
  const unicode = await b.request('POST', '/api/users', { username: 'Zoë.Ångström', displayName: 'Zoë Ångström', role: 'radiologist', password: PASSWORD })
  assert.equal(unicode.status, 201, JSON.stringify(unicode.body))
  const nfd = await f.browser().request('POST', '/api/session', { username: 'zoe\u0308.a\u030angstro\u0308m', password: PASSWORD })
  assert.equal(nfd.status, 200, 'the same name typed decomposed and in another case signs in')
  assert.equal((await b.request('POST', '/api/users', { username: 'zoë.ångström', role: 'admin', password: PASSWORD })).status, 400, 'a taken name in another case')
  assert.equal((await b.request('POST', '/api/users', { username: 'has space', role: 'admin', password: PASSWORD })).status, 400)
  const weak = await b.request('POST', '/api/users', { username: 'nina', role: 'referrer', password: 'password1234' })
  assert.equal(weak.status, 400)
  assert.equal(weak.body.error, 'password-policy')
  assert.ok(!JSON.stringify(weak.body).includes('password1234'), 'the refusal does not echo the password')
  assert.equal((await b.request('POST', '/api/users', { username: 'omar', role: 'wizard', password: PASSWORD })).status, 400)
  assert.equal((await b.request('POST', '/api/users/nobody/disable', { reason: 'x' })).status, 404)
})
