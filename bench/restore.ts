/**
 * `npm run bench:restore`: issue 6's benchmark. Site A holds a synthetic CT set and a backup
 * node holds its copy; A is then gone, and `peerpacs restore` rebuilds a site from the backup
 * with the recovery key on loopback. Prints MB/s of sealed blob bytes over the whole restore
 * (connect, log, keys, every blob fetched, verified and indexed) and the restoring process's
 * peak RSS, beside a raw TCP copy of the same bytes. Asserts nothing.
 *
 *   npm run bench:restore -- [--size 1GB] [--dir DIR] [--json]
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseSize } from '../test/synthetic/cli.ts'
import { writeSyntheticSet } from '../test/synthetic/write-set.ts'
import { cli, nodeStatus, startPeerpacs } from './peerpacs-process.ts'
import { rawTcpCopy } from './raw-tcp-copy.ts'

const { values } = parseArgs({ options: { size: { type: 'string', default: '1GB' }, dir: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
if (values.help === true) { console.log('usage: npm run bench:restore -- [--size 1GB] [--dir DIR] [--json]'); process.exit(0) }
const MB = 1e6
const say = (line: string): void => { if (values.json !== true) console.log(line) }
const records = (stdout: string): Array<Record<string, any>> => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)

const size = parseSize(values.size!)
const root = values.dir ?? await mkdtemp(join(tmpdir(), 'peerpacs-bench-restore-'))
try {
  const setDir = join(root, `set-${size}`)
  if (!existsSync(setDir)) { say(`generating a ${values.size} synthetic CT set…`); await writeSyntheticSet(setDir, { seed: 61, targetBytes: size, profile: 'ct' }) }
  const studies = (await readdir(setDir)).length
  const work = join(root, `run-${Date.now()}`)
  await mkdir(work, { recursive: true })
  const a = join(work, 'a')
  const backup = join(work, 'backup')
  const key = join(work, 'recovery.key')
  await cli(['init', '--data', a, '--name', 'Bench', '--recovery-key-out', key])
  say('importing at A, then replicating to the backup…')
  await cli(['import', setDir, '--data', a])
  const nodeA = await startPeerpacs(a, ['--p2p', '/ip4/127.0.0.1/tcp/0'])
  const code = records((await cli(['invite', '--role', 'backup', '--json', '--data', a])).stdout).find((r) => typeof r.code === 'string')!.code as string
  await cli(['init', '--join', code, '--data', backup])
  const nodeBackup = await startPeerpacs(backup, ['--p2p', '/ip4/127.0.0.1/tcp/0'])
  try {
    for (;;) {
      const s = await nodeStatus(backup).catch(() => ({} as Record<string, any>))
      if (s.mesh?.studies?.local === studies) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    await nodeA.stop()
    say('restoring a new site from the backup with the recovery key…')
    const started = process.hrtime.bigint()
    const r = await cli(['restore', '--from', nodeBackup.ready.p2p.split(' ')[0] as string, '--recovery-key', key, '--data', join(work, 'restored'), '--json'])
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const restored = records(r.stdout).find((x) => x.type === 'restored')!
    const raw = await rawTcpCopy({ bytes: restored.bytes as number })
    const result = { restore: { seconds, bytes: restored.bytes, studies: restored.studies, instances: restored.instances, mbPerSecond: restored.bytes / MB / seconds, peakRssBytes: restored.peakRssBytes, backupPeakRssBytes: nodeBackup.peakRss() }, rawTcp: raw }
    say('')
    say(`restore of ${(restored.bytes / MB).toFixed(0)} MB (${restored.instances} instances in ${restored.studies} studies) from the backup on loopback:`)
    say(`  peerpacs restore ${result.restore.mbPerSecond.toFixed(1).padStart(7)} MB/s   ${seconds.toFixed(1)} s (process start to done)   peak RSS ${(restored.peakRssBytes / MB).toFixed(0)} MB, backup ${(result.restore.backupPeakRssBytes / MB).toFixed(0)} MB`)
    say(`  raw TCP copy     ${raw.mbPerSecond.toFixed(1).padStart(7)} MB/s   ${raw.seconds.toFixed(1)} s   peak RSS ${(raw.peakRssBytes / MB).toFixed(0)} MB`)
    if (values.json === true) console.log(JSON.stringify(result))
  } finally {
    await nodeBackup.stop()
    await nodeA.stop()
  }
} finally {
  if (values.dir === undefined) await rm(root, { recursive: true, force: true })
}
