/**
 * GET /api/session (and the sign-in answers) name the session's limits and when it ends, for the
 * viewer's idle-logoff warning: idleMs and absoluteMs from the site's policy, expires.idle from
 * the last recorded request, expires.absolute from the sign-in.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_SESSION_POLICY, TOUCH_INTERVAL_MS } from '../../../../node/people/sessions.ts'
import { peopleFront } from '../../../helpers/people-front.ts'

test('the session answer carries its limits and expiry times, which move with requests', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('nurse.one', 'technologist', 'lantern quartz meadow 7')
  const b = f.browser('192.0.2.50')
  const signedAt = f.now()
  const signed = await b.signIn('nurse.one', 'lantern quartz meadow 7')
  assert.equal(signed.status, 200)
  const { idleMs, absoluteMs } = DEFAULT_SESSION_POLICY
  assert.deepEqual(signed.body.limits, { idleMs, absoluteMs })
  assert.deepEqual(signed.body.expires, { idle: new Date(signedAt + idleMs).toISOString(), absolute: new Date(signedAt + absoluteMs).toISOString() })
  f.advance(TOUCH_INTERVAL_MS + 1000)
  const later = await b.request('GET', '/api/session')
  assert.equal(later.status, 200)
  assert.equal(later.body.expires.idle, new Date(f.now() + idleMs).toISOString(), 'a request moves the idle end')
  assert.equal(later.body.expires.absolute, new Date(signedAt + absoluteMs).toISOString(), 'the absolute end stays')
  f.advance(idleMs)
  assert.equal((await b.request('GET', '/api/session')).status, 401, 'at expires.idle the session is gone')
})
