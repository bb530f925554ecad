/**
 * GET /api/audit and /api/audit/export (node/audit/audit-routes.ts) through the node's real HTTP
 * front in process (the gate, the people routes, a memory archive): the criteria of the CLI
 * (dates, patient, study, user, event), newest first, paging that stays on the same records
 * while new ones arrive (`asOf`), every read itself audited (110101 Audit Log Used naming the
 * reader), a bad parameter answered 400 naming it, and a technologist refused (403).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EVENT_ID, EVENT_TYPE, fromJsonLine, instancesAccessedEvent, nodeSource } from '../../../../protocol/audit/index.ts'
import { personUser } from '../../../../node/audit/actors.ts'
import { readAuditTrail } from '../../../../node/audit/audit-trail.ts'
import { peopleFront, type PeopleFront } from '../../../helpers/people-front.ts'

const PASSWORD = 'lantern quartz meadow 7'
const DAY = 24 * 3_600_000

/** Writes one 110103 Instances Accessed by `username` of a study of `patient`, at `time`. */
function accessed (f: PeopleFront, time: number, username: string, patient: string, study: string): void {
  f.archive.audit.emit(instancesAccessedEvent({
    time, source: nodeSource(f.archive.keyring.nodeId), action: 'R',
    user: personUser({ id: 'f'.repeat(32), username, displayName: username }, '192.0.2.99'),
    studies: [{ studyUid: study, patientId: patient, patientName: 'DOE^JANE' }]
  }))
}

async function setUp (t: Parameters<typeof peopleFront>[0]): Promise<{ f: PeopleFront, auditor: ReturnType<PeopleFront['browser']>, base: number }> {
  const f = await peopleFront(t)
  await f.addUser('checker', 'auditor', PASSWORD)
  const auditor = f.browser('192.0.2.20')
  const signed = await auditor.signIn('checker', PASSWORD)
  assert.equal(signed.status, 200, JSON.stringify(signed.body))
  const base = Date.parse('2025-06-10T12:00:00Z')
  for (let i = 0; i < 7; i++) accessed(f, base + i * DAY, i % 2 === 0 ? 'rad.even' : 'rad.odd', `PAT-${i % 3}`, `1.2.3.${i}`)
  await f.archive.auditor.flush()
  return { f, auditor, base }
}

test('filters by date, patient, study, user and event; newest first; each read is audited as 110101 naming the reader', async (t) => {
  const { f, auditor, base } = await setUp(t)
  const all = await auditor.request('GET', '/api/audit?event=110103')
  assert.equal(all.status, 200, JSON.stringify(all.body))
  assert.equal(all.body.matched, 7)
  const times = all.body.records.map((r: any) => Date.parse(r.time))
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first')
  const first = all.body.records[0]
  assert.equal(first.eventId, EVENT_ID.instancesAccessed)
  assert.equal(first.event, 'DICOM Instances Accessed')
  assert.equal(first.outcomeName, 'success')
  assert.deepEqual(first.participants.find((p: any) => p.requestor), { userId: 'rad.even', altUserId: `user:${'f'.repeat(32)}`, userName: 'rad.even', requestor: true, address: '192.0.2.99' })
  assert.ok(first.objects.some((o: any) => o.patient === true && o.id === 'PAT-0'))
  assert.ok(first.objects.some((o: any) => o.study === true && o.id === '1.2.3.6'))

  const ids = async (query: string): Promise<string[]> => {
    const a = await auditor.request('GET', `/api/audit?event=110103&${query}`)
    assert.equal(a.status, 200, `${query}: ${JSON.stringify(a.body)}`)
    return a.body.records.map((r: any) => r.objects.find((o: any) => o.study === true).id)
  }
  assert.deepEqual(await ids('patient=PAT-1'), ['1.2.3.4', '1.2.3.1'])
  assert.deepEqual(await ids('study=1.2.3.5'), ['1.2.3.5'])
  assert.deepEqual(await ids('user=rad.odd'), ['1.2.3.5', '1.2.3.3', '1.2.3.1'])
  // A bare date as `until` is the end of that day (UTC), as at the command line.
  const day = (n: number): string => new Date(base + n * DAY).toISOString().slice(0, 10)
  assert.deepEqual(await ids(`since=${day(2)}&until=${day(4)}`), ['1.2.3.4', '1.2.3.3', '1.2.3.2'])
  assert.deepEqual(await ids('user=nobody'), [])
  // Several events at once; the auditor's own sign-in is a 110114 under their username.
  const signIns = await auditor.request('GET', '/api/audit?event=110114,110101&user=checker')
  assert.ok(signIns.body.records.some((r: any) => r.eventId === EVENT_ID.userAuthentication && r.outcome === 0))

  // Each read above wrote one 110101 Audit Log Used naming the auditor and their address.
  await f.archive.auditor.flush()
  const uses = (await readAuditTrail(f.archive)).map((e) => e.record!).filter((r) => r.eventId === EVENT_ID.auditLogUsed)
  assert.equal(uses.length, 7, 'one per read: all, five criteria, the sign-ins')
  for (const r of uses) {
    const reader = r.participants.find((p) => p.requestor)!
    assert.equal(reader.userId, 'checker')
    assert.equal(reader.networkAccessPointId, '192.0.2.20')
  }
  f.advance(1000)
  const own = await auditor.request('GET', '/api/audit?event=110101')
  assert.equal(own.body.matched, 7, 'the uses are in the trail the auditor searches (this one is after its asOf)')
})

