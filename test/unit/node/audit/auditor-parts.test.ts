/**
 * node/audit/auditor.ts writes every part of an event that comes as several records
 * (protocol/audit/parts.ts), in order; when one part fails, the error says how many of the
 * event's records are in the log, so a command can report "stored, audited in part".
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { importEvent, MEDIA_TYPE, nodeSource, type AuditRecord } from '../../../../protocol/audit/index.ts'
import { Auditor } from '../../../../node/audit/auditor.ts'
import { AuditWriteError } from '../../../../node/audit/errors.ts'
import { silentLogger } from '../../../../node/logging/logger.ts'
import { LogWriteError } from '../../../../node/log/node-log.ts'

const parts = (studies: number): AuditRecord[] => importEvent({
  time: 1_700_000_000_000, source: nodeSource('a'.repeat(64)), importer: { userId: 'os:test' }, media: { id: 'file:///in', type: MEDIA_TYPE.uri },
  studies: Array.from({ length: studies }, (_, i) => ({ studyUid: `1.2.3.${i}`, patientId: `P${i}` }))
})

test('record() writes every part in order, and emit() does too', async () => {
  const records = parts(1500)
  assert.equal(records.length, 3)
  const written: AuditRecord[] = []
  const auditor = new Auditor(async (r) => { written.push(r) }, silentLogger)
  await auditor.record(records)
  assert.deepEqual(written, records)
  auditor.emit(records)
  await auditor.flush()
  assert.deepEqual(written, [...records, ...records])
  assert.equal(auditor.failures, 0)
})

test('a part that fails stops the rest, and the error counts what is in the log', async () => {
  const records = parts(1500)
  const written: AuditRecord[] = []
  const auditor = new Auditor(async (r) => {
    if (written.length === 1) throw new LogWriteError('disk full')
    written.push(r)
  }, silentLogger)
  const error = await auditor.record(records).then(() => undefined, (e: unknown) => e)
  assert.ok(error instanceof AuditWriteError, String(error))
  assert.equal(error.code, 'AUDIT_WRITE')
  assert.deepEqual([error.written, error.total], [1, 3])
  assert.match(error.message, /^1 of the 3 records of one 110107 audit event were written; record 2 failed: disk full$/)
  assert.equal(auditor.failures, 1)
})

test('a single record that fails is thrown as its own error, as before', async () => {
  const auditor = new Auditor(async () => { throw new LogWriteError('disk full') }, silentLogger)
  await assert.rejects(auditor.record(parts(1)), LogWriteError)
})
