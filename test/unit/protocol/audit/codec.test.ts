/**
 * The audit record codec: every event constructor's record survives encode → decode unchanged;
 * the decoder refuses unknown keys, codes outside the vocabulary or not allowed for the event,
 * empty or malformed text, oversized records and non-canonical bytes; the encoder refuses the
 * same records with InvalidArgumentError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encode } from 'cborg'
import { encodeCanonical, type CanonicalValue } from '../../../../protocol/canonical.ts'
import { DecodeError, InvalidArgumentError, NotCanonicalError } from '../../../../protocol/errors.ts'
import { AUDIT_LIMITS, decodeAuditRecord, encodeAuditRecord, MAX_AUDIT_TIME, type AuditRecord } from '../../../../protocol/audit/index.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { sampleRecords } from './fixtures.ts'

const samples = sampleRecords()
const query = samples.find(([name]) => name === 'c-find')![1]

test('every event constructor\'s record round-trips through the codec, and re-encodes to the same bytes', () => {
  for (const [name, record] of samples) {
    const bytes = encodeAuditRecord(record)
    const back = decodeAuditRecord(bytes)
    assert.deepEqual(back, record, name)
    assert.deepEqual(encodeAuditRecord(back), bytes, name)
  }
})

test('absent optional fields have one spelling: undefined values are dropped, empty lists and empty text refused', () => {
  const r = { ...query, outcomeDescription: undefined, eventTypeCodes: undefined } as unknown as AuditRecord
  assert.deepEqual(decodeAuditRecord(encodeAuditRecord(r)), query)
  throwsPeerpacs(() => encodeAuditRecord({ ...query, outcomeDescription: '' }), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord({ ...query, objects: [{ ...query.objects[0]!, detail: [] }] }), InvalidArgumentError)
})

/** Mutations of the query record's map, each of which the decoder must refuse. */
type Mutation = [string, (r: Record<string, any>) => void, RegExp]
const BAD: Mutation[] = [
  ['unknown top-level key', r => { r.extra = 1 }, /unknown key "extra"/],
  ['unknown participant key', r => { r.participants[0].role = 1 }, /participants\[0\]: unknown key "role"/],
  ['unknown source key', r => { r.source.site = 'x' }, /source: unknown key/],
  ['unknown object key', r => { r.objects[0].lifeCycle = 2 }, /objects\[0\]: unknown key/],
  ['unknown detail key', r => { r.objects[0].detail[0].x = 1 }, /detail\[0\]: unknown key/],
  ['event id out of range', r => { r.eventId = 110115 }, /eventId: 110115 is not a known code/],
  ['event id as text', r => { r.eventId = '110112' }, /eventId/],
  ['action unknown', r => { r.action = 'X' }, /action: expected one of C R U D E/],
  ['action not allowed for the event', r => { r.action = 'R' }, /110112 Query takes action E, got R/],
  ['type code on an event that has none', r => { r.eventTypeCodes = [110122] }, /110122 is not a type code of 110112/],
  ['type code outside the vocabulary', r => { r.eventTypeCodes = [110143] }, /110143 is not a known code/],
  ['outcome 3', r => { r.outcome = 3 }, /outcome: 3 is not a known code/],
  ['negative time', r => { r.time = -1 }, /time/],
  ['time past year 9999', r => { r.time = MAX_AUDIT_TIME + 1 }, /time/],
  ['no participants', r => { r.participants = [] }, /participants: expected 1\.\.32 entries, got 0/],
  ['requestor not boolean', r => { r.participants[0].requestor = 1 }, /requestor: expected a boolean/],
  ['role id code unknown', r => { r.participants[0].roleIdCode = 110156 }, /roleIdCode: 110156/],
  ['access point id without type', r => { delete r.participants[0].networkAccessPointType }, /come together/],
  ['access point type 6', r => { r.participants[0].networkAccessPointType = 6 }, /networkAccessPointType: 6/],
  ['media type on a non-media participant', r => { r.participants[0].mediaType = 110037 }, /only a media participant/],
  ['source type 10', r => { r.source.typeCodes = [10] }, /typeCodes\[0\]: 10/],
  ['source type twice', r => { r.source.typeCodes = [4, 4] }, /appears twice/],
  ['object type 5', r => { r.objects[0].typeCode = 5 }, /typeCode: 5/],
  ['object role 27', r => { r.objects[0].roleCode = 27 }, /roleCode: 27/],
  ['id type 13', r => { r.objects[0].idTypeCode = 13 }, /idTypeCode: 13/],
  ['id type 110183', r => { r.objects[0].idTypeCode = 110183 }, /idTypeCode: 110183/],
  ['name and query together', r => { r.objects[0].name = 'x' }, /both name and query/],
  ['query as text', r => { r.objects[0].query = 'x' }, /query: expected a byte string/],
  ['empty object id', r => { r.objects[0].id = '' }, /non-empty/],
  ['missing source', r => { delete r.source }, /source: expected a map/]
]

