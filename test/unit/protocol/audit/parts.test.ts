/**
 * An event that names more objects than one audit record may (AUDIT_LIMITS.maxObjects, or more
 * bytes than PART_OBJECT_BYTES) is written as several records, its parts (protocol/audit/parts.ts):
 * never failed, never summarised by a count. Checked at the limit, one past it, and at the
 * 20,000 objects of the 10,000-study import that failed (issue 18), and on the bytes a part
 * takes once sealed into an op.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AUDIT_LIMITS, encodeAuditRecord, ID_TYPE, importEvent, instancesTransferredEvent, MEDIA_TYPE, OBJECT_ROLE, OUTCOME, PART_OBJECT_BYTES,
  queryEvent, sealAuditRecord, type AuditRecord, type StudyRef
} from '../../../../protocol/audit/index.ts'
import { MAX_SEALED_BYTES } from '../../../../protocol/log/body-content.ts'
import { MAX_OP_BYTES } from '../../../../protocol/log/index.ts'
import { nobleProvider as provider } from '../../../../protocol/crypto-provider.ts'
import { counterRandom } from '../helpers.ts'
import { alice, remoteAe, source, T0, thisNode } from './fixtures.ts'

const CT = '1.2.840.10008.5.1.4.1.1.2'
/** A 64-character Study Instance UID, the longest DICOM allows. */
const uid = (n: number): string => `1.2.826.0.1.3680043.8.498.9${String(n).padStart(37, '0')}`
/** `studies` one-instance CT studies, `perPatient` of them per patient (0: no patient id). */
function studies (count: number, perPatient: number, extra: Partial<StudyRef> = {}): StudyRef[] {
  return Array.from({ length: count }, (_, i) => ({
    studyUid: uid(i),
    ...(perPatient === 0 ? {} : { patientId: `ZZ${String(Math.floor(i / perPatient)).padStart(8, '0')}`, patientName: `ZZ${String(i % 100).padStart(2, '0')}SON^P${i}` }),
    sopClasses: [{ uid: CT, instances: 1 }],
    ...extra
  }))
}
const imports = (refs: StudyRef[], outcomeDescription?: string): AuditRecord[] =>
  importEvent({ time: T0, source, importer: alice, media: { id: 'file:///media/import', type: MEDIA_TYPE.uri }, studies: refs, ...(outcomeDescription === undefined ? {} : { outcome: OUTCOME.minorFailure, outcomeDescription }) })
const studiesIn = (r: AuditRecord): string[] => r.objects.filter((o) => o.idTypeCode === ID_TYPE.studyInstanceUid).map((o) => o.id)
const patientsIn = (r: AuditRecord): string[] => r.objects.filter((o) => o.roleCode === OBJECT_ROLE.patient).map((o) => o.id)

/** Every part is the same event, encodes, and names its own studies and exactly their patients; together they name every study once. */
function assertParts (parts: AuditRecord[], refs: StudyRef[]): void {
  const seen: string[] = []
  for (const [i, part] of parts.entries()) {
    assert.ok(part.objects.length <= AUDIT_LIMITS.maxObjects, `part ${i + 1}: ${part.objects.length} objects`)
    assert.ok(encodeAuditRecord(part).length <= AUDIT_LIMITS.maxRecordBytes)
    const { objects: _o, outcomeDescription: _d, ...same } = part
    const { objects: _o0, outcomeDescription: _d0, ...first } = parts[0]!
    assert.deepEqual(same, first, `part ${i + 1} is the same event as part 1`)
    const own = new Set(studiesIn(part))
    const expected = [...new Set(refs.filter((s) => own.has(s.studyUid) && s.patientId !== undefined).map((s) => s.patientId!))]
    assert.deepEqual(patientsIn(part).sort(), expected.sort(), `part ${i + 1} names the patients of its studies, each once`)
    seen.push(...studiesIn(part))
    if (parts.length > 1) assert.match(part.outcomeDescription!, new RegExp(`part ${i + 1} of ${parts.length} \\(studies \\d+–\\d+ of ${refs.length}\\)$`))
  }
  assert.deepEqual(seen, refs.map((s) => s.studyUid), 'every study is named, once, in order')
}

/** Studies named without SOP classes: 1024 of them stay under PART_OBJECT_BYTES, so the object count is what binds. */
const BARE = { sopClasses: undefined }

test('at the limit: 1024 objects are one record, as before, with no part note', () => {
  for (const refs of [studies(512, 1), studies(1024, 0, BARE)]) {
    const records = imports(refs)
    assert.equal(records.length, 1)
    assert.equal(records[0]!.objects.length, 1024)
    assert.equal(records[0]!.outcomeDescription, undefined)
    assertParts(records, refs)
  }
})

