/**
 * A member that misbehaves (test/helpers/rogue-peer.ts, its own process with a real member's
 * key): garbage frames, an oversized frame, a forged op, a block that does not match its hash.
 * Site A rejects each, hangs up on the sender, raises a security alert (110113) naming it, and
 * goes on: afterwards a study stored at A still reaches the honest site C, and A's log verifies.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { childEnv, parseRecords, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { tempDir } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const run = promisify(execFile)
const ROGUE = fileURLToPath(new URL('../../helpers/rogue-peer.ts', import.meta.url))

async function rogue (t: { after: (fn: () => void) => void }, data: string, target: string, kind: string): Promise<Record<string, any>> {
  const child = spawn(process.execPath, [ROGUE, '--data', data, '--target', target, '--kind', kind], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'exit') as [number | null]
  assert.equal(code, 0, `rogue ${kind} failed:\n${stdout}\n${stderr}`)
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>
}

test('garbage, oversized frames, a forged op and a bad block: rejected, disconnected, audited; honest sync goes on', async (t) => {
  const root = await tempDir(t, 'peerpacs-hostile-')
  const a = await founder(t, 'A')
  const c = await joinSite(t, a, 'C')
  const kinds = ['garbage', 'oversized', 'forged-op', 'bad-block']
  // One member per misbehaviour (a misbehaving peer is kept out for a minute after its first offence).
  const rogues = []
  for (const kind of kinds) {
    const node = await joinSite(t, a, `R-${kind}`)
    await waitFor(`${kind} member synced with A`, async () => (await status(node)).mesh.peers.some((p: { connected: boolean, lastSync?: string }) => p.connected && p.lastSync !== undefined))
    assert.equal(await node.process.stop('SIGTERM'), 0)
    rogues.push({ kind, node })
  }
  const target = a.process.p2p[0]!
  const results = await Promise.all(rogues.map(async ({ kind, node }) => await rogue(t, node.data, target, kind)))
  for (const r of results) {
    assert.equal(r.disconnected, true, `A hung up on the ${r.kind as string} member`)
    assert.ok(a.process.logs().some((l) => l.event === 'mesh.violation' && l.peer === r.peerId), `A logged the ${r.kind as string} violation`)
  }
  assert.ok(results.find((r) => r.kind === 'bad-block')!.blockRequests > 0, 'A asked the rogue for the blob\'s blocks')

  const audit = await runCli(['audit', '--event', '110113', '--json', '--data', a.data])
  assert.equal(audit.code, 0, show(audit))
  const text = JSON.stringify(parseRecords(audit.stdout))
  for (const r of results) assert.ok(text.includes(r.peerId as string), `the ${r.kind as string} member is named in a security alert`)

  const set = await writeStudies(join(root, 'in'), [{ seed: 701, patient: KNOWN_PATIENTS[3], profile: 'ct', slices: 2 }])
  await run('storescu', ['-aet', 'MODALITY', '-aec', 'PEERPACS', '+sd', '+r', '127.0.0.1', String(a.process.dicomPort), set.dir], { env: childEnv({ TCP_NODELAY: '1' }) })
  await waitFor('C to hold the new study', async () => (await status(c)).mesh.studies.list.some((s: { holding: string, instances: number }) => s.holding === 'local' && s.instances === set.instances.length))
  const verify = await runCli(['log', 'verify', '--data', a.data])
  assert.equal(verify.code, 0, show(verify))
})
