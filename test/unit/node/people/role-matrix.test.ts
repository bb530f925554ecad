/**
 * The role × route matrix (issue 14): every rule of ROUTE_RULES (node/people/route-policy.ts) is
 * driven — iterating the table, so a route added there cannot be missed — by every kind of caller:
 * a person of each role signed in with a session (second factor where due), a legacy API token
 * (the integration role), a token bound to an account of each role, and nobody. The outcome is
 * checked against EXPECTED, written out by hand here (not computed from ROLE_PERMISSIONS, which
 * is what is under test). "Denied" is the gate's refusal: 403 (401 for nobody); "allowed" is any
 * other answer (a 400 for the empty body each POST sends means the gate let it through).
 *
 * Also per study: a technologist sees only the studies this site registered (a second site, in
 * this process over the real mesh, registers another), a retrieval of the other is 404 until
 * break-glass opens it (audited 110113 with 110127); a referrer sees nothing; an auditor is
 * refused DICOMweb. And docs/access-control.md lists every route of the table.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { EVENT_ID, EVENT_TYPE, openAuditRecord } from '../../../../protocol/audit/index.ts'
import { Pacs } from '../../../../node/pacs/pacs.ts'
import { ROUTE_RULES, type RouteRule } from '../../../../node/people/route-policy.ts'
import type { PersonRole } from '../../../../node/people/roles.ts'
import { addUserTo, Browser, CLI_AUTHOR, frontOver, peopleFront, type Answer, type PeopleFront } from '../../../helpers/people-front.ts'
import { connectedTo, founder, ingest, join_, localStudies, waitFor } from '../../../helpers/mesh-harness.ts'
import { build, e, requiredElements, smallImage, UIDS } from '../helpers/dicom.ts'

const PASSWORD = 'a matrix of roles and routes 9'

/** The callers, in the order of each EXPECTED row. */
const CALLERS = [
  'admin', 'radiologist', 'technologist', 'referrer', 'auditor', // people, with a session
  'legacy-token', // an API token from before accounts: the integration role
  'token:admin', 'token:radiologist', 'token:technologist', 'token:referrer', 'token:auditor', 'token:integration',
  'anonymous'
] as const
type CallerName = typeof CALLERS[number]

/**
 * Y allowed (by the gate: the route may still answer 400 for a request that does not fit, e.g. TOTP
 * enrolment at sign-in is for a session waiting for its second factor — signed-in people enrol
 * with POST /api/me/totp), N refused 403, U refused 401. People here are fully signed in; MFA_STAGE below is for a session after the password only.
 * Columns: admin radiologist technologist referrer
 * auditor | legacy token | tokens of admin radiologist technologist referrer auditor integration |
 * anonymous.
 */
const EXPECTED: Record<string, string> = {
  'POST /api/session': 'YYYYY Y YYYYYY Y',
  'GET /api/session': 'YYYYY N NNNNNN U',
  'DELETE /api/session': 'YYYYY N NNNNNN U',
  'POST /api/session/second-factor': 'YYYYY N NNNNNN U',
  'POST /api/session/passkey-options': 'YYYYY N NNNNNN U',
  'POST /api/session/totp-enrolment': 'YYYYY N NNNNNN U',
  'GET /api/me/sessions': 'YYYYY N NNNNNN U',
  'DELETE /api/me/sessions/:session': 'YYYYY N NNNNNN U',
  'POST /api/me/password': 'YYYYY N NNNNNN U',
  'POST /api/me/totp': 'YYYYY N NNNNNN U',
  'POST /api/me/recovery-codes': 'YYYYY N NNNNNN U',
  'POST /api/me/passkeys/options': 'YYYYY N NNNNNN U',
  'POST /api/me/passkeys': 'YYYYY N NNNNNN U',
  'POST /api/break-glass': 'NYYNN N NNNNNN U',
  'GET /api/studies/:study/case': 'NYYYN Y NYYYNY U',
  'POST /api/studies/:study/case': 'NYNNN N NYNNNN U',
  'GET /api/users': 'YNNNN N YNNNNN U',
  'POST /api/users': 'YNNNN N YNNNNN U',
  'POST /api/users/:user/role': 'YNNNN N YNNNNN U',
  'POST /api/users/:user/password': 'YNNNN N YNNNNN U',
  'POST /api/users/:user/disable': 'YNNNN N YNNNNN U',
  'POST /api/users/:user/enable': 'YNNNN N YNNNNN U',
  'POST /api/users/:user/reset-mfa': 'YNNNN N YNNNNN U',
  'GET /api/users/:user/sessions': 'YNNNN N YNNNNN U',
  'DELETE /api/users/:user/sessions': 'YNNNN N YNNNNN U',
  'GET /api/audit': 'YNNNY N YNNNYN U',
  'GET /api/audit/export': 'YNNNY N YNNNYN U',
  'GET /api/status': 'YYYNY Y YYYNYY U',
  'POST /dicomweb/studies': 'NNYNN Y NNYNNY U',
  'POST /dicomweb/studies/:study': 'NNYNN Y NNYNNY U',
  'GET /dicomweb/studies': 'NYYYN Y NYYYNY U',
  'GET /dicomweb/series': 'NYYYN Y NYYYNY U',
  'GET /dicomweb/instances': 'NYYYN Y NYYYNY U',
  'GET /dicomweb/studies/:study': 'NYYYN Y NYYYNY U',
  'GET /dicomweb/studies/:study/*': 'NYYYN Y NYYYNY U',
  'GET /wado': 'NYYYN Y NYYYNY U',
  // The web viewer's static files (node/daemon/viewer-static.ts): sign-in starts there.
  'GET /': 'YYYYY Y YYYYYY Y',
  'GET /assets/*': 'YYYYY Y YYYYYY Y'
}

