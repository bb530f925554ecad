/**
 * Emergency access over HTTP (node/people/break-glass.ts): it needs a reason and a study that is
 * here, it is for roles with the break-glass permission only, it is audited as a 110113 Security
 * Alert with 110127, it shows in GET /api/status, and it ends by itself after an hour.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EVENT_ID, EVENT_TYPE, openAuditRecord } from '../../../../protocol/audit/index.ts'
import { peopleFront } from '../../../helpers/people-front.ts'
import { build, UIDS } from '../helpers/dicom.ts'

const PASSWORD = 'an emergency phrase of length'

test('break glass: reasoned, audited as 110113/110127, listed in status, time-limited; refused without the permission', async (t) => {
  const f = await peopleFront(t)
  const bytes = build()
  await f.pacs.ingest((async function * () { yield bytes })(), bytes.length)
  await f.addUser('tech', 'technologist', PASSWORD)
  await f.addUser('ref', 'referrer', PASSWORD)
  await f.addUser('boss', 'admin', PASSWORD)
  const tech = f.browser()
  await tech.signIn('tech', PASSWORD)
  assert.equal((await tech.request('POST', '/api/break-glass', { study: UIDS.study, reason: 'short' })).status, 400, 'a reason of a few words is required')
  assert.equal((await tech.request('POST', '/api/break-glass', { study: '1.2.3.4.5', reason: 'patient in resus, prior needed' })).status, 404)
  const opened = await tech.request('POST', '/api/break-glass', { study: UIDS.study, reason: 'patient in resus, prior needed' })
  assert.equal(opened.status, 200, JSON.stringify(opened.body))

  const ref = f.browser()
  await ref.signIn('ref', PASSWORD)
  assert.equal((await ref.request('POST', '/api/break-glass', { study: UIDS.study, reason: 'I would like to see it please' })).status, 403, 'a referrer has no emergency access')

  const boss = f.browser()
  await boss.signIn('boss', PASSWORD)
  const status = await boss.request('GET', '/api/status')
  assert.equal(status.body.people.breakGlass.length, 1)
  assert.equal(status.body.people.breakGlass[0].username, 'tech')
  assert.equal(status.body.people.breakGlass[0].reason, 'patient in resus, prior needed')

  await f.archive.auditor.flush()
  const log = await f.archive.log()
  const key = f.archive.keyring.epochKey(f.archive.keyring.currentEpoch)
  const alerts = [...log.oplog.state.audit.values()].flat().map((id) => log.oplog.get(id)!).filter((op) => op.type === 'audit.event')
    .map((op) => openAuditRecord(f.archive.provider, key, { org: f.archive.keyring.orgId, author: op.author }, (op.body as { sealed: Uint8Array }).sealed))
    .filter((r) => r.eventId === EVENT_ID.securityAlert && (r.eventTypeCodes ?? []).includes(EVENT_TYPE.emergencyOverrideStarted))
  assert.equal(alerts.length, 1, 'one emergency-override alert')

  f.advance(61 * 60_000)
  await boss.request('GET', '/api/session')
  assert.equal((await boss.request('GET', '/api/status')).status, 401, 'the admin idled out meanwhile')
  await boss.signIn('boss', PASSWORD)
  assert.equal((await boss.request('GET', '/api/status')).body.people.breakGlass.length, 0, 'it ended by itself')
})
