/**
 * Disaster recovery: site A and a backup; A's data dir is deleted. `peerpacs restore` on a fresh
 * dir with the recovery key rebuilds a site from the backup: every study exports byte-identical
 * to what A exported, fsck and audit verify pass, and the audit trail holds A's history and the
 * restore itself. A wrong recovery key is refused and writes nothing. A second restore killed
 * with kill -9 while fetching blobs resumes when run again and finishes.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { randomBytes } from 'node:crypto'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { encodeRecoveryKey } from '../../../protocol/recovery-key.ts'
import { CLI, childEnv, parseRecords, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { sha256Hex, tempDir } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const run = promisify(execFile)

async function exportHashes (data: string, studyUid: string, dir: string): Promise<string[]> {
  const r = await runCli(['export', studyUid, dir, '--data', data])
  assert.equal(r.code, 0, show(r))
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) e.isDirectory() ? await walk(join(d, e.name)) : out.push(`${join(d, e.name).slice(dir.length)} ${sha256Hex(await readFile(join(d, e.name)))}`)
  }
  await walk(dir)
  return out.sort()
}

test('restore from the backup with the recovery key: identical studies and audit history; a wrong key writes nothing; an interrupted restore resumes', async (t) => {
  const root = await tempDir(t, 'peerpacs-restore-')
  const a = await founder(t, 'A')
  const recoveryKey = join(a.data, '..', 'recovery.key')
  const backup = await joinSite(t, a, 'backup', 'backup')
  const set = await writeStudies(join(root, 'in'), [
    { seed: 321, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 4 },
    { seed: 322, patient: KNOWN_PATIENTS[1], profile: 'mixed' }
  ])
  // One large object too, so the second restore is still fetching when it is killed.
  const bigDir = join(root, 'big')
  await run('mkdir', ['-p', bigDir])
  const big = join(bigDir, 'big.dcm')
  await copyFile(set.instances[0]!.path, big)
  await writeFile(join(root, 'px.raw'), randomBytes(512 * 512 * 2 * 120))
  await run('dcmodify', ['-nb', '-m', '(0028,0010)=512', '-m', '(0028,0011)=512', '-i', '(0028,0008)=120', '-m', '(0008,0018)=2.25.999000111', '-if', `(7fe0,0010)=${join(root, 'px.raw')}`, big])
  for (const dir of [set.dir, bigDir]) assert.equal((await runCli(['import', dir, '--data', a.data])).code, 0)
  const studyUids = [...set.studies.keys()]
  await waitFor('the backup to hold every blob', async () => (await status(backup)).mesh.studies.local === studyUids.length, 120_000)
  const reference = new Map<string, string[]>()
  for (const uid of studyUids) reference.set(uid, await exportHashes(a.data, uid, join(root, `ref-${uid.slice(-6)}`)))
  const auditBefore = parseRecords((await runCli(['audit', '--json', '--data', a.data])).stdout).filter((r) => r.type === 'audit').length
  assert.ok(auditBefore > 0)

  // Site A is lost.
  await a.process.stop('SIGTERM')
  await rm(a.data, { recursive: true, force: true })
  const from = backup.process.p2p[0]!

  // A wrong recovery key: refused, nothing written.
  const wrongKey = join(root, 'wrong.key')
  await writeFile(wrongKey, encodeRecoveryKey(nobleProvider, randomBytes(32)) + '\n')
  const wrong = await runCli(['restore', '--from', from, '--recovery-key', wrongKey, '--data', join(root, 'never')])
  assert.equal(wrong.code, 4, show(wrong))
  assert.match(wrong.stderr, /not the recovery key/)
  await assert.rejects(stat(join(root, 'never')), 'nothing was written')

  // The right key.
  const r = join(root, 'restored')
  const restored = await runCli(['restore', '--from', from, '--recovery-key', recoveryKey, '--data', r, '--json'])
  assert.equal(restored.code, 0, show(restored))
  for (const uid of studyUids) assert.deepEqual(await exportHashes(r, uid, join(root, `got-${uid.slice(-6)}`)), reference.get(uid), `study ${uid} exports byte-identical`)
  assert.equal((await runCli(['fsck', '--data', r])).code, 0)
  const verify = await runCli(['audit', 'verify', '--data', r])
  assert.equal(verify.code, 0, show(verify))
  const audit = parseRecords((await runCli(['audit', '--json', '--data', r])).stdout).filter((x) => x.type === 'audit')
  assert.ok(audit.length > auditBefore, `A's audit history (${auditBefore}) and the restore are there (${audit.length})`)
  assert.match(JSON.stringify(audit), /org restored from its backup with the recovery key/)

  // A second restore, killed while fetching blobs, then run again.
  const r2 = join(root, 'second')
  const child = spawn(process.execPath, [CLI, 'restore', '--from', from, '--recovery-key', recoveryKey, '--data', r2], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const exited = once(child, 'exit')
  let killed = false
  while (child.exitCode === null) {
    const parts = await readdir(join(r2, 'partial')).catch(() => [] as string[])
    if (parts.length > 0) { child.kill('SIGKILL'); killed = true; break }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await exited
  assert.ok(killed, 'the restore was killed while fetching blobs')
  const resumed = await runCli(['restore', '--from', from, '--recovery-key', recoveryKey, '--data', r2])
  assert.equal(resumed.code, 0, show(resumed))
  for (const uid of studyUids) assert.deepEqual(await exportHashes(r2, uid, join(root, `got2-${uid.slice(-6)}`)), reference.get(uid))
  assert.equal((await runCli(['fsck', '--data', r2])).code, 0)
})