test('paging by limit and offset stays on the same records with asOf, while new records arrive', async (t) => {
  const { f, auditor } = await setUp(t)
  const page1 = await auditor.request('GET', '/api/audit?limit=3')
  assert.equal(page1.status, 200)
  assert.equal(page1.body.records.length, 3)
  assert.equal(page1.body.limit, 3)
  const total = page1.body.matched as number
  assert.ok(total >= 8, `the 7 accesses and the sign-in: ${total}`)
  // New records arrive (this read's 110101, another access) between the pages.
  f.advance(1000)
  accessed(f, f.now(), 'rad.late', 'PAT-9', '1.2.3.99')
  await f.archive.auditor.flush()
  const seen: string[] = page1.body.records.map((r: any) => r.opId)
  for (let offset = 3; offset < total; offset += 3) {
    const page = await auditor.request('GET', `/api/audit?limit=3&offset=${offset}&asOf=${encodeURIComponent(page1.body.asOf)}`)
    assert.equal(page.status, 200, JSON.stringify(page.body))
    assert.equal(page.body.matched, total, 'the same records, whatever arrived since')
    seen.push(...page.body.records.map((r: any) => r.opId))
  }
  assert.equal(seen.length, total)
  assert.equal(new Set(seen).size, total, 'no record on two pages, none left out')
  f.advance(1000)
  const fresh = await auditor.request('GET', '/api/audit?limit=3')
  assert.ok(fresh.body.matched > total, 'without asOf, the newest records are there')
  assert.equal(fresh.body.records[0].eventId, EVENT_ID.auditLogUsed, 'the newest: the last read of the trail')
})

test('export as JSON lines and DICOM audit XML, with the same criteria; audited too', async (t) => {
  const { f, auditor } = await setUp(t)
  const jsonl = await auditor.request('GET', '/api/audit/export?format=jsonl&event=110103&patient=PAT-0')
  assert.equal(jsonl.status, 200)
  assert.match(jsonl.headers.get('content-type') ?? '', /application\/x-ndjson/)
  assert.match(jsonl.headers.get('content-disposition') ?? '', /attachment; filename="audit-.*\.jsonl"/)
  const lines = String(jsonl.body).trim().split('\n').map(fromJsonLine)
  assert.deepEqual(lines.map((l) => l.record.objects.find((o) => o.roleCode === 1)!.id), ['PAT-0', 'PAT-0', 'PAT-0'])
  const xml = await auditor.request('GET', '/api/audit/export?format=dicom-xml&event=110103')
  assert.equal(xml.status, 200)
  assert.equal((String(xml.body).match(/<AuditMessage[ >]/g) ?? []).length, 7)
  await f.archive.auditor.flush()
  assert.equal((await readAuditTrail(f.archive)).filter((e) => e.record?.eventId === EVENT_ID.auditLogUsed).length, 2)
})

