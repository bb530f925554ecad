/**
 * node/audit/auditor.ts decides "not yet, retry when the mesh brings keys or membership" on the
 * error's typed code, never on its message: a node that is not an active member yet
 * (LOG_NOT_MEMBER) defers its record, and any other write failure, whatever its text, counts as
 * a failure.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AuditRecord } from '../../../../protocol/audit/index.ts'
import { Auditor } from '../../../../node/audit/auditor.ts'
import { silentLogger } from '../../../../node/logging/logger.ts'
import { LogHeldError, LogNotMemberError, LogWriteError } from '../../../../node/log/node-log.ts'

const record = (eventId: number): AuditRecord => ({ eventId }) as unknown as AuditRecord

test('a record refused because the node is not an active member waits, and is written on retry', async () => {
  let member = false
  const written: number[] = []
  const auditor = new Auditor(async (r) => {
    if (!member) throw new LogNotMemberError('this node is not an active member of its org any more')
    written.push(r.eventId)
  }, silentLogger)
  auditor.emit(record(1))
  await auditor.flush()
  assert.equal(auditor.waiting, 1)
  assert.equal(auditor.failures, 0)
  member = true
  auditor.retry()
  await auditor.flush()
  assert.deepEqual(written, [1])
  assert.equal(auditor.waiting, 0)
})

test('a held journal defers too; a log write failure is a failure even if its message mentions membership', async () => {
  const auditor = new Auditor(async (r) => {
    if (Number(r.eventId) === 2) throw new LogHeldError('the journal lacks own ops it signed')
    throw new LogWriteError('received ops could not be journalled (not an active member)')
  }, silentLogger)
  auditor.emit(record(2))
  auditor.emit(record(3))
  await auditor.flush()
  assert.equal(auditor.waiting, 1)
  assert.equal(auditor.failures, 1)
})
