/**
 * The audit vocabulary against the standard's tables: event ids and their code meanings
 * (PS3.16 CID 400), the type codes of 110100/110113/110114 (CID 401, 403), role ids (CID 402),
 * id types (PS3.15 A.5.1.2.4, CID 404), the schema's enumerations (A.5.1); and the coded values
 * the exports print.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import {
  codedValue, EVENT_ID, EVENT_RULES, EVENT_TYPE, ID_TYPE, NAMES, OBJECT_ROLE, OUTCOME, ROLE_ID
} from '../../../../protocol/audit/index.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { throwsPeerpacs } from '../helpers.ts'

test('event ids 110100–110114 with the code meanings of PS3.16 CID 400', () => {
  const expected = ['Application Activity', 'Audit Log Used', 'Begin Transferring DICOM Instances', 'DICOM Instances Accessed',
    'DICOM Instances Transferred', 'DICOM Study Deleted', 'Export', 'Import', 'Network Entry', 'Order Record',
    'Patient Record', 'Procedure Record', 'Query', 'Security Alert', 'User Authentication']
  assert.deepEqual(Object.values(EVENT_ID), expected.map((_, i) => 110100 + i))
  for (const [i, name] of expected.entries()) assert.equal(NAMES.eventId(110100 + i), name)
  assert.equal(NAMES.eventId(110099), undefined)
  assert.equal(NAMES.eventId(110115), undefined)
  assert.equal(NAMES.eventId(110120), undefined, 'a type code is not an event id')
  assert.deepEqual([...EVENT_RULES.keys()].sort(), Object.values(EVENT_ID).sort())
})

test('event type codes, role ids and id types', () => {
  assert.equal(EVENT_TYPE.applicationStart, 110120)
  assert.equal(EVENT_TYPE.applicationStop, 110121)
  assert.equal(EVENT_TYPE.login, 110122)
  assert.equal(EVENT_TYPE.logout, 110123)
  assert.equal(EVENT_TYPE.nodeAuthentication, 110126)
  assert.equal(NAMES.eventType(110127), 'Emergency Override Started')
  assert.equal(NAMES.eventType(110142), 'Local Service Operation Stopped')
  assert.deepEqual(EVENT_RULES.get(110113)!.types, Array.from({ length: 17 }, (_, i) => 110126 + i))
  assert.deepEqual(Object.values(ROLE_ID), [110150, 110151, 110152, 110153, 110154, 110155])
  assert.deepEqual([110150, 110151, 110152, 110153, 110154, 110155].map(NAMES.roleId),
    ['Application', 'Application Launcher', 'Destination Role ID', 'Source Role ID', 'Destination Media', 'Source Media'])
  assert.equal(ID_TYPE.patientNumber, 2)
  assert.equal(NAMES.idType(2), 'Patient Number')
  assert.equal(NAMES.idType(12), 'URI')
  assert.equal(NAMES.idType(13), undefined)
  assert.equal(NAMES.idType(110180), 'Study Instance UID')
  assert.equal(NAMES.idType(110181), 'SOP Class UID')
  assert.equal(NAMES.idType(110182), 'Node ID')
  assert.equal(NAMES.idType(110150), undefined)
})

test('schema enumerations: actions, outcomes, object types and roles, access points, sources', () => {
  assert.deepEqual(['C', 'R', 'U', 'D', 'E'].map(NAMES.action), ['Create', 'Read', 'Update', 'Delete', 'Execute'])
  assert.equal(NAMES.action('X'), undefined)
  assert.equal(NAMES.action('constructor'), undefined)
  assert.deepEqual(Object.values(OUTCOME), [0, 4, 8, 12])
  assert.deepEqual([1, 2, 3, 4, 5].map(NAMES.objectType), ['Person', 'System Object', 'Organization', 'Other', undefined])
  assert.equal(OBJECT_ROLE.patient, 1)
  assert.equal(OBJECT_ROLE.report, 3)
  assert.equal(OBJECT_ROLE.query, 24)
  assert.equal(NAMES.objectRole(26), 'Processing Element')
  assert.equal(NAMES.objectRole(0), undefined)
  assert.equal(NAMES.objectRole(27), undefined)
  assert.equal(NAMES.objectRole(1.5), undefined)
  assert.deepEqual([1, 2].map(NAMES.networkAccessPoint), ['Machine Name', 'IP Address'])
  assert.equal(NAMES.sourceType(4), 'Application server process')
  assert.equal(NAMES.sourceType(10), undefined)
})

test('codedValue: DCM codes and RFC-3881 id types; anything else refused', () => {
  assert.deepEqual(codedValue(110112), { code: '110112', codeSystemName: 'DCM', displayName: 'Query' })
  assert.deepEqual(codedValue(2), { code: '2', codeSystemName: 'RFC-3881', displayName: 'Patient Number' })
  assert.deepEqual(codedValue(110037), { code: '110037', codeSystemName: 'DCM', displayName: 'URI' })
  for (const bad of [0, 13, 110000, 110199, -1]) throwsPeerpacs(() => codedValue(bad), InvalidArgumentError, String(bad))
})

test('protocol/audit is pure: no Node built-ins, .ts imports, and a header comment in every file', () => {
  const dir = new URL('../../../../protocol/audit/', import.meta.url)
  const files = readdirSync(dir).filter(f => f.endsWith('.ts'))
  assert.ok(files.length >= 8)
  for (const file of files) {
    const source = readFileSync(new URL(file, dir), 'utf8')
    assert.match(source, /^\/\*\*/, `${file}: opens with a comment`)
    for (const m of source.matchAll(/from '([^']+)'/g)) {
      const spec = m[1]!
      assert.ok(!spec.startsWith('node:'), `${file} imports ${spec}`)
      if (spec.startsWith('.')) assert.ok(spec.endsWith('.ts') && !spec.includes('/node/'), `${file} imports ${spec}`)
      else assert.ok(['@scure/base'].includes(spec), `${file} imports ${spec}`)
    }
    assert.ok(!/\b(process|Buffer|require)\b[.(]/.test(source), `${file} uses a Node global`)
  }
})