/**
 * A person who gave the password but not yet the second factor (accounts with MFA, no factor
 * enrolled yet): only sign-in and the second-factor step. Columns: admin radiologist technologist
 * referrer auditor.
 */
const MFA_STAGE: Record<string, string> = {
  'POST /api/session': 'YYYYY',
  'GET /api/session': 'YYYYY',
  'DELETE /api/session': 'YYYYY',
  'POST /api/session/second-factor': 'YYYYY',
  'POST /api/session/passkey-options': 'YYYYY',
  'POST /api/session/totp-enrolment': 'YYYYY',
  'GET /api/me/sessions': 'UUUUU',
  'DELETE /api/me/sessions/:session': 'UUUUU',
  'POST /api/me/password': 'UUUUU',
  'POST /api/me/totp': 'UUUUU',
  'POST /api/me/recovery-codes': 'UUUUU',
  'POST /api/me/passkeys/options': 'UUUUU',
  'POST /api/me/passkeys': 'UUUUU',
  'POST /api/break-glass': 'UUUUU',
  'GET /api/studies/:study/case': 'UUUUU',
  'POST /api/studies/:study/case': 'UUUUU',
  'GET /api/users': 'UUUUU',
  'POST /api/users': 'UUUUU',
  'POST /api/users/:user/role': 'UUUUU',
  'POST /api/users/:user/password': 'UUUUU',
  'POST /api/users/:user/disable': 'UUUUU',
  'POST /api/users/:user/enable': 'UUUUU',
  'POST /api/users/:user/reset-mfa': 'UUUUU',
  'GET /api/users/:user/sessions': 'UUUUU',
  'DELETE /api/users/:user/sessions': 'UUUUU',
  'GET /api/audit': 'UUUUU',
  'GET /api/audit/export': 'UUUUU',
  'GET /api/status': 'UUUUU',
  'POST /dicomweb/studies': 'UUUUU',
  'POST /dicomweb/studies/:study': 'UUUUU',
  'GET /dicomweb/studies': 'UUUUU',
  'GET /dicomweb/series': 'UUUUU',
  'GET /dicomweb/instances': 'UUUUU',
  'GET /dicomweb/studies/:study': 'UUUUU',
  'GET /dicomweb/studies/:study/*': 'UUUUU',
  'GET /wado': 'UUUUU',
  'GET /': 'YYYYY',
  'GET /assets/*': 'YYYYY'
}

const PERSON_ROLES_SIGNED_IN: readonly PersonRole[] = ['admin', 'radiologist', 'technologist', 'referrer', 'auditor']

/** The gate's refusals (node/people/gate.ts): a route handler's own 401/403 is not the gate's. */
const GATE_ERRORS = new Set(['unauthorized', 'forbidden', 'second-factor-required', 'csrf', 'session-ended'])

function concrete (rule: RouteRule, values: { user: string, study: string }): string {
  return rule.path
    .replace(':user', values.user)
    .replace(':study', values.study)
    .replace(':session', 'A'.repeat(43))
    .replace(/\*$/, 'series')
}

