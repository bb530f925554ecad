/**
 * Three sites of one practice, each a separate `peerpacs start` process on 127.0.0.1: B and C
 * join with invites made by A. A study stored at A by dcmtk's storescu becomes readable at B and
 * C: each exports it byte-identical to A's export, and all three end with the same log heads.
 * The mesh's status shows the peers connected and the study local everywhere.
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

async function exportHashes (node: MeshNode, studyUid: string, dir: string): Promise<Map<string, string>> {
  const r = await runCli(['export', studyUid, dir, '--data', node.data])
  assert.equal(r.code, 0, `${node.name}: ${show(r)}`)
  const out = new Map<string, string>()
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else out.set(p.slice(dir.length), sha256Hex(await readFile(p)))
    }
  }
  await walk(dir)
  return out
}

test('a study stored at A by storescu is exported byte-identical at B and C; the logs converge', async (t) => {
  const root = await tempDir(t, 'peerpacs-three-')
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  const c = await joinSite(t, a, 'C')

  for (const node of [a, b, c]) {
    await waitFor(`${node.name} connected to both others`, async () => {
      const s = await status(node)
      return (s.mesh.peers as Array<{ connected: boolean }>).filter((p) => p.connected).length === 2
    })
  }

  const set = await writeStudies(join(root, 'in'), [{ seed: 501, patient: KNOWN_PATIENTS[2], profile: 'ct', slices: 4 }])
  const studyUid = set.instances[0]!.studyInstanceUid
  await run('storescu', ['-aet', 'MODALITY', '-aec', 'PEERPACS', '+sd', '+r', '127.0.0.1', String(a.process.dicomPort), set.dir], { env: childEnv({ TCP_NODELAY: '1' }) })

  for (const node of [a, b, c]) await waitForStudies(node, 1)
  const reference = await exportHashes(a, studyUid, join(root, 'export-a'))
  assert.equal(reference.size, set.instances.length, 'A exports every instance storescu sent')
  for (const node of [b, c]) {
    const got = await exportHashes(node, studyUid, join(root, `export-${node.name}`))
    assert.deepEqual([...got.entries()].sort(), [...reference.entries()].sort(), `${node.name} exports the study byte-identical to A`)
  }

  const heads = await waitFor('the same log heads at A, B and C', async () => {
    const all = await Promise.all([a, b, c].map(async (n) => JSON.stringify((await status(n)).mesh.log.heads)))
    return all.every((h) => h === all[0]) ? all[0] : undefined
  })
  assert.ok(JSON.parse(heads!).length >= 1)
  // A joined node writes its start record once the mesh brought its keys; the audit trail replicates.
  const startsAtA = await waitFor('B\'s and C\'s start records at A', async () => {
    const r = await runCli(['audit', '--event', '110100', '--json', '--data', a.data])
    const text = r.stdout
    return [b, c].every((n) => text.includes(n.process.peerId)) ? text : undefined
  })
  assert.ok(startsAtA.length > 0)
  await waitFor('A to count B and C 0 ops behind', async () => (await status(a)).mesh.peers.every((p: { opsBehind?: number }) => p.opsBehind === 0))
  for (const node of [b, c]) {
    const s = await status(node)
    const peerA = (s.mesh.peers as Array<Record<string, any>>).find((p) => p.peer === a.process.peerId)
    assert.ok(peerA?.connected === true && typeof peerA.lastSync === 'string', `${node.name} shows A connected with a last sync time`)
  }
})
