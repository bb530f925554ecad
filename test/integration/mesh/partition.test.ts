/**
 * Offline for a while: site C is stopped; meanwhile a study is stored at A (storescu) and another
 * imported at C with the node stopped (`peerpacs import` opens the data dir itself). When C
 * starts again, the three sites converge: the same log heads, both studies local at every
 * site, and every study exports byte-identical everywhere.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { childEnv, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { sha256Hex, tempDir } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor, waitForStudies, type MeshNode } from '../../helpers/mesh.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const run = promisify(execFile)

async function exported (node: MeshNode, studyUid: string, dir: string): Promise<string[]> {
  const r = await runCli(['export', studyUid, dir, '--data', node.data])
  assert.equal(r.code, 0, `${node.name}: ${show(r)}`)
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else out.push(`${p.slice(dir.length)} ${sha256Hex(await readFile(p))}`)
    }
  }
  await walk(dir)
  return out.sort()
}

test('a partitioned site catches up: same heads, same catalogue, same blobs at all three', async (t) => {
  const root = await tempDir(t, 'peerpacs-partition-')
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  const c = await joinSite(t, a, 'C')
  await waitFor('C connected to A and B', async () => (await status(c)).mesh.peers.filter((p: { connected: boolean }) => p.connected).length === 2)

  assert.equal(await c.process.stop('SIGTERM'), 0)
  const atA = await writeStudies(join(root, 'a'), [{ seed: 601, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 3 }])
  const atC = await writeStudies(join(root, 'c'), [{ seed: 602, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 2 }])
  await run('storescu', ['-aet', 'MODALITY', '-aec', 'PEERPACS', '+sd', '+r', '127.0.0.1', String(a.process.dicomPort), atA.dir], { env: childEnv({ TCP_NODELAY: '1' }) })
  const imported = await runCli(['import', atC.dir, '--data', c.data])
  assert.equal(imported.code, 0, show(imported))
  await waitForStudies(b, 1)

  await c.restart()
  for (const node of [a, b, c]) await waitForStudies(node, 2)
  await waitFor('the same heads everywhere', async () => {
    const heads = await Promise.all([a, b, c].map(async (n) => JSON.stringify((await status(n)).mesh.log.heads)))
    return heads.every((h) => h === heads[0])
  })
  for (const study of [atA.instances[0]!.studyInstanceUid, atC.instances[0]!.studyInstanceUid]) {
    const reference = await exported(a, study, join(root, `x-a-${study.slice(-6)}`))
    assert.ok(reference.length > 0)
    for (const node of [b, c]) assert.deepEqual(await exported(node, study, join(root, `x-${node.name}-${study.slice(-6)}`)), reference, `${node.name}: ${study}`)
  }
})
