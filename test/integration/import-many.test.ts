/**
 * Issue 18: one `peerpacs import` of 10,000 studies failed at its end ("110107 record.objects:
 * expected 0..1024 entries, got 20000") although the studies were stored. An import of more
 * studies than one audit record may name now succeeds, exits 0, and its 110107 Import is
 * written in parts (protocol/audit/parts.ts) that together name every study and patient, each
 * findable with `peerpacs audit --study`, and the trail verifies.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, show } from '../helpers/cli.ts'
import { tempDir } from '../helpers/files.ts'
import { writeManyStudies } from '../synthetic/many-studies.ts'

const STUDIES = 1030 // of 1030 patients: 2060 objects, twice what one record may name

test(`a real import of ${STUDIES} studies exits 0 and the audit trail names every study`, { timeout: 240_000 }, async (t) => {
  const root = await tempDir(t, 'peerpacs-import-many-')
  const data = join(root, 'data')
  const set = await writeManyStudies(join(root, 'in'), STUDIES, 18)
  assert.equal((await runCli(['init', '--data', data])).code, 0)

  const started = performance.now()
  const imported = await runCli(['import', '--data', data, '--json', set.dir])
  t.diagnostic(`import of ${STUDIES} one-instance studies: ${((performance.now() - started) / 1000).toFixed(1)} s`)
  assert.equal(imported.code, 0, show(imported))
  assert.doesNotMatch(imported.stderr, /warning|error/i, show(imported))
  const summary = imported.records.find((r) => r.type === 'summary')!
  assert.equal(summary.imported, STUDIES)
  assert.deepEqual(summary.audit, { type: 'audit', studies: STUDIES, records: 3, written: 3 })

  const trail = await runCli(['audit', '--data', data, '--json', '--event', '110107'])
  assert.equal(trail.code, 0, show(trail))
  const parts = trail.records.filter((r) => r.type === 'audit')
  assert.equal(parts.length, 3)
  // In order: the parts share the event's time, and the trail lists them in the node's chain order.
  assert.deepEqual(parts.map((p) => p.outcomeDescription), [
    `part 1 of 3 (studies 1–512 of ${STUDIES})`, `part 2 of 3 (studies 513–1024 of ${STUDIES})`, `part 3 of 3 (studies 1025–${STUDIES} of ${STUDIES})`
  ])
  const objects = parts.flatMap((p) => p.objects as Array<{ id: string, roleCode: number, idTypeCode: { code: string } }>)
  assert.deepEqual(objects.filter((o) => o.idTypeCode.code === '110180').map((o) => o.id).sort(), set.studies.map((s) => s.studyInstanceUid).sort(), 'every study, once')
  assert.deepEqual(objects.filter((o) => o.roleCode === 1).map((o) => o.id).sort(), set.studies.map((s) => s.patientId).sort(), 'every patient, once')

  // An auditor asking about one study finds it, whichever part names it.
  for (const s of [set.studies[600]!, set.studies.at(-1)!]) {
    const one = await runCli(['audit', '--data', data, '--json', '--study', s.studyInstanceUid])
    assert.equal(one.code, 0, show(one))
    assert.deepEqual(one.records.filter((r) => r.type === 'audit').map((r) => r.eventId.code), ['110107'], s.studyInstanceUid)
  }
  // The table shows the study asked for first, and counts the rest of its part (--json lists them all).
  const wanted = set.studies[700]!.studyInstanceUid
  const table = await runCli(['audit', '--data', data, '--study', wanted])
  assert.equal(table.code, 0, show(table))
  assert.match(table.stdout, new RegExp(`110107 Import .* ${wanted.replaceAll('.', '\\.')},[0-9.,]+ \\+509 more`), show(table))
  const verify = await runCli(['audit', 'verify', '--data', data])
  assert.equal(verify.code, 0, show(verify))
})
