/**
 * Issue 12 item 6: the audit record of a DICOMweb read is derived from the decoded route
 * parameters the handler uses, never from a pattern over the raw path. Every retrieve route is
 * called with percent-encoded UIDs (`/studies/%32.25...`), each by its own token, and the trail
 * must hold one 110103 Instances Accessed for that token naming the study and the patient, and
 * no 110112 Query (what the raw-path regex wrote before). Reads stay deduplicated per token,
 * study and minute.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { EVENT_ID, ID_TYPE, OBJECT_ROLE, type AuditRecord } from '../../../protocol/audit/index.ts'
import { readAuditTrail } from '../../../node/audit/audit-trail.ts'
import { KNOWN_PATIENTS, syntheticStudy } from '../../synthetic/study.ts'
import { pieces } from '../../unit/node/helpers/archive.ts'
import { startFront } from './http-front.ts'

/** Every character percent-encoded ("1.2" → "%31%2E%32"). */
function encodeAll (text: string): string {
  return [...text].map((ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join('')
}

/** Only the first character encoded, as the review sent it ("2.25..." → "%32.25..."). */
function encodeFirst (text: string): string {
  return encodeAll(text[0]!) + text.slice(1)
}

describe('DICOMweb audit from decoded parameters', () => {
  test('every retrieve route with percent-encoded UIDs is audited as 110103 naming study and patient', async (t) => {
    const front = await startFront(t)
    const patient = KNOWN_PATIENTS[1]!
    const study = syntheticStudy({ seed: 612, patient, accessionNumber: 'ACC612' })
    for (const i of study) await front.pacs.ingest(pieces(i.bytes), i.bytes.length)
    const ct = study.find((i) => i.modality === 'MR' && i.numberOfFrames === 1 && i.transferSyntaxUid === '1.2.840.10008.1.2.1')!
    assert.ok(ct !== undefined, 'the synthetic study has a native single-frame MR')
    const S = ct.studyInstanceUid
    const SE = ct.seriesInstanceUid
    const I = ct.sopInstanceUid
    const inst = (enc: (s: string) => string): string => `/dicomweb/studies/${enc(S)}/series/${enc(SE)}/instances/${enc(I)}`
    const routes: Array<[string, string]> = [
      ['study', `/dicomweb/studies/${encodeFirst(S)}`],
      ['study-metadata', `/dicomweb/studies/${encodeAll(S)}/metadata`],
      ['series', `/dicomweb/studies/${encodeFirst(S)}/series/${encodeAll(SE)}`],
      ['series-metadata', `/dicomweb/studies/${encodeAll(S)}/series/${encodeFirst(SE)}/metadata`],
      ['instance', inst(encodeAll)],
      ['instance-metadata', `${inst(encodeFirst)}/metadata`],
      ['rendered', `${inst(encodeAll)}/rendered`],
      ['thumbnail', `${inst(encodeFirst)}/thumbnail`],
      ['frames', `${inst(encodeAll)}/frames/%31`],
      ['frame-rendered', `${inst(encodeFirst)}/frames/1/rendered`],
      ['frame-thumbnail', `${inst(encodeAll)}/frames/%31/thumbnail`],
      ['bulkdata', `${inst(encodeAll)}/bulkdata/%37FE00010`],
      ['wado-uri', `/wado?requestType=WADO&studyUID=${encodeAll(S)}&seriesUID=${encodeFirst(SE)}&objectUID=${encodeAll(I)}&contentType=application%2Fdicom`]
    ]
    for (const [name, path] of routes) {
      const token = await front.token(`reader-${name}`)
      const response = await fetch(front.url + path, { headers: { authorization: `Bearer ${token}` } })
      const body = await response.arrayBuffer()
      assert.equal(response.status, 200, `${name}: ${path} → ${response.status} ${Buffer.from(body).toString().slice(0, 300)}`)
      assert.ok(body.byteLength > 0, `${name}: a body`)
      // The same token reads again within the minute: no second record (one per token, study and minute).
      const again = await fetch(front.url + path, { headers: { authorization: `Bearer ${token}` } })
      await again.arrayBuffer()
      assert.equal(again.status, 200)
    }
    await front.archive.auditor.flush()
    const records = (await readAuditTrail(front.archive)).map((e) => e.record).filter((r): r is AuditRecord => r !== undefined)
    const by = (name: string, event: number): AuditRecord[] => records.filter((r) => r.eventId === event && r.participants.some((p) => p.userName === `reader-${name}`))
    for (const [name, path] of routes) {
      const reads = by(name, EVENT_ID.instancesAccessed)
      assert.equal(reads.length, 1, `${name} (${path}): one 110103 Instances Accessed, got ${reads.length}`)
      const objects = reads[0]!.objects
      assert.ok(objects.some((o) => o.idTypeCode === ID_TYPE.studyInstanceUid && o.id === S), `${name}: the record names the study`)
      assert.ok(objects.some((o) => o.roleCode === OBJECT_ROLE.patient && o.id === patient.id), `${name}: the record names the patient`)
      assert.deepEqual(by(name, EVENT_ID.query), [], `${name}: a read is not audited as a query`)
    }
  })

  test('a read of another study by the same token within the minute is a record of its own', async (t) => {
    const front = await startFront(t)
    const first = syntheticStudy({ seed: 613, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 1 })
    const second = syntheticStudy({ seed: 614, patient: KNOWN_PATIENTS[2], profile: 'ct', slices: 1 })
    for (const i of [...first, ...second]) await front.pacs.ingest(pieces(i.bytes), i.bytes.length)
    const token = await front.token('two-studies')
    for (const s of [first, second, first]) {
      const r = await fetch(`${front.url}/dicomweb/studies/${encodeAll(s[0]!.studyInstanceUid)}/metadata`, { headers: { authorization: `Bearer ${token}` } })
      await r.arrayBuffer()
      assert.equal(r.status, 200)
    }
    await front.archive.auditor.flush()
    const records = (await readAuditTrail(front.archive)).map((e) => e.record).filter((r): r is AuditRecord => r !== undefined)
    const reads = records.filter((r) => r.eventId === EVENT_ID.instancesAccessed && r.participants.some((p) => p.userName === 'two-studies'))
    const studies = reads.map((r) => r.objects.find((o) => o.idTypeCode === ID_TYPE.studyInstanceUid)!.id)
    assert.deepEqual(studies.sort(), [first[0]!.studyInstanceUid, second[0]!.studyInstanceUid].sort())
  })

  test('QIDO-RS is audited as 110112; a refused read and an unknown resource write no read record', async (t) => {
    const front = await startFront(t)
    const token = await front.token('searcher')
    const auth = { authorization: `Bearer ${token}` }
    const q = await fetch(`${front.url}/dicomweb/studies?PatientID=${encodeAll('X1')}`, { headers: auth })
    await q.arrayBuffer()
    const missing = await fetch(`${front.url}/dicomweb/studies/${encodeAll('1.2.3.4')}`, { headers: auth })
    await missing.arrayBuffer()
    assert.equal(missing.status, 404)
    const unknown = await fetch(`${front.url}/dicomweb/nothing-here`, { headers: auth })
    await unknown.arrayBuffer()
    assert.equal(unknown.status, 404)
    await front.archive.auditor.flush()
    const records = (await readAuditTrail(front.archive)).map((e) => e.record).filter((r): r is AuditRecord => r !== undefined)
    const mine = records.filter((r) => r.participants.some((p) => p.userName === 'searcher'))
    assert.equal(mine.filter((r) => r.eventId === EVENT_ID.query).length, 1, 'one query record, for the QIDO request')
    assert.equal(mine.filter((r) => r.eventId === EVENT_ID.instancesAccessed).length, 0)
  })
})
