/**
 * Invariant 4: an acknowledged write is durable and a kill never corrupts the store. An import
 * is killed with SIGKILL at random points, several times over one data dir: after each kill fsck
 * finds no error, and every instance the import had reported imported exports byte-identical.
 * A last import without a kill completes the set.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { parseRecords, runCli, show, spawnCli } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { listFiles, tempDir } from '../helpers/files.ts'
import { KNOWN_PATIENTS } from '../synthetic/study.ts'
import { Prng } from '../synthetic/prng.ts'

const RUNS = 6
const SEED = 20261124

it('kill -9 during import never leaves a corrupt store or loses an acknowledged instance', { timeout: 600_000 }, async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), [
    { seed: 31, patient: KNOWN_PATIENTS[0]!, profile: 'mixed', size: 'ct512' },
    { seed: 32, patient: KNOWN_PATIENTS[1]!, profile: 'ct', size: 'ct512', slices: 60 }
  ])
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  const rng = new Prng(SEED)
  const acknowledged = new Set<string>()
  let killedMidImport = 0

  for (let run = 0; run < RUNS; run++) {
    const child = spawnCli(['import', '--data', data, '--json', '--concurrency', '3', set.dir])
    const byEvents = run % 2 === 0
    const killAfterFiles = rng.int(0, 12)
    const killAfterMs = rng.int(300, 1500)
    let stdout = ''
    let filesSeen = 0
    const kill = (): void => { if (child.exitCode === null) child.kill('SIGKILL') }
    const timer = byEvents ? undefined : setTimeout(kill, killAfterMs)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      filesSeen = parseRecords(stdout).filter((r) => r.type === 'file').length
      if (byEvents && filesSeen >= killAfterFiles) setTimeout(kill, rng.int(0, 30))
    })
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
    clearTimeout(timer)
    const where = `run ${run} (seed ${SEED}; ${byEvents ? `after ${killAfterFiles} files` : `after ${killAfterMs} ms`}; exit ${code} ${signal})`
    const records = parseRecords(stdout)
    for (const r of records) if (r.type === 'file' && r.status === 'imported') acknowledged.add(r.sopInstanceUid)
    if (signal === 'SIGKILL' && records.some((r) => r.type === 'scanned') && !records.some((r) => r.type === 'summary')) killedMidImport++

    const fsck = await runCli(['fsck', '--data', data, '--json'])
    assert.equal(fsck.code, 0, `${where}: fsck after the kill\n${show(fsck)}`)
    assert.equal(fsck.records.find((r) => r.type === 'summary')!.errors, 0, where)

    for (const [uid] of set.studies) {
      const out = join(root, `out-${run}-${uid}`)
      const r = await runCli(['export', '--data', data, '--json', uid, out])
      if (r.code === 5) continue // nothing of this study committed yet
      assert.equal(r.code, 0, `${where}: export\n${show(r)}`)
    }
    const exported = new Map<string, string>()
    for (const [uid] of set.studies) {
      for (const file of await listFiles(join(root, `out-${run}-${uid}`)).catch(() => [])) exported.set(file.split('/').pop()!.replace(/\.dcm$/, ''), file)
    }
    for (const sop of acknowledged) {
      const file = exported.get(sop)
      assert.ok(file !== undefined, `${where}: ${sop} was reported imported but does not export`)
      assert.deepEqual(new Uint8Array(await readFile(file)), set.bySop.get(sop)!.bytes, `${where}: ${sop} exports byte-identical`)
    }
  }

  const last = await runCli(['import', '--data', data, '--json', set.dir])
  assert.equal(last.code, 0, show(last))
  const summary = last.records.find((r) => r.type === 'summary')!
  assert.equal(summary.imported + summary.duplicates, set.instances.length)
  assert.ok(killedMidImport >= RUNS / 2, `at least half the kills landed mid-import (${killedMidImport} of ${RUNS})`)
  const fsck = await runCli(['fsck', '--data', data, '--repair', '--json'])
  assert.equal(fsck.code, 0, show(fsck))
  for (const [uid, instances] of set.studies) {
    const out = join(root, `final-${uid}`)
    assert.equal((await runCli(['export', '--data', data, uid, out])).code, 0)
    for (const i of instances) assert.deepEqual(new Uint8Array(await readFile(join(out, i.seriesInstanceUid, `${i.sopInstanceUid}.dcm`))), i.bytes)
  }
  assert.equal((await runCli(['fsck', '--data', data, '--json'])).records.find((r) => r.type === 'summary')!.warnings, 0, 'repair removed the orphans the kills left')
})
