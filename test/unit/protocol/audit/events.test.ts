/**
 * The event constructors fill the roles PS3.15 A.5.3 asks for: event id, action, type codes,
 * which participant is the requestor and with which RoleIDCode, which objects with which type,
 * role and id type. Each row below restates one message table.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  EVENT_TYPE, exportEvent, ID_TYPE, importEvent, MEDIA_TYPE, nodeSource, OBJECT_ROLE, OBJECT_TYPE, ROLE_ID, securityAlertEvent,
  studyObjects, type AuditRecord
} from '../../../../protocol/audit/index.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { alice, sampleRecords, source, studyA, T0, thisNode } from './fixtures.ts'

const samples = sampleRecords()
const get = (name: string): AuditRecord => samples.find(([n]) => n === name)![1]
/** [roleIdCode or '-', requestor] per participant. */
const roles = (r: AuditRecord): Array<[number | '-', boolean]> => r.participants.map(p => [p.roleIdCode ?? '-', p.requestor])
/** [typeCode, roleCode, idTypeCode] per object. */
const objects = (r: AuditRecord): number[][] => r.objects.map(o => [o.typeCode, o.roleCode, o.idTypeCode])
const STUDY = [2, 3, 110180]
const PATIENT = [1, 1, 2]

test('each message as its table in PS3.15 A.5.3 says', () => {
  const rows: Array<[string, number, string, number[] | undefined, Array<[number | '-', boolean]>, number[][]]> = [
    ['import', 110107, 'C', undefined, [[110152, true], [110155, false]], [STUDY, STUDY, PATIENT]],
    ['c-store received', 110104, 'C', undefined, [[110153, true], [110152, false]], [STUDY, PATIENT]],
    ['c-move sent', 110104, 'R', undefined, [[110153, false], [110152, false], ['-', true]], [STUDY, STUDY, PATIENT, PATIENT]],
    ['c-get sent', 110104, 'R', undefined, [[110153, false], [110152, true]], [STUDY, PATIENT]],
    ['wado accessed', 110103, 'R', undefined, [['-', true]], [STUDY, PATIENT]],
    ['study deleted', 110105, 'D', undefined, [['-', true]], [STUDY, PATIENT]],
    ['export', 110106, 'R', undefined, [[110153, false], [110152, true], [110154, false]], [STUDY, PATIENT]],
    ['c-find', 110112, 'E', undefined, [[110153, true], [110152, false]], [[2, 3, 110181]]],
    ['login failed', 110114, 'E', [110122], [['-', true], ['-', false]], []],
    ['logout', 110114, 'E', [110123], [['-', true], ['-', false]], []],
    ['fork alert', 110113, 'E', [110126], [['-', true]], [[2, 13, 110182]]],
    ['emergency override', 110113, 'E', [110127, 110132], [['-', true], ['-', false]], [[2, 13, 11], [2, 13, 12]]],
    ['start', 110100, 'E', [110120], [[110150, false], [110151, true]], []],
    ['stop', 110100, 'E', [110121], [[110150, true]], []],
    ['audit log used', 110101, 'R', undefined, [['-', true]], [[2, 13, 12]]]
  ]
  for (const [name, eventId, action, types, participants, objs] of rows) {
    const r = get(name)
    assert.equal(r.eventId, eventId, name)
    assert.equal(r.action, action, name)
    assert.deepEqual(r.eventTypeCodes, types, name)
    assert.deepEqual(roles(r), participants, name)
    assert.deepEqual(objects(r), objs, name)
    assert.equal(r.participants.filter(p => p.requestor).length, 1, `${name}: exactly one requestor`)
  }
})

test('outcome defaults to success; description and failure outcomes are kept', () => {
  assert.equal(get('logout').outcome, 0)
  assert.equal(get('login failed').outcome, 4)
  assert.match(get('login failed').outcomeDescription!, /^bad TOTP/)
  assert.equal(get('token use').outcomeDescription, 'API token')
  assert.equal(get('logout').outcomeDescription, undefined)
})

test('studyObjects: studies first, one patient per id (first name wins), empty strings dropped', () => {
  const objs = studyObjects([studyA, { studyUid: '9.9', patientId: 'P-001', patientName: 'other' }, { studyUid: '9.8', patientId: '', patientName: 'x' }, { studyUid: '9.7', patientId: 'P-3', patientName: '' }])
  assert.deepEqual(objs.map(o => o.id), ['1.2.3.4.5', '9.9', '9.8', '9.7', 'P-001', 'P-3'])
  assert.equal(objs[4]!.name, studyA.patientName)
  assert.equal('name' in objs[5]!, false)
  assert.deepEqual(objs[0]!.sopClasses, studyA.sopClasses)
  assert.equal(objs[0]!.typeCode, OBJECT_TYPE.systemObject)
  assert.equal(objs[4]!.roleCode, OBJECT_ROLE.patient)
  assert.equal(objs[0]!.idTypeCode, ID_TYPE.studyInstanceUid)
})

test('the query object carries the query bytes untouched and the transfer syntax as a detail', () => {
  const r = get('c-find')
  assert.deepEqual(r.objects[0]!.query, new Uint8Array([0x08, 0x00, 0x52, 0x00, 0, 0xff, 0x3c]))
  assert.deepEqual(r.objects[0]!.detail, [{ type: 'TransferSyntax', value: new TextEncoder().encode('1.2.840.10008.1.2.1') }])
  assert.equal(get('qido').objects[0]!.detail, undefined)
})

test('nodeSource: the node id as an application server process, site optional', () => {
  assert.deepEqual(nodeSource('n1'), { id: 'n1', typeCodes: [4] })
  assert.deepEqual(nodeSource('n1', 'Site'), { id: 'n1', enterpriseSiteId: 'Site', typeCodes: [4] })
  assert.deepEqual(nodeSource('n1', ''), { id: 'n1', typeCodes: [4] })
})

test('constructors check what they build', () => {
  const base = { time: T0, source }
  throwsPeerpacs(() => importEvent({ ...base, importer: { userId: '' }, studies: [] }), InvalidArgumentError)
  throwsPeerpacs(() => importEvent({ ...base, time: -5, importer: alice, studies: [] }), InvalidArgumentError)
  throwsPeerpacs(() => exportEvent({ ...base, exporter: thisNode, media: { id: 'x', type: 110039 as typeof MEDIA_TYPE.uri }, studies: [studyA] }), InvalidArgumentError)
  throwsPeerpacs(() => securityAlertEvent({ ...base, types: [], reporter: thisNode, subjects: [] }), InvalidArgumentError)
  throwsPeerpacs(() => securityAlertEvent({ ...base, types: [EVENT_TYPE.login], reporter: thisNode, subjects: [] }), InvalidArgumentError)
  assert.equal(exportEvent({ ...base, exporter: thisNode, media: { id: 'x', type: MEDIA_TYPE.dvd }, studies: [studyA] })[0]!.participants[0]!.requestor, true,
    'without a remote requester the exporter is the requestor')
  assert.equal(ROLE_ID.destinationMedia, 110154)
})
