/**
 * Issue 18: one STOW-RS request that stores more studies than one audit record may name is
 * audited in parts (protocol/audit/parts.ts): the trail holds 110104 Instances Transferred
 * records from that token that together name every study stored, over real HTTP.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EVENT_ID, ID_TYPE } from '../../../protocol/audit/index.ts'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { readAuditTrail } from '../../../node/audit/audit-trail.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { startFront } from './http-front.ts'

const STUDIES = 520 // of 520 patients: 1040 objects, one past what a record may name fits in two parts

test(`a STOW-RS of ${STUDIES} studies is audited in parts naming every study`, { timeout: 180_000 }, async (t) => {
  const front = await startFront(t)
  const token = await front.token('bulk-sender')
  const boundary = 'peerpacs-parts-boundary'
  const body: Uint8Array[] = []
  const uids: string[] = []
  for (let i = 0; i < STUDIES; i++) {
    const [instance] = syntheticStudy({ seed: 18_000 + i, patient: { name: `ZZSTOW^P${i}`, id: `ZZS-${i}`, birthDate: '19700101', sex: 'O' }, profile: 'ct', size: 'small', slices: 1, accessionNumber: `ZZS${i}` })
    uids.push(instance!.studyInstanceUid)
    body.push(utf8Encode(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), instance!.bytes, utf8Encode('\r\n'))
  }
  body.push(utf8Encode(`--${boundary}--\r\n`))
  const response = await fetch(`${front.url}/dicomweb/studies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
    body: Buffer.concat(body)
  })
  assert.equal(response.status, 200, (await response.text()).slice(0, 500))
  await front.archive.auditor.flush()
  const records = (await readAuditTrail(front.archive)).map((e) => e.record!).filter((r) => r.eventId === EVENT_ID.instancesTransferred)
  assert.equal(records.length, 2)
  assert.ok(records.every((r) => r.participants.some((p) => p.userName === 'bulk-sender')))
  assert.deepEqual(records.map((r) => r.outcomeDescription).sort(), [`part 1 of 2 (studies 1–512 of ${STUDIES})`, `part 2 of 2 (studies 513–${STUDIES} of ${STUDIES})`])
  const named = records.flatMap((r) => r.objects.filter((o) => o.idTypeCode === ID_TYPE.studyInstanceUid).map((o) => o.id))
  assert.deepEqual(named.sort(), [...uids].sort())
})