function mutated (mutate: (r: Record<string, any>) => void): Uint8Array {
  const r = structuredClone(query) as unknown as Record<string, any>
  mutate(r)
  return encodeCanonical(r as CanonicalValue)
}

test('decode refuses unknown keys and bad codes, saying which field (DecodeError)', () => {
  for (const [name, mutate, message] of BAD) {
    const error = throwsPeerpacs(() => decodeAuditRecord(mutated(mutate)), DecodeError, name)
    assert.match(error.message, message, name)
  }
})

test('encode refuses the same records (InvalidArgumentError)', () => {
  for (const [name, mutate, message] of BAD) {
    const r = structuredClone(query) as unknown as Record<string, any>
    mutate(r)
    const error = throwsPeerpacs(() => encodeAuditRecord(r as unknown as AuditRecord), InvalidArgumentError, name)
    assert.match(error.message, message, name)
  }
})

test('event type rules: 110100 and 110114 take exactly one of theirs, 110113 at least one', () => {
  const start = samples.find(([n]) => n === 'start')![1]
  const alert = samples.find(([n]) => n === 'fork alert')![1]
  throwsPeerpacs(() => encodeAuditRecord({ ...start, eventTypeCodes: undefined } as unknown as AuditRecord), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord({ ...start, eventTypeCodes: [110120, 110121] }), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord({ ...start, eventTypeCodes: [110122] }), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord({ ...alert, eventTypeCodes: undefined } as unknown as AuditRecord), InvalidArgumentError)
  assert.ok(encodeAuditRecord({ ...alert, eventTypeCodes: [110126, 110142] }).length > 0)
})

test('text that is not well-formed Unicode is refused; control characters are kept', () => {
  throwsPeerpacs(() => encodeAuditRecord({ ...query, outcomeDescription: 'a\uD800b' }), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord({ ...query, outcomeDescription: '\uDC00' }), InvalidArgumentError)
  const r = { ...query, outcomeDescription: '\u0000\u0001\u001b\r\n' }
  assert.deepEqual(decodeAuditRecord(encodeAuditRecord(r)), r)
})

test('size bounds: long text, many participants, a huge query, a record over the byte limit', () => {
  const p = query.participants[0]!
  throwsPeerpacs(() => encodeAuditRecord({ ...query, outcomeDescription: 'x'.repeat(AUDIT_LIMITS.maxText + 1) }), InvalidArgumentError)
  assert.ok(encodeAuditRecord({ ...query, outcomeDescription: 'x'.repeat(AUDIT_LIMITS.maxText) }))
  throwsPeerpacs(() => encodeAuditRecord({ ...query, participants: Array(AUDIT_LIMITS.maxParticipants + 1).fill(p) }), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord({ ...query, objects: [{ ...query.objects[0]!, query: new Uint8Array(AUDIT_LIMITS.maxBinary + 1) }] }), InvalidArgumentError)
  // Each object within limits, the whole record over maxRecordBytes.
  const big = { ...query.objects[0]!, query: new Uint8Array(AUDIT_LIMITS.maxBinary) }
  const error = throwsPeerpacs(() => encodeAuditRecord({ ...query, objects: [big, big, big, big] }), InvalidArgumentError)
  assert.match(error.message, /exceeds/)
  // The decoder refuses such bytes before parsing them.
  const bytes = encodeCanonical({ ...query, objects: [big, big, big, big] } as unknown as CanonicalValue)
  assert.match(throwsPeerpacs(() => decodeAuditRecord(bytes), DecodeError).message, /exceeds the limit/)
})

test('non-canonical bytes, other CBOR values and non-bytes are refused', () => {
  const canonical = encodeAuditRecord(query)
  // The same map with its keys in reverse canonical order.
  const reversed = Object.fromEntries(Object.entries(structuredClone(query)).reverse())
  const unsorted = encode(reversed, { mapSorter: () => 0 })
  assert.notDeepEqual(unsorted, canonical)
  throwsPeerpacs(() => decodeAuditRecord(unsorted), NotCanonicalError)
  throwsPeerpacs(() => decodeAuditRecord(encodeCanonical([1, 2])), DecodeError)
  throwsPeerpacs(() => decodeAuditRecord(canonical.subarray(0, canonical.length - 1)), DecodeError)
  throwsPeerpacs(() => decodeAuditRecord('bytes' as unknown as Uint8Array), InvalidArgumentError)
  throwsPeerpacs(() => encodeAuditRecord(null as unknown as AuditRecord), InvalidArgumentError)
})
