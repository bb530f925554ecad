/**
 * `peerpacs backup verify` on a site: every block the backup holds is checked against the
 * signed log. A blob deleted on the backup and a blob with one flipped byte are named (missing,
 * damaged); the backup, having found its copies bad while answering, fetches them again from the
 * site, after which the next verification is clean. The result is audited and shown in status.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseRecords, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { tempDir } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

async function blobFiles (data: string): Promise<string[]> {
  const out: string[] = []
  for (const shard of await readdir(join(data, 'blobs'))) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of await readdir(join(data, 'blobs', shard))) out.push(join(data, 'blobs', shard, name))
  }
  return out.sort()
}

test('backup verify names a missing and a damaged blob; the backup repairs them from the site', async (t) => {
  const root = await tempDir(t, 'peerpacs-backup-verify-')
  const a = await founder(t, 'A')
  const backup = await joinSite(t, a, 'backup', 'backup')
  const set = await writeStudies(join(root, 'in'), [{ seed: 311, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 6 }])
  assert.equal((await runCli(['import', set.dir, '--data', a.data])).code, 0)
  await waitFor('the backup to hold the study', async () => (await status(backup)).mesh.studies.local === 1)

  const clean = await runCli(['backup', 'verify', '--all', '--json', '--data', a.data])
  assert.equal(clean.code, 0, show(clean))
  const summary = parseRecords(clean.stdout).find((r) => r.type === 'summary')!
  assert.ok(summary.checked >= set.instances.length && summary.ok === summary.checked, JSON.stringify(summary))

  const files = await blobFiles(backup.data)
  assert.ok(files.length >= 2)
  const [gone, flipped] = [files[0]!, files[1]!]
  await rm(gone)
  const bytes = await readFile(flipped)
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01
  await writeFile(flipped, bytes)

  const found = await runCli(['backup', 'verify', '--all', '--json', '--data', a.data])
  assert.equal(found.code, 1, show(found))
  const problems = parseRecords(found.stdout).filter((r) => r.type === 'problem')
  const blobOf = (path: string): string => path.split('/').pop()!
  assert.ok(problems.some((p) => p.blob === blobOf(gone) && p.outcome === 'missing'), `the deleted blob is named missing: ${JSON.stringify(problems)}`)
  assert.ok(problems.some((p) => p.blob === blobOf(flipped) && p.outcome === 'damaged'), `the flipped blob is named damaged: ${JSON.stringify(problems)}`)
  assert.deepEqual(new Set(problems.map((p) => p.blob)), new Set([blobOf(gone), blobOf(flipped)]), 'nothing else is reported')

  await waitFor('the backup to repair itself from A', async () => (await runCli(['backup', 'verify', '--all', '--data', a.data])).code === 0, 60_000)
  const s = await status(a)
  assert.equal(s.mesh.backupVerification.problems.length, 0)
  const audit = await runCli(['audit', '--event', '110113', '--json', '--data', a.data])
  assert.match(audit.stdout, /backup verification/)
})
