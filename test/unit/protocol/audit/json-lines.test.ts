/**
 * The JSON lines export: each sample prints as one line of JSON with a fixed key order, coded
 * values as {code, codeSystemName, displayName}, time as ISO 8601 UTC with ms, bytes as base64,
 * and reads back (fromJsonLine) to the same record and op reference. An edited line that no
 * longer matches the vocabulary is refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { base64 } from '@scure/base'
import { fromJsonLine, toJsonLine, type AuditRecord } from '../../../../protocol/audit/index.ts'
import { DecodeError, InvalidArgumentError } from '../../../../protocol/errors.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { HOSTILE, sampleRecords } from './fixtures.ts'

const samples = sampleRecords()
const extra = { opId: '0f'.repeat(32), author: 'ab'.repeat(32), seq: 12 }

test('every sample prints as one line and reads back to the same record and op reference', () => {
  for (const [name, record] of samples) {
    const line = toJsonLine(record, extra)
    assert.ok(!/[\n\r\u0085\u2028\u2029]/.test(line), `${name}: one line for every line splitter`)
    assert.ok(!/[\u202A-\u202E\u2066-\u2069]/.test(line), `${name}: no raw bidirectional controls`)
    assert.deepEqual(fromJsonLine(line), { record, ...extra }, name)
    assert.equal(toJsonLine(fromJsonLine(line).record, extra), line, `${name}: stable`)
  }
})

test('key order is fixed, and codes print as coded values', () => {
  const record = samples.find(([n]) => n === 'import')![1]
  const parsed = JSON.parse(toJsonLine(record, { ...extra, author: new Uint8Array(32).fill(0xab) }))
  assert.deepEqual(Object.keys(parsed), ['opId', 'author', 'seq', 'eventId', 'action', 'outcome', 'time', 'participants', 'source', 'objects'])
  assert.equal(parsed.author, 'ab'.repeat(32), 'bytes print as hex')
  assert.deepEqual(parsed.eventId, { code: '110107', codeSystemName: 'DCM', displayName: 'Import' })
  assert.equal(parsed.time, '2025-01-02T03:04:05.678Z')
  assert.deepEqual(Object.keys(parsed.participants[0]), ['userId', 'userName', 'requestor', 'roleIdCode'])
  assert.deepEqual(parsed.participants[1].mediaType, { code: '110037', codeSystemName: 'DCM', displayName: 'URI' })
  assert.deepEqual(parsed.objects[2].idTypeCode, { code: '2', codeSystemName: 'RFC-3881', displayName: 'Patient Number' })
  assert.equal(parsed.objects[2].name, HOSTILE, 'text is JSON-escaped, not altered')
  const query = samples.find(([n]) => n === 'c-find')![1]
  const q = JSON.parse(toJsonLine(query, extra))
  assert.deepEqual(base64.decode(q.objects[0].query), query.objects[0]!.query)
  assert.deepEqual(q.objects[0].detail[0].type, 'TransferSyntax')
  assert.deepEqual(JSON.parse(toJsonLine(samples.find(([n]) => n === 'start')![1], extra)).eventTypeCodes,
    [{ code: '110120', codeSystemName: 'DCM', displayName: 'Application Start' }])
})

test('fromJsonLine refuses lines toJsonLine could not have written', () => {
  const record = samples.find(([n]) => n === 'c-find')![1]
  const good = JSON.parse(toJsonLine(record, extra))
  const edits: Array<[string, (j: any) => void]> = [
    ['display name changed', j => { j.eventId.displayName = 'Export' }],
    ['code system changed', j => { j.objects[0].idTypeCode.codeSystemName = 'RFC-3881' }],
    ['unknown code', j => { j.eventId.code = '110199' }],
    ['unknown key', j => { j.note = 'x' }],
    ['time without ms', j => { j.time = '2025-01-02T03:04:05Z' }],
    ['time not real', j => { j.time = '2025-02-30T03:04:05.678Z' }],
    ['seq 0', j => { j.seq = 0 }],
    ['query not base64', j => { j.objects[0].query = '***' }],
    ['action not allowed', j => { j.action = 'R' }]
  ]
  for (const [name, edit] of edits) {
    const j = structuredClone(good)
    edit(j)
    throwsPeerpacs(() => fromJsonLine(JSON.stringify(j)), DecodeError, name)
  }
  throwsPeerpacs(() => fromJsonLine('{'), DecodeError)
  throwsPeerpacs(() => fromJsonLine('[]'), DecodeError)
  throwsPeerpacs(() => fromJsonLine(1 as unknown as string), InvalidArgumentError)
})

test('toJsonLine checks the record and the op reference', () => {
  const record = samples[0]![1]
  throwsPeerpacs(() => toJsonLine({ ...record, outcome: 1 } as unknown as AuditRecord, extra), InvalidArgumentError)
  throwsPeerpacs(() => toJsonLine(record, { ...extra, seq: 0 }), InvalidArgumentError)
  throwsPeerpacs(() => toJsonLine(record, { ...extra, opId: 5 as unknown as string }), InvalidArgumentError)
})
