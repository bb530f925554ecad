/**
 * The audit search filter: each criterion alone, their conjunction, inclusive time bounds,
 * exact (never partial) matching of patient, study and user, and refusal of bad criteria.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EVENT_ID, matchesAuditFilter, type AuditRecord } from '../../../../protocol/audit/index.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { sampleRecords, T0 } from './fixtures.ts'

const samples = sampleRecords()
const get = (name: string): AuditRecord => samples.find(([n]) => n === name)![1]
const names = (filter: Parameters<typeof matchesAuditFilter>[1]): string[] => samples.filter(([, r]) => matchesAuditFilter(r, filter)).map(([n]) => n)

test('an empty filter matches everything', () => {
  assert.equal(names({}).length, samples.length)
})

test('since and until are inclusive ms bounds', () => {
  const r = get('import')
  assert.ok(matchesAuditFilter(r, { since: T0, until: T0 }))
  assert.ok(!matchesAuditFilter(r, { since: T0 + 1 }))
  assert.ok(!matchesAuditFilter(r, { until: T0 - 1 }))
})

test('patient matches a patient object\'s id exactly', () => {
  assert.deepEqual(names({ patient: 'P-002' }), ['c-move sent', 'c-get sent', 'study deleted'])
  assert.deepEqual(names({ patient: 'P-00' }), [], 'no partial match')
  assert.deepEqual(names({ patient: '1.2.3.4.5' }), [], 'a study uid is not a patient id')
})

test('study matches a Study Instance UID object exactly', () => {
  assert.deepEqual(names({ study: '1.2.3.4.6' }), ['import'])
  assert.deepEqual(names({ study: '1.2.3.4' }), [])
})

test('user matches a participant\'s user id or alternative user id', () => {
  assert.ok(names({ user: 'alice' }).includes('login failed'))
  assert.ok(!names({ user: 'alice' }).includes('c-store received'))
  assert.deepEqual(names({ user: 'AETitle=PEERPACS' }).length, names({ user: 'peerpacs@north' }).length)
  assert.deepEqual(names({ user: 'alic' }), [])
})

test('event takes one id or a list; criteria combine with AND', () => {
  assert.deepEqual(names({ event: EVENT_ID.query }), ['c-find', 'qido'])
  assert.deepEqual(names({ event: [EVENT_ID.import, EVENT_ID.export] }), ['import', 'export'])
  assert.deepEqual(names({ event: EVENT_ID.instancesTransferred, patient: 'P-001', user: 'alice' }), ['c-move sent'])
  assert.deepEqual(names({ event: EVENT_ID.query, study: '1.2.3.4.5' }), [])
})

test('bad criteria are refused rather than silently matching nothing', () => {
  const r = get('import')
  throwsPeerpacs(() => matchesAuditFilter(r, { since: 1.5 }), InvalidArgumentError)
  throwsPeerpacs(() => matchesAuditFilter(r, { until: '2025' as unknown as number }), InvalidArgumentError)
  throwsPeerpacs(() => matchesAuditFilter(r, { patient: 7 as unknown as string }), InvalidArgumentError)
  throwsPeerpacs(() => matchesAuditFilter(r, { event: 42 }), InvalidArgumentError)
  throwsPeerpacs(() => matchesAuditFilter(r, { event: ['110107'] as unknown as number[] }), InvalidArgumentError)
  throwsPeerpacs(() => matchesAuditFilter(r, null as unknown as object), InvalidArgumentError)
})
