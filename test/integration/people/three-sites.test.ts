/**
 * People's accounts at three real sites (each a `peerpacs start` process; B and C joined with
 * invites from A), signing in over real HTTP with cookies and CSRF tokens (issue 14):
 *
 * - accounts added at A (a technologist, who needs no second factor, and a radiologist, who
 *   enrols TOTP at the first sign-in) sign in at C while A is stopped: C checks them offline
 *   from its own copy of the log;
 * - an admin signed in at B (password + TOTP) disables both; once the ops arrive, C refuses their
 *   sign-ins and ends their open sessions there on the next request, and so does A when it comes
 *   back: the session opened at A before it stopped ends, while another person's survives;
 * - a password changed at A and, concurrently, at C (stopped, by its operator) settles on one
 *   at every site, the greater by (causal depth, op id) as docs/protocol.md "Users" says: the
 *   winner signs in everywhere, the loser nowhere.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HttpBrowser } from '../../helpers/http-browser.ts'
import { founder, joinSite, status, waitFor, type MeshNode } from '../../helpers/mesh.ts'
import { offlineInspect, offlinePasswd } from '../../helpers/offline-accounts.ts'
import { addAccount, waitForAccounts } from '../../helpers/people-mesh.ts'

const PW = {
  tess: 'violet meadow lantern 41',
  tom: 'granite harbour pepper 73',
  rita: 'saffron glacier ukulele 58',
  ada: 'cobalt orchard whistle 96',
  tomAtA: 'copper willow anchor 205',
  tomAtC: 'amber thistle comet 618'
}

async function signedIn (url: string, username: string, password: string): Promise<HttpBrowser> {
  const tab = new HttpBrowser(url)
  const r = await tab.signIn(username, password)
  assert.equal(r.status, 200, `${username} at ${url}: ${JSON.stringify(r.body)}`)
  assert.equal(r.body.stage, 'full', `${username} at ${url} is fully signed in`)
  return tab
}

/** The status of a fresh sign-in (password only; a second factor is not attempted). */
async function passwordAnswer (node: MeshNode, username: string, password: string): Promise<number> {
  return (await new HttpBrowser(node.process.url).request('POST', '/api/session', { username, password })).status
}

async function sameHeads (nodes: MeshNode[]): Promise<void> {
  await waitFor(`the same log heads at ${nodes.map((n) => n.name).join(', ')}`, async () => {
    const heads = await Promise.all(nodes.map(async (n) => JSON.stringify((await status(n)).mesh.log.heads)))
    return heads.every((h) => h === heads[0])
  }, 120_000)
}

