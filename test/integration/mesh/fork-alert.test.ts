/**
 * A member whose key signs two different ops with one seq (fork-pusher.ts, its own process with
 * a real member's key) pushes both to site A in one push. A keeps both as evidence, shows the
 * fork in status at once (/api/status and `peerpacs status`), says why it refused the second
 * op, and audits a security alert (110113) naming the member.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { childEnv, parseRecords, runCli, show } from '../../helpers/cli.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'

const PUSHER = fileURLToPath(new URL('./fork-pusher.ts', import.meta.url))

async function pushFork (t: { after: (fn: () => void) => void }, data: string, target: string): Promise<{ nodeId: string, seq: number, ops: string[] }> {
  const child = spawn(process.execPath, [PUSHER, '--data', data, '--target', target], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'exit') as [number | null]
  assert.equal(code, 0, `fork-pusher failed:\n${stdout}\n${stderr}`)
  return JSON.parse(stdout.trim().split('\n').pop()!) as { nodeId: string, seq: number, ops: string[] }
}

test('two different ops with one (author, seq) delivered to a node: the fork is in status at once and audited (110113)', async (t) => {
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  await waitFor('B synced with A', async () => (await status(b)).mesh.peers.some((p: { connected: boolean, lastSync?: string }) => p.connected && p.lastSync !== undefined))
  assert.equal(await b.process.stop('SIGTERM'), 0)

  const fork = await pushFork(t, b.data, a.process.p2p[0]!)
  const forks = await waitFor('the fork in A\'s status', async () => { const f = (await status(a)).mesh.log.forks; return f.length > 0 ? f : undefined })
  t.diagnostic(`forks at A: ${JSON.stringify(forks)}`)
  // Whether the member's last ops reached A or not (then both wait for their parents), the two signed ops prove it.
  assert.deepEqual(forks.map((f: Record<string, unknown>) => ({ author: f.author, seq: f.seq, evidence: f.evidence })), [{ author: fork.nodeId, seq: fork.seq, evidence: [...fork.ops].sort() }])
  const fromB = (await status(a)).mesh.peers.find((p: { nodeId: string }) => p.nodeId === fork.nodeId)
  assert.ok(fromB.refused.count >= 1, JSON.stringify(fromB))
  assert.equal(fromB.refused.lastReason, 'fork')
  assert.ok(a.process.logs().some((l) => l.event === 'mesh.fork' && l.peer === fork.nodeId), 'A logged the fork')

  const audit = await waitFor('the fork in A\'s audit trail', async () => {
    const r = await runCli(['audit', '--event', '110113', '--json', '--data', a.data])
    const text = JSON.stringify(parseRecords(r.stdout))
    return r.code === 0 && text.includes(`${fork.nodeId} signed two ops at seq ${fork.seq}`) ? text : undefined
  })
  assert.ok(audit.includes(fork.nodeId))

  const human = await runCli(['status', '--data', a.data])
  assert.equal(human.code, 0, show(human))
  assert.match(human.stdout, new RegExp(`FORK: ${fork.nodeId} signed two different ops at seq ${fork.seq}`))
  assert.match(human.stdout, new RegExp(`Refused from ${fork.nodeId}: \\d+ ops, the last .* because: fork`))
})