function verdict (answer: Answer): 'Y' | 'N' | 'U' {
  const gate = typeof answer.body === 'object' && answer.body !== null && GATE_ERRORS.has(answer.body.error)
  if (gate && answer.status === 403) return 'N'
  if (gate && answer.status === 401) return 'U'
  return 'Y'
}

test('every route of ROUTE_RULES with every role, a legacy token, a token of each role and nobody, against the literal matrix', async (t) => {
  const f = await peopleFront(t)
  const bytes = build()
  await f.pacs.ingest((async function * () { yield bytes })(), bytes.length)
  const targetId = await f.addUser('target', 'technologist', PASSWORD)
  assert.ok(targetId.length > 0)

  // People: one browser each, signed in again whenever a request ended its session.
  const people = new Map<PersonRole, Browser>()
  const signIn = async (role: PersonRole): Promise<Browser> => {
    f.advance(31_000) // a TOTP code is good once: the next sign-in uses the next step
    const b = people.get(role)!
    b.cookie = undefined; b.csrf = undefined
    const answer = await b.signIn(`p-${role}`, PASSWORD)
    assert.equal(answer.status, 200, `${role} signs in: ${JSON.stringify(answer.body)}`)
    assert.equal(answer.body.stage, 'full')
    return b
  }
  for (const role of PERSON_ROLES_SIGNED_IN) {
    await f.addUser(`p-${role}`, role, PASSWORD)
    people.set(role, f.browser(`192.0.2.${10 + people.size}`))
    await signIn(role)
  }
  // Tokens: one from before accounts, one bound to an account of each role.
  const tokens = new Map<CallerName, string>()
  tokens.set('legacy-token', (await f.tokens.create('legacy', f.now())).token)
  for (const role of ['admin', 'radiologist', 'technologist', 'referrer', 'auditor', 'integration'] as const) {
    const id = await f.addUser(`svc-${role}`, role)
    tokens.set(`token:${role}`, (await f.tokens.create(`svc-${role}`, f.now(), id)).token)
  }

  const seen = new Set<string>()
  const mismatches: string[] = []
  for (const rule of ROUTE_RULES) {
    const key = `${rule.method} ${rule.path}`
    seen.add(key)
    const row = EXPECTED[key]
    if (row === undefined) { mismatches.push(`${key}: no row in EXPECTED (a new route: write its expected row)`); continue }
    const expected = row.replace(/ /g, '')
    assert.equal(expected.length, CALLERS.length, `${key}: the row has one letter per caller`)
    const path = concrete(rule, { user: 'target', study: UIDS.study })
    const body = rule.method === 'POST' ? {} : undefined
    for (const [i, caller] of CALLERS.entries()) {
      let answer: Answer
      if (caller === 'anonymous') {
        answer = await f.browser('198.51.100.20').request(rule.method, path, body)
      } else if (tokens.has(caller)) {
        answer = await f.browser('198.51.100.21').request(rule.method, path, body, { authorization: `Bearer ${tokens.get(caller)!}` })
      } else {
        const role = caller as PersonRole
        const b = people.get(role)!
        answer = await b.request(rule.method, path, body)
        if ((await b.request('GET', '/api/session')).status !== 200) await signIn(role) // e.g. it signed out
      }
      const got = verdict(answer)
      if (got !== expected[i]) mismatches.push(`${key} as ${caller}: expected ${expected[i]}, got ${got} (${answer.status} ${JSON.stringify(answer.body).slice(0, 160)})`)
    }
  }
  assert.deepEqual(mismatches, [])
  assert.deepEqual([...Object.keys(EXPECTED)].filter((k) => !seen.has(k)), [], 'EXPECTED lists no route the table lacks')
})