test('accounts at three sites: sign-in at C while A is offline; disabled at B, refused at C and A with their sessions ended; concurrent password changes settle on one', async (t) => {
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  const c = await joinSite(t, a, 'C')
  for (const node of [a, b, c]) {
    await waitFor(`${node.name} connected to both others`, async () => (await status(node)).mesh.peers.filter((p: { connected: boolean }) => p.connected).length === 2)
  }

  // Accounts added at A, by its operator.
  await addAccount(a, { username: 'tess', role: 'technologist', password: PW.tess, displayName: 'Tess Technologist' })
  await addAccount(a, { username: 'tom', role: 'technologist', password: PW.tom })
  await addAccount(a, { username: 'rita', role: 'radiologist', password: PW.rita })
  await addAccount(a, { username: 'ada', role: 'admin', password: PW.ada })
  const everyone = ['tess', 'tom', 'rita', 'ada']
  for (const node of [b, c]) await waitForAccounts(node, everyone)

  // Sessions opened at A before it goes offline.
  const tessAtA = await signedIn(a.process.url, 'tess', PW.tess)
  const tomAtA = await signedIn(a.process.url, 'tom', PW.tom)
  assert.equal((await tessAtA.request('GET', '/api/session')).status, 200)
  assert.equal(await a.process.stop('SIGTERM'), 0)

  // At C, with A offline: the technologist with a password, the radiologist enrolling TOTP.
  const tessAtC = await signedIn(c.process.url, 'tess', PW.tess)
  const me = await tessAtC.request('GET', '/api/session')
  assert.equal(me.body.user.username, 'tess')
  assert.equal(me.body.user.role, 'technologist')
  const ritaAtC = new HttpBrowser(c.process.url)
  const first = await ritaAtC.request('POST', '/api/session', { username: 'rita', password: PW.rita })
  assert.equal(first.status, 200)
  assert.equal(first.body.stage, 'mfa', 'a radiologist needs a second factor')
  const rita = await ritaAtC.signIn('rita', PW.rita)
  assert.equal(rita.status, 200, JSON.stringify(rita.body))
  assert.equal(rita.body.stage, 'full')
  assert.equal(ritaAtC.recoveryCodes.length, 10, 'recovery codes shown at enrolment')
  assert.equal((await ritaAtC.request('GET', '/api/users')).status, 403, 'a radiologist is no admin')

  // An admin signs in at B (TOTP enrolled there) and disables both.
  const adaAtB = await signedIn(b.process.url, 'ada', PW.ada)
  for (const username of ['tess', 'rita']) {
    const r = await adaAtB.request('POST', `/api/users/${username}/disable`, { reason: 'left the practice' })
    assert.equal(r.status, 200, `disable ${username} at B: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.user.disabled, true)
  }
  const missingCsrf = new HttpBrowser(b.process.url)
  missingCsrf.cookie = adaAtB.cookie
  assert.equal((await missingCsrf.request('POST', '/api/users/tom/disable', { reason: 'no csrf' })).status, 403, 'a state change without the CSRF token is refused')

  // At C once the disables arrive: open sessions end on their next request, sign-ins are refused.
  await waitForAccounts(c, ['tess', 'rita'], (x) => x.disabled)
  assert.equal((await tessAtC.request('GET', '/api/session')).status, 401, 'tess\'s session at C ended')
  assert.equal((await ritaAtC.request('GET', '/api/session')).status, 401, 'rita\'s session at C ended')
  assert.equal(await passwordAnswer(c, 'tess', PW.tess), 401)
  assert.equal(await passwordAnswer(c, 'rita', PW.rita), 401)
  assert.equal((await (await signedIn(c.process.url, 'tom', PW.tom)).request('GET', '/api/session')).status, 200, 'tom is not disabled')

  // A comes back: the disables arrive, tess's session opened before A stopped ends; tom's lives.
  await a.restart()
  // A listens on a new port after the restart; a browser's cookies are per host, not per port.
  tessAtA.url = tomAtA.url = a.process.url
  await waitForAccounts(a, ['tess', 'rita'], (x) => x.disabled)
  assert.equal((await tessAtA.request('GET', '/api/session')).status, 401, 'tess\'s session at A, opened before it stopped, ended')
  assert.equal((await tessAtA.request('GET', '/api/session')).status, 401, 'and stays ended')
  assert.equal((await tomAtA.request('GET', '/api/session')).status, 200, 'tom\'s session at A survived the restart')
  assert.equal(await passwordAnswer(a, 'tess', PW.tess), 401)
  assert.equal(await passwordAnswer(a, 'rita', PW.rita), 401)

  // Concurrent password changes: tom at A (over HTTP), and at C while it is stopped (offline).
  await waitFor('C connected to A again', async () => (await status(c)).mesh.peers.filter((p: { connected: boolean }) => p.connected).length === 2)
  await sameHeads([a, b, c])
  assert.equal(await c.process.stop('SIGTERM'), 0)
  const changed = await tomAtA.request('POST', '/api/me/password', { current: PW.tom, next: PW.tomAtA })
  assert.equal(changed.status, 200, JSON.stringify(changed.body))
  const atC = await offlinePasswd(c.data, 'tom', PW.tomAtC)
  await c.restart()
  await sameHeads([a, b, c])

  const answers: Record<string, { atA: number, atC: number }> = {}
  for (const node of [a, b, c]) {
    answers[node.name] = { atA: await passwordAnswer(node, 'tom', PW.tomAtA), atC: await passwordAnswer(node, 'tom', PW.tomAtC) }
  }
  assert.equal(await passwordAnswer(b, 'tom', PW.tom), 401, 'the old password is refused')

  // The rule, checked from the ops themselves: the greater by (depth, id) of the two updates.
  assert.equal(await c.process.stop('SIGTERM'), 0)
  const inspected = await offlineInspect(c.data, 'tom')
  const updates = inspected.ops.filter((o) => o.type === 'user.update')
  assert.equal(updates.length, 2, `two concurrent password changes: ${JSON.stringify(inspected.ops)}`)
  assert.ok(updates.some((u) => u.op === atC.op), 'one is C\'s')
  assert.ok(updates.every((u) => !updates.some((v) => u.after.includes(v.op))), 'the two changes are concurrent: neither saw the other')
  const winner = [...updates].sort((x, y) => (y.depth - x.depth) || (y.op > x.op ? 1 : -1))[0]!
  assert.equal(inspected.stateRecord.op, winner.op, 'the log\'s state names the greater by (depth, id)')
  const winnerIsC = winner.op === atC.op
  const expected = winnerIsC ? { atA: 401, atC: 200 } : { atA: 200, atC: 401 }
  for (const name of ['A', 'B', 'C']) assert.deepEqual(answers[name], expected, `at ${name}: the ${winnerIsC ? 'C' : 'A'} password signs in, the other is refused (${JSON.stringify(updates)})`)
  t.diagnostic(`password race: ${JSON.stringify(updates)}; winner ${winnerIsC ? 'C' : 'A'}`)
})
