/**
 * Invariants 4 and 5 against damage at rest: a flipped byte, a truncated blob, two blobs
 * swapped, a deleted blob. fsck (with keys and keyless) names each; export refuses exactly
 * those instances and still writes the others byte-identical; fsck --repair sets them aside
 * and a re-import of the originals restores a clean archive.
 */
import assert from 'node:assert/strict'
import { readFile, rename, truncate, unlink, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { it } from 'node:test'
import { runCli, show } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { listFiles, tempDir } from '../helpers/files.ts'
import { KNOWN_PATIENTS } from '../synthetic/study.ts'

it('damaged blobs are reported, never exported, and repairable from the originals', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), [{ seed: 21, patient: KNOWN_PATIENTS[2]!, profile: 'mixed' }])
  const [studyUid] = set.studies.keys()
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  assert.equal((await runCli(['import', '--data', data, set.dir])).code, 0)

  const blobs = (await listFiles(join(data, 'blobs'))).filter((f) => !f.includes('/blobs/tmp/'))
  assert.equal(blobs.length, set.instances.length)
  const [flipped, truncated, swapA, swapB, deleted] = blobs as [string, string, string, string, string]
  const bytes = await readFile(flipped)
  const middle = Math.floor(bytes.length / 2)
  bytes[middle] = bytes[middle]! ^ 0x01
  await writeFile(flipped, bytes)
  await truncate(truncated, (await readFile(truncated)).length - 100)
  await rename(swapA, `${swapA}.tmp`)
  await rename(swapB, swapA)
  await rename(`${swapA}.tmp`, swapB)
  await unlink(deleted)
  const damaged = new Set([flipped, truncated, swapA, swapB, deleted].map((p) => basename(p)))

  // fsck with keys: one error per damaged instance, each naming its blob and saying what to do.
  const full = await runCli(['fsck', '--data', data, '--json'])
  assert.equal(full.code, 1, show(full))
  const problems = full.records.filter((r) => r.type === 'problem')
  assert.equal(problems.length, damaged.size, show(full))
  const named = new Set<string>()
  for (const p of problems) {
    assert.equal(p.severity, 'error')
    assert.equal(p.kind, 'instance-damaged')
    assert.match(p.action, /re-import the original file \(it replaces the damaged copy\)/)
    const id = /blob ([0-9a-f]{64})/.exec(p.object)![1]!
    named.add(id)
  }
  assert.deepEqual(named, damaged)
  assert.match(full.stdout, /"kind":"instance-damaged".*block 0 of 1 does not match|does not match its hash/s)

  // Keyless: the same blobs, found from hashes alone.
  const keyless = await runCli(['fsck', '--data', data, '--keyless', '--json'])
  assert.equal(keyless.code, 1, show(keyless))
  assert.deepEqual(new Set(keyless.records.filter((r) => r.type === 'problem').map((p) => /blob ([0-9a-f]{64})/.exec(p.object)![1])), damaged)

  // Export: the damaged ones are refused, the rest are written byte-identical.
  const out = join(root, 'out')
  const exported = await runCli(['export', '--data', data, '--json', studyUid!, out])
  assert.equal(exported.code, 1, show(exported))
  const failed = exported.records.filter((r) => r.type === 'instance' && r.status === 'failed')
  assert.equal(failed.length, damaged.size)
  const files = await listFiles(out)
  assert.equal(files.length, set.instances.length - damaged.size, 'no partial or damaged file is left in the export folder')
  for (const file of files) {
    const instance = set.bySop.get(basename(file, '.dcm'))!
    assert.deepEqual(new Uint8Array(await readFile(file)), instance.bytes)
  }
  for (const f of failed) assert.ok(!files.some((file) => file.includes(f.sopInstanceUid)))

  // Repair, then re-import the originals: clean again, and everything exports.
  const repair = await runCli(['fsck', '--data', data, '--repair', '--json'])
  assert.equal(repair.code, 1, show(repair))
  assert.ok(repair.records.filter((r) => r.type === 'problem').every((p) => typeof p.repaired === 'string'))
  assert.equal((await listFiles(join(data, 'quarantine'))).length, damaged.size - 1, 'the damaged blobs that existed are kept in quarantine')
  const clean = await runCli(['fsck', '--data', data, '--json'])
  assert.equal(clean.code, 0, show(clean))
  const reimport = await runCli(['import', '--data', data, '--json', set.dir])
  assert.equal(reimport.code, 0, show(reimport))
  const summary = reimport.records.find((r) => r.type === 'summary')!
  assert.equal(summary.imported, damaged.size)
  assert.equal(summary.duplicates, set.instances.length - damaged.size)
  const out2 = join(root, 'out2')
  assert.equal((await runCli(['export', '--data', data, studyUid!, out2])).code, 0)
  for (const file of await listFiles(out2)) assert.deepEqual(new Uint8Array(await readFile(file)), set.bySop.get(basename(file, '.dcm'))!.bytes)
  assert.equal((await listFiles(out2)).length, set.instances.length)
  assert.equal((await runCli(['fsck', '--data', data])).code, 0)
})
