/**
 * `importPaths` audits a run once, as one 110107 Import whose parts name every study brought in
 * (protocol/audit/parts.ts); a failure to write that audit after the files are stored is
 * reported in the summary and as an `audit` event, never thrown as a failed import. A real
 * archive and its real audit writer; the fault is a writer that refuses the second part. (The
 * whole path through the CLI, all parts written: test/integration/import-many.test.ts.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { EVENT_ID, ID_TYPE, OBJECT_ROLE } from '../../../../protocol/audit/index.ts'
import { importPaths, type ImportEvent } from '../../../../node/archive/import-files.ts'
import { auditWriter, readAuditTrail } from '../../../../node/audit/audit-trail.ts'
import { Auditor } from '../../../../node/audit/auditor.ts'
import { silentLogger } from '../../../../node/logging/logger.ts'
import { LogWriteError } from '../../../../node/log/node-log.ts'
import { writeManyStudies } from '../../../synthetic/many-studies.ts'
import { memoryArchive } from '../helpers/archive.ts'
import { tempDir } from '../helpers/temp.ts'

const STUDIES = 600 // 600 studies of 600 patients, 1200 objects: two parts

test('an audit write that fails after the files are stored is reported, not thrown: the import stands', async (t) => {
  const { archive } = await memoryArchive(t)
  const set = await writeManyStudies(join(await tempDir(t, 'peerpacs-many-'), 'in'), STUDIES, 4)
  const write = auditWriter(archive)
  let calls = 0
  const failing = new Auditor(async (record) => {
    if (++calls === 2) throw new LogWriteError('injected: the journal could not be written')
    await write(record)
  }, silentLogger)
  const events: ImportEvent[] = []
  const summary = await importPaths(archive, [set.dir], (e) => events.push(e), 3, undefined, failing)
  assert.equal(summary.imported, STUDIES, 'every file is reported imported')
  assert.equal(summary.audit.written, 1)
  assert.equal(summary.audit.records, 2)
  assert.match(summary.audit.problem!, /^1 of the 2 records of one 110107 audit event were written; record 2 failed: injected: the journal could not be written$/)
  assert.ok(events.some((e) => e.type === 'audit' && e.problem !== undefined), 'the CLI is told, to warn')
  const imports = (await readAuditTrail(archive)).map((e) => e.record!).filter((r) => r.eventId === EVENT_ID.import)
  assert.equal(imports.length, 1, 'the part written is in the trail')
  assert.match(imports[0]!.outcomeDescription!, /^part 1 of 2 \(studies 1–512 of 600\)$/)
  const named = imports[0]!.objects.filter((o) => o.idTypeCode === ID_TYPE.studyInstanceUid).map((o) => o.id)
  assert.equal(named.length, 512)
  assert.ok(named.every((uid) => set.studies.some((s) => s.studyInstanceUid === uid)))
  assert.equal(imports[0]!.objects.filter((o) => o.roleCode === OBJECT_ROLE.patient).length, 512)
})
