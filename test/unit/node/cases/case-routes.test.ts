/**
 * GET/POST /api/studies/:study/case through the node's whole front (gate, route policy, CSRF,
 * people routes) with real sessions: a radiologist writes a note and a measurement and reads
 * them back with their name; each malformed request is refused 400 naming its field and writes
 * nothing; a study not here is 404; a technologist reads but may not write (403); another
 * person's entry cannot be deleted (403); a write without the CSRF header is 403; reads and
 * writes are audited as 110103 (R, U).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EVENT_ID, openAuditRecord } from '../../../../protocol/audit/index.ts'
import { peopleFront } from '../../../helpers/people-front.ts'
import { build, UIDS } from '../helpers/dicom.ts'

const PASSWORD = 'case notes need a long phrase'
const PATH = `/api/studies/${UIDS.study}/case`
const LENGTH = { tool: 'length', sopInstanceUid: UIDS.sopInstance, frame: 1, points: [[10, 20], [60, 20]], value: 25, unit: 'mm' }

test('case notes over HTTP: write and read with the author, 400/404/403 precise, nothing written by a refused request, audited 110103', async (t) => {
  const f = await peopleFront(t)
  const bytes = build()
  await f.pacs.ingest((async function * () { yield bytes })(), bytes.length)
  await f.addUser('rad', 'radiologist', PASSWORD)
  await f.addUser('rad2', 'radiologist', PASSWORD)
  await f.addUser('tech', 'technologist', PASSWORD)
  const rad = f.browser('192.0.2.20')
  await rad.signIn('rad', PASSWORD)

  const note = await rad.request('POST', PATH, { kind: 'note', text: 'no acute findings' })
  assert.equal(note.status, 201, JSON.stringify(note.body))
  assert.equal(note.body.name, 'rad')
  assert.equal(note.body.text, 'no acute findings')
  const measured = await rad.request('POST', PATH, { kind: 'measurement', measurement: LENGTH })
  assert.equal(measured.status, 201, JSON.stringify(measured.body))

  const bad: Array<[unknown, RegExp]> = [
    [{ kind: 'sketch' }, /"kind" must be "note" or "measurement"/],
    [{ kind: 'note', text: '   ' }, /"text" is empty/],
    [{ kind: 'note', text: 'x'.repeat(8001) }, /at most 8000/],
    [{ kind: 'measurement', measurement: { ...LENGTH, tool: 'circle' } }, /"measurement.tool" must be one of/],
    [{ kind: 'measurement', measurement: { ...LENGTH, points: [[1, 2]] } }, /must be 2 points/],
    [{ kind: 'measurement', measurement: { ...LENGTH, points: [[1, 2], [3, 'x']] } }, /points\[1\]\[1\]" must be a finite number/],
    [{ kind: 'measurement', measurement: { ...LENGTH, sopInstanceUid: 'abc' } }, /sopInstanceUid" must be a UID/],
    [{ kind: 'measurement', measurement: { ...LENGTH, frame: 0 } }, /"measurement.frame" must be a whole number from 1/],
    [{ kind: 'measurement', measurement: { ...LENGTH, value: null } }, /"measurement.value" must be a finite number/],
    ['[1, 2]', /JSON object/],
    ['{not json', /not JSON/]
  ]
  for (const [body, message] of bad) {
    const answer = await rad.request('POST', PATH, body)
    assert.equal(answer.status, 400, `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(answer.body)}`)
    assert.match(String(answer.body.message), message)
  }
  assert.equal((await rad.request('POST', PATH, 'kind=note', { 'content-type': 'application/x-www-form-urlencoded' })).status, 415)
  assert.equal((await rad.request('POST', '/api/studies/1.2.3.4.5/case', { kind: 'note', text: 'x' })).status, 404)
  assert.equal((await rad.request('GET', '/api/studies/1.2.3.4.5/case')).status, 404)
  assert.equal((await rad.request('GET', '/api/studies/not-a-uid/case')).status, 400)
  assert.equal((await rad.request('POST', PATH, { kind: 'note', text: 'forged' }, { 'x-csrf-token': 'wrong' })).status, 403, 'CSRF applies')

  const read = await rad.request('GET', PATH)
  assert.equal(read.status, 200)
  assert.equal(read.body.canWrite, true)
  assert.deepEqual(read.body.entries.map((e: { kind: string, name: string }) => [e.kind, e.name]), [['note', 'rad'], ['measurement', 'rad']], 'only the two accepted writes are there')
  assert.deepEqual(read.body.entries[1].measurement.points, [[10, 20], [60, 20]])

  // This site ingested the study: a technologist reads it, but may not write nor delete.
  const tech = f.browser('192.0.2.21')
  await tech.signIn('tech', PASSWORD)
  const techRead = await tech.request('GET', PATH)
  assert.equal(techRead.status, 200)
  assert.equal(techRead.body.canWrite, false)
  assert.equal(techRead.body.entries.length, 2)
  assert.equal((await tech.request('POST', PATH, { kind: 'note', text: 'tech note' })).status, 403)
  assert.equal((await tech.request('POST', PATH, { delete: note.body.id })).status, 403)

  // Another radiologist may not delete rad's note; rad may.
  f.advance(31_000)
  const rad2 = f.browser('192.0.2.22')
  await rad2.signIn('rad2', PASSWORD)
  const refused = await rad2.request('POST', PATH, { delete: note.body.id })
  assert.equal(refused.status, 403)
  assert.match(String(refused.body.message), /only the person who wrote/)
  assert.equal((await rad2.request('POST', PATH, { delete: '1:2' })).status, 404)
  assert.equal((await rad.request('POST', PATH, { delete: note.body.id })).status, 200)
  assert.deepEqual((await rad.request('GET', PATH)).body.entries.map((e: { kind: string }) => e.kind), ['measurement'])

  await f.archive.auditor.flush()
  const log = await f.archive.log()
  const key = f.archive.keyring.epochKey(f.archive.keyring.currentEpoch)
  const accessed = [...log.oplog.state.audit.values()].flat().map((id) => log.oplog.get(id)!).filter((op) => op.type === 'audit.event')
    .map((op) => openAuditRecord(f.archive.provider, key, { org: f.archive.keyring.orgId, author: op.author }, (op.body as { sealed: Uint8Array }).sealed))
    .filter((r) => r.eventId === EVENT_ID.instancesAccessed)
  const actions = accessed.map((r) => r.action)
  assert.equal(actions.filter((a) => a === 'U').length, 3, 'two writes and one deletion: 110103 U')
  assert.ok(actions.filter((a) => a === 'R').length >= 3, 'reads: 110103 R')
})