test('a session after the password only (second factor due) reaches the sign-in routes and nothing else, for every role', async (t) => {
  const f = await peopleFront(t)
  const bytes = build()
  await f.pacs.ingest((async function * () { yield bytes })(), bytes.length)
  await f.addUser('target', 'technologist', PASSWORD)
  const halfway = new Map<PersonRole, Browser>()
  const passwordOnly = async (role: PersonRole): Promise<void> => {
    const b = halfway.get(role)!
    b.cookie = undefined; b.csrf = undefined
    const answer = await b.request('POST', '/api/session', { username: `m-${role}`, password: PASSWORD })
    assert.equal(answer.status, 200)
    assert.equal(answer.body.stage, 'mfa', `${role} (MFA on) waits for a second factor`)
  }
  for (const role of PERSON_ROLES_SIGNED_IN) {
    // MFA is on for every role here (mandatory for some, chosen for the others), none enrolled yet.
    await f.people.accounts.add({ username: `m-${role}`, role, password: PASSWORD, mfa: true }, CLI_AUTHOR)
    halfway.set(role, f.browser(`192.0.2.${40 + halfway.size}`))
    await passwordOnly(role)
  }
  const mismatches: string[] = []
  for (const rule of ROUTE_RULES) {
    const key = `${rule.method} ${rule.path}`
    const row = MFA_STAGE[key]
    if (row === undefined) { mismatches.push(`${key}: no row in MFA_STAGE (a new route: write its expected row)`); continue }
    const path = concrete(rule, { user: 'target', study: UIDS.study })
    for (const [i, role] of PERSON_ROLES_SIGNED_IN.entries()) {
      const b = halfway.get(role)!
      const answer = await b.request(rule.method, path, rule.method === 'POST' ? {} : undefined)
      if ((await b.request('GET', '/api/session')).status !== 200) await passwordOnly(role)
      const got = verdict(answer)
      if (got !== row[i]) mismatches.push(`${key} as ${role} after the password only: expected ${row[i]}, got ${got} (${answer.status} ${JSON.stringify(answer.body).slice(0, 160)})`)
    }
  }
  assert.deepEqual(mismatches, [])
})

test('a route not in the table is 404 to a signed-in person and 401 to nobody', async (t) => {
  const f = await peopleFront(t)
  await f.addUser('tess', 'technologist', PASSWORD)
  const b = f.browser()
  await b.signIn('tess', PASSWORD)
  assert.equal((await b.request('GET', '/api/not-a-route')).status, 404)
  assert.equal((await f.browser().request('GET', '/api/not-a-route')).status, 401)
})

function instance (n: number): Uint8Array {
  const sop = `1.2.826.0.1.3680043.10.14.${n}.1`
  const elements = [
    ...requiredElements().filter((x) => x.tag !== 0x0008_0018 && x.tag !== 0x0020_000d && x.tag !== 0x0020_000e),
    e(0x0008_0018, 'UI', sop), e(0x0020_000d, 'UI', `1.2.826.0.1.3680043.10.14.${n}`), e(0x0020_000e, 'UI', `1.2.826.0.1.3680043.10.14.${n}.2`),
    ...smallImage()
  ]
  return build({ sopInstanceUid: sop, elements })
}

/** The node's HTTP front over a running harness site's archive (as node.ts builds it). */
async function frontOn (t: Parameters<typeof peopleFront>[0], archive: NonNullable<Awaited<ReturnType<typeof founder>>['archive']>): Promise<Pick<PeopleFront, 'app' | 'people' | 'pacs' | 'browser' | 'addUser'>> {
  const { app, pacs, people } = await frontOver(archive)
  t.after(async () => { await pacs.drain(); await archive.auditor.flush() })
  return {
    app, people, pacs,
    browser: (address = '192.0.2.10') => new Browser(app, address, Date.now),
    addUser: async (username, role, password) => await addUserTo(people, username, role, password)
  }
}