test('one past the limit: 1025 objects are two records, and the second names what the first could not', () => {
  for (const refs of [studies(1025, 0, BARE), [...studies(512, 1), { studyUid: uid(99_999), patientId: 'ZZ00000000' }]]) {
    const records = imports(refs)
    assert.equal(records.length, 2)
    assertParts(records, refs)
  }
  // A patient whose studies fall in two parts is named in both: each part stands alone for an auditor.
  const refs = studies(1025, 0, BARE).map((s) => ({ ...s, patientId: 'ZZ-ONE', patientName: 'ZZONE^P' }))
  const [a, b] = imports(refs)
  assert.deepEqual([patientsIn(a!), patientsIn(b!)], [['ZZ-ONE'], ['ZZ-ONE']])
  assert.deepEqual([a!.objects.length, b!.objects.length], [1024, 3])
})

test('20,000 objects (the 10,000-study import of issue 18): 20 parts, every study named, each sealed part far inside an op', (t) => {
  const refs = studies(10_000, 1)
  const records = imports(refs, '2 files rejected')
  assert.equal(records.length, 20)
  assertParts(records, refs)
  assert.match(records[0]!.outcomeDescription!, /^2 files rejected; part 1 of 20 \(studies 1–512 of 10000\)$/)
  const context = { org: 'c'.repeat(64) as never, author: new Uint8Array(32).fill(7) }
  const sealed = records.map((r) => sealAuditRecord(provider, counterRandom(), new Uint8Array(32).fill(1), context, r).length)
  const largest = Math.max(...sealed)
  t.diagnostic(`${records.length} parts; largest sealed part ${largest} B (${(largest / 1024).toFixed(1)} KiB); limits: sealed ${MAX_SEALED_BYTES} B, op ${MAX_OP_BYTES} B`)
  assert.ok(largest <= PART_OBJECT_BYTES + 8192, `a sealed part of ${largest} B stays near PART_OBJECT_BYTES`)
  assert.ok(largest <= MAX_SEALED_BYTES / 1.5, 'with a third of MAX_SEALED_BYTES to spare')
})

test('the byte bound cuts parts of studies with many SOP classes before the object bound does', () => {
  const classes = Array.from({ length: 20 }, (_, k) => ({ uid: `${CT}.${k}`, instances: 1000 + k }))
  const refs = studies(600, 1, { sopClasses: classes })
  const records = imports(refs)
  assert.ok(records.length >= 3, `${records.length} parts for 1200 objects of ~1 KiB studies`)
  for (const r of records) assert.ok(encodeAuditRecord(r).length <= PART_OBJECT_BYTES + 4096)
  assertParts(records, refs)
})

test('a study with more SOP classes than one object may list is named by several objects, all in one record', () => {
  const classes = Array.from({ length: AUDIT_LIMITS.maxSopClasses + 10 }, (_, k) => ({ uid: `${CT}.${k}`, instances: 1 }))
  const [record, ...more] = instancesTransferredEvent({ time: T0, source, action: 'C', from: remoteAe, to: thisNode, requestedBy: 'from', studies: [{ studyUid: uid(1), patientId: 'P', sopClasses: classes }] })
  assert.equal(more.length, 0)
  assert.deepEqual(studiesIn(record!), [uid(1), uid(1)])
  assert.deepEqual(record!.objects.flatMap((o) => o.sopClasses ?? []).map((c) => c.uid), classes.map((c) => c.uid))
})

test('odd input shortens a name instead of failing the record: long texts, long instance lists, a long query', () => {
  const long = '😀'.repeat(3000)
  const [r] = imports([{ studyUid: uid(2), patientId: 'P'.repeat(5000), patientName: long, sopClasses: [{ uid: CT, instances: 5000, instanceUids: Array.from({ length: 5000 }, (_, k) => `1.2.${k}`) }] }])
  assert.equal(patientsIn(r!)[0]!.length, AUDIT_LIMITS.maxText)
  assert.ok(r!.objects.find((o) => o.roleCode === OBJECT_ROLE.patient)!.name!.length <= AUDIT_LIMITS.maxText)
  assert.equal(r!.objects[0]!.sopClasses![0]!.instanceUids!.length, AUDIT_LIMITS.maxInstanceUids)
  const q = queryEvent({ time: T0, source, from: remoteAe, to: thisNode, sopClassUid: CT, query: new Uint8Array(AUDIT_LIMITS.maxBinary + 100).fill(0x41) })
  assert.equal(q.objects[0]!.query!.length, AUDIT_LIMITS.maxBinary)
  assert.equal(q.outcomeDescription, `query of ${AUDIT_LIMITS.maxBinary + 100} bytes, the first ${AUDIT_LIMITS.maxBinary} kept`)
})