test('bad parameters are answered 400 naming what was wrong; nothing is written', async (t) => {
  const { f, auditor } = await setUp(t)
  const cases: Array<[string, RegExp]> = [
    ['since=yesterday', /"since" "yesterday" is not an ISO 8601 date/],
    ['until=2025-13-45', /"until" "2025-13-45" is not an ISO 8601 date/],
    ['since=2025-06-12&until=2025-06-11', /"since" is after "until"/],
    ['event=42', /"event" "42" is not a DICOM audit event id: use 110100–110114/],
    ['event=,', /"event" needs an event id/],
    ['limit=0', /"limit" must be a whole number from 1 to 500, got "0"/],
    ['limit=501', /"limit" must be a whole number from 1 to 500/],
    ['offset=-1', /"offset" must be a whole number/],
    ['offset=1.5', /"offset" must be a whole number/],
    ['asOf=soon', /"asOf" must be the UTC date-time an earlier answer gave/],
    ['patients=PAT-1', /unknown parameter "patients": use since, until, patient, study, user, event, limit, offset, asOf/],
    ['user=a&user=b', /"user" is given more than once/],
    [`patient=${'x'.repeat(600)}`, /"patient" is longer than 512 characters/]
  ]
  const before = (await readAuditTrail(f.archive)).length
  for (const [query, message] of cases) {
    const answer = await auditor.request('GET', `/api/audit?${query}`)
    assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`)
    assert.equal(answer.body.error, 'bad-request')
    assert.match(answer.body.message, message, query)
  }
  const badFormat = await auditor.request('GET', '/api/audit/export?format=csv')
  assert.equal(badFormat.status, 400)
  assert.match(badFormat.body.message, /"format" must be jsonl or dicom-xml, got "csv"/)
  await f.archive.auditor.flush()
  assert.equal((await readAuditTrail(f.archive)).length, before, 'a refused read reads nothing and records nothing')
  assert.equal((await auditor.request('GET', '/api/audit?event=110103')).body.matched, 7, 'and the trail still answers')
})

test('a technologist, a radiologist and nobody are refused; an admin reads', async (t) => {
  const { f } = await setUp(t)
  await f.addUser('techie', 'technologist', PASSWORD)
  await f.addUser('boss', 'admin', PASSWORD)
  const tech = f.browser('192.0.2.30')
  assert.equal((await tech.signIn('techie', PASSWORD)).status, 200)
  const refused = await tech.request('GET', '/api/audit')
  assert.equal(refused.status, 403)
  assert.equal(refused.body.error, 'forbidden')
  assert.equal((await tech.request('GET', '/api/audit/export')).status, 403)
  assert.equal((await f.browser('192.0.2.31').request('GET', '/api/audit')).status, 401)
  f.advance(31_000)
  const admin = f.browser('192.0.2.32')
  assert.equal((await admin.signIn('boss', PASSWORD)).status, 200)
  assert.equal((await admin.request('GET', '/api/audit?event=110103')).body.matched, 7)
})

test('emergency access (110113 with 110127 Emergency Override Started) is flagged breakGlass; other alerts are not', async (t) => {
  const { f, auditor } = await setUp(t)
  const who = personUser({ id: 'e'.repeat(32), username: 'rad.urgent', displayName: 'Dr Urgent' }, '192.0.2.77')
  f.people.alert([EVENT_TYPE.emergencyOverrideStarted], who, 'e'.repeat(32), 'emergency access to study s1 until later: trauma bay, patient unconscious')
  f.people.alert([EVENT_TYPE.useOfRestrictedFunction], who, 'e'.repeat(32), 'a session cookie was presented from another network')
  await f.archive.auditor.flush()
  const answer = await auditor.request('GET', '/api/audit?event=110113&user=rad.urgent')
  assert.equal(answer.status, 200)
  const flags = answer.body.records.map((r: any) => [r.eventTypes.map((e: any) => e.code), r.breakGlass])
  assert.deepEqual(flags.sort(), [[[EVENT_TYPE.emergencyOverrideStarted], true], [[EVENT_TYPE.useOfRestrictedFunction], false]].sort())
})