test('per study: a technologist sees its own site\'s studies, opens another by break-glass (110113/110127); a referrer sees none; an auditor no DICOMweb', async (t) => {
  const a = await founder(t, 'A')
  const b = await join_(t, a, 'B')
  await waitFor('A and B connected', () => connectedTo(a, b))
  assert.equal((await ingest(a, instance(1))).status, 'imported')
  assert.equal((await ingest(b, instance(2))).status, 'imported')
  await waitFor('A holds both studies', () => localStudies(a) === 2 && a.mesh!.transfers()?.wanted === 0)
  const mine = '1.2.826.0.1.3680043.10.14.1'
  const theirs = '1.2.826.0.1.3680043.10.14.2'
  const archive = a.archive!
  // B's study enters A's catalogue once its instance records are written there.
  await waitFor('A\'s catalogue holds both studies', async () => (await Pacs.load(archive)).studyCount === 2)
  const f = await frontOn(t, archive)
  assert.equal(f.pacs.studyCount, 2)
  const state = (await archive.log()).oplog.state
  const registrars = [...state.studies.values()].map((s) => s.registeredBy).sort()
  assert.deepEqual(registrars, [a.nodeId, b.nodeId].sort(), 'one study registered by each site')

  for (const [name, role] of [['tech', 'technologist'], ['rad', 'radiologist'], ['ref', 'referrer'], ['aud', 'auditor']] as const) await f.addUser(name, role, PASSWORD)
  const studiesSeen = async (browser: Browser): Promise<string[]> => {
    const r = await browser.request('GET', '/dicomweb/studies')
    assert.ok(r.status === 200 || r.status === 204, `QIDO: ${r.status}`)
    return r.status === 204 ? [] : (r.body as Array<Record<string, { Value: string[] }>>).map((s) => s['0020000D']!.Value[0]!).sort()
  }

  const rad = f.browser('192.0.2.30')
  assert.equal((await rad.signIn('rad', PASSWORD)).status, 200)
  assert.deepEqual(await studiesSeen(rad), [mine, theirs].sort(), 'a radiologist sees every study of the org held here')

  const tech = f.browser('192.0.2.31')
  assert.equal((await tech.signIn('tech', PASSWORD)).status, 200)
  assert.deepEqual(await studiesSeen(tech), [mine], 'a technologist sees the study this site registered only')
  assert.equal((await tech.request('GET', `/dicomweb/studies/${mine}/metadata`)).status, 200)
  assert.equal((await tech.request('GET', `/dicomweb/studies/${theirs}/metadata`)).status, 404, 'the other site\'s study does not exist for them')
  assert.equal((await tech.request('GET', `/dicomweb/studies/${theirs}/series`)).status, 404)
  assert.equal((await tech.request('GET', `/wado?requestType=WADO&studyUID=${theirs}&seriesUID=${theirs}.2&objectUID=${theirs}.1&contentType=application/dicom`)).status, 404)
  const opened = await tech.request('POST', '/api/break-glass', { study: theirs, reason: 'patient transferred in, prior CT needed now' })
  assert.equal(opened.status, 200, JSON.stringify(opened.body))
  assert.equal((await tech.request('GET', `/dicomweb/studies/${theirs}/metadata`)).status, 200, 'readable after break-glass')
  assert.equal((await tech.request('GET', `/wado?requestType=WADO&studyUID=${theirs}&seriesUID=${theirs}.2&objectUID=${theirs}.1&contentType=application/dicom`)).status, 200)
  assert.deepEqual(await studiesSeen(tech), [mine, theirs].sort())

  await archive.auditor.flush()
  const log = await archive.log()
  const key = archive.keyring.epochKey(archive.keyring.currentEpoch)
  const alerts = [...log.oplog.state.audit.values()].flat().map((id) => log.oplog.get(id)!).filter((op) => op.type === 'audit.event')
    .map((op) => { try { return openAuditRecord(archive.provider, key, { org: archive.keyring.orgId, author: op.author }, (op.body as { sealed: Uint8Array }).sealed) } catch { return undefined } })
    .filter((r) => r !== undefined && r.eventId === EVENT_ID.securityAlert && r.eventTypeCodes?.includes(EVENT_TYPE.emergencyOverrideStarted) === true)
  assert.equal(alerts.length, 1, 'break-glass is audited as 110113 with 110127')

  const ref = f.browser('192.0.2.32')
  assert.equal((await ref.signIn('ref', PASSWORD)).status, 200)
  assert.deepEqual(await studiesSeen(ref), [], 'a referrer sees no study (nothing is shared with them)')
  assert.equal((await ref.request('GET', `/dicomweb/studies/${mine}/metadata`)).status, 404)

  const aud = f.browser('192.0.2.33')
  assert.equal((await aud.signIn('aud', PASSWORD)).status, 200)
  for (const path of ['/dicomweb/studies', `/dicomweb/studies/${mine}/metadata`, `/wado?requestType=WADO&studyUID=${mine}&seriesUID=${mine}.2&objectUID=${mine}.1`]) {
    assert.equal((await aud.request('GET', path)).status, 403, `an auditor may not ${path}`)
  }
})

test('docs/access-control.md lists every route of the table', async () => {
  const doc = await readFile(new URL('../../../../docs/access-control.md', import.meta.url), 'utf8')
  const missing = ROUTE_RULES.map((r) => `${r.method} ${r.path}`).filter((k) => !doc.includes(`\`${k}\``))
  assert.deepEqual(missing, [], 'each route appears in the doc as `METHOD path`')
})
