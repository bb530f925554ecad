/**
 * A passkey as the second factor over the node's HTTP front: registered by a signed-in person
 * (POST /api/me/passkeys/options, /api/me/passkeys), then used at the next sign-in
 * (/api/session/passkey-options, /api/session/second-factor) — with a software authenticator
 * answering as a browser would. A cloned authenticator replaying its counter is refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ORIGIN, peopleFront } from '../../../helpers/people-front.ts'
import { SoftAuthenticator } from '../../../helpers/soft-authenticator.ts'

const PASSWORD = 'a long and unusual phrase 42'

test('a radiologist registers a passkey and signs in with it; its counter is kept; a clone is refused', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('rad', 'radiologist', PASSWORD)
  const b = f.browser()
  assert.equal((await b.signIn('rad', PASSWORD)).status, 200)
  const key = new SoftAuthenticator({ origin: ORIGIN })
  const options = await b.request('POST', '/api/me/passkeys/options', {})
  assert.equal(options.status, 200)
  const response = key.create(options.body)
  assert.equal((await b.request('POST', '/api/me/passkeys', { response, name: 'office key', password: 'not the password 123' })).status, 401, 'adding a way in asks for the password again')
  const again = await b.request('POST', '/api/me/passkeys/options', {})
  const added = await b.request('POST', '/api/me/passkeys', { response: key.create(again.body), name: 'office key', password: PASSWORD })
  assert.equal(added.status, 200, JSON.stringify(added.body))
  assert.equal(added.body.user.secondFactors.passkeys, 1)
  const clone = key.clone()

  const next = f.browser()
  const first = await next.request('POST', '/api/session', { username: 'rad', password: PASSWORD })
  assert.deepEqual(first.body.secondFactor.methods, ['totp', 'passkey', 'recovery'])
  const ask = await next.request('POST', '/api/session/passkey-options', {})
  const done = await next.request('POST', '/api/session/second-factor', { method: 'passkey', response: key.get(ask.body) })
  assert.equal(done.status, 200, JSON.stringify(done.body))
  assert.equal(done.body.stage, 'full')
  assert.ok(f.people.directory.byUsername('rad')!.record.passkeys[0]!.counter > 0, 'the new counter is in the record')

  const thief = f.browser('192.0.2.99')
  await thief.request('POST', '/api/session', { username: 'rad', password: PASSWORD })
  const ask2 = await thief.request('POST', '/api/session/passkey-options', {})
  const cloned = await thief.request('POST', '/api/session/second-factor', { method: 'passkey', response: clone.get(ask2.body) })
  assert.equal(cloned.status, 400)
  assert.equal(cloned.body.error, 'passkey-refused')
  assert.match(cloned.body.message, /counter/)
  const garbage = await thief.request('POST', '/api/session/second-factor', { method: 'passkey', response: { id: 'x' } })
  assert.equal(garbage.status, 400, 'a malformed answer is a clear 400, not a crash')
})
