/**
 * The DIMSE edge's audit records for an association that stored, or a C-MOVE / C-GET that sent,
 * more studies than one record may name: every study is in one of the parts emitted, and each
 * part is a valid record (node/dimse/audit.ts over protocol/audit/parts.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAuditRecord, EVENT_ID, ID_TYPE, type AuditRecord } from '../../../../protocol/audit/index.ts'
import type { AuditPort } from '../../../../node/audit/audit-port.ts'
import { remoteAe } from '../../../../node/audit/actors.ts'
import { auditReceived, auditSent } from '../../../../node/dimse/audit.ts'

const CT = '1.2.840.10008.5.1.4.1.1.2'

function port (): AuditPort & { records: AuditRecord[] } {
  const records: AuditRecord[] = []
  return { nodeId: 'a'.repeat(64), records, emit: (r) => { records.push(...(Array.isArray(r) ? r as AuditRecord[] : [r as AuditRecord])) } }
}

/** Two instances per study, one study per patient. */
const instances = (studies: number): Array<{ studyInstanceUid: string, patientId: string, patientName: string, sopClassUid: string }> =>
  Array.from({ length: studies * 2 }, (_, i) => ({ studyInstanceUid: `1.2.826.0.1.3680043.8.498.${1000 + (i >> 1)}`, patientId: `ZZ-${i >> 1}`, patientName: `ZZSON^P${i >> 1}`, sopClassUid: CT }))

const studiesIn = (records: AuditRecord[]): string[] => records.flatMap((r) => r.objects.filter((o) => o.idTypeCode === ID_TYPE.studyInstanceUid).map((o) => o.id))

test('a C-STORE association of 2,000 studies is audited in parts naming every study, with its instance count', () => {
  const audit = port()
  const received = instances(2000)
  auditReceived(audit, 'PEERPACS', remoteAe('STORESCU', '127.0.0.1'), received, 3)
  assert.equal(audit.records.length, 4)
  for (const r of audit.records) {
    assert.equal(r.eventId, EVENT_ID.instancesTransferred)
    assert.match(r.outcomeDescription!, /^3 C-STORE requests failed; part \d of 4 \(studies \d+–\d+ of 2000\)$/)
    encodeAuditRecord(r)
  }
  assert.deepEqual(studiesIn(audit.records), [...new Set(received.map((i) => i.studyInstanceUid))])
  assert.ok(audit.records.every((r) => r.objects.every((o) => o.sopClasses === undefined || o.sopClasses[0]!.instances === 2)))
})

test('a C-MOVE of 1,500 studies is audited in parts too', () => {
  const audit = port()
  const sent = instances(1500)
  auditSent(audit, 'PEERPACS', remoteAe('MOVESCU', '127.0.0.1'), 'to', sent, 0)
  assert.equal(audit.records.length, 3)
  assert.deepEqual(studiesIn(audit.records), [...new Set(sent.map((i) => i.studyInstanceUid))])
})
