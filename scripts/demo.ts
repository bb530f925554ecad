/**
 * `npm run demo`: a practice on this machine. Site A is founded; site B and a backup node join
 * with invites; a synthetic study is imported at A and becomes readable at B (listed, and
 * exported byte-identical), while the backup holds its encrypted blobs and no key. Every node
 * is a separate `peerpacs start` process on 127.0.0.1; all of them stop at the end (or with
 * --keep, on Ctrl-C). Data dirs live under ./demo (or $PEERPACS_DEMO), made fresh each run.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { KNOWN_PATIENTS, syntheticStudy } from '../test/synthetic/study.ts'
import { cli, nodeStatus, startPeerpacs, type Running } from '../bench/peerpacs-process.ts'

const { values } = parseArgs({ options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
if (values.help === true) {
  console.log('usage: npm run demo [-- --keep]   (--keep: leave the three nodes running until Ctrl-C)')
  process.exit(0)
}
process.umask(0o077)
const root = resolve(process.env.PEERPACS_DEMO ?? './demo')
const running: Running[] = []
const step = (text: string): void => { console.log(`\n== ${text}`) }

async function waitFor (what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function hashes (dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name))
      else out.push(createHash('sha256').update(await readFile(join(d, e.name))).digest('hex'))
    }
  }
  await walk(dir)
  return out.sort()
}

function codeOf (stdout: string): string {
  const record = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => typeof r.code === 'string')
  if (record === undefined) throw new Error('invite printed no code')
  return record.code as string
}

try {
  await rm(root, { recursive: true, force: true })
  await mkdir(root, { recursive: true })
  const a = join(root, 'site-a')
  const b = join(root, 'site-b')
  const backup = join(root, 'backup')

  step('Site A founds the org')
  await cli(['init', '--data', a, '--name', 'Demo Practice', '--recovery-key-out', join(root, 'recovery.key')])
  const nodeA = await startPeerpacs(a, ['--p2p', '/ip4/127.0.0.1/tcp/0'])
  running.push(nodeA)
  console.log(`site A: ${nodeA.ready.nodeId as string} listening on ${nodeA.ready.p2p as string}`)

  step('Site B and a backup node join with invites made by A')
  for (const [dir, role] of [[b, 'site'], [backup, 'backup']] as const) {
    const code = codeOf((await cli(['invite', '--role', role, '--json', '--data', a])).stdout)
    console.log(`invite for a ${role}: ${code.slice(0, 32)}…`)
    await cli(['init', '--join', code, '--data', dir])
    const node = await startPeerpacs(dir, ['--p2p', '/ip4/127.0.0.1/tcp/0'])
    running.push(node)
    console.log(`${role === 'site' ? 'site B' : 'backup'}: ${node.ready.nodeId as string}`)
  }
  await waitFor('A connected to B and the backup', async () => (await nodeStatus(a)).mesh.peers.filter((p: { connected: boolean }) => p.connected).length === 2)

  step('A synthetic study is imported at site A')
  const sample = join(root, 'sample')
  let studyUid = ''
  for (const instance of syntheticStudy({ seed: 7, patient: KNOWN_PATIENTS[1], profile: 'ct', folder: 'study', slices: 8 })) {
    const path = join(sample, instance.relativePath)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, instance.bytes)
    studyUid = instance.studyInstanceUid
  }
  console.log((await cli(['import', sample, '--data', a])).stdout.trim())

  step('Site B receives it: the log first, then every blob, each verified')
  const started = Date.now()
  await waitFor('the study to be local at B', async () => (await nodeStatus(b)).mesh.studies.local === 1)
  console.log(`readable at B ${Date.now() - started} ms after the import returned`)
  console.log((await cli(['studies', '--data', b])).stdout.trim())
  await cli(['export', studyUid, join(root, 'export-a'), '--data', a])
  await cli(['export', studyUid, join(root, 'export-b'), '--data', b])
  const same = JSON.stringify(await hashes(join(root, 'export-a'))) === JSON.stringify(await hashes(join(root, 'export-b')))
  console.log(same ? 'B exports the study byte-identical to A.' : 'B\'s export DIFFERS from A\'s!')

  step('The backup holds the ciphertext and no key')
  await waitFor('the backup to hold every blob', async () => (await nodeStatus(backup)).mesh.studies.local === 1)
  const s = await nodeStatus(backup)
  console.log(`backup: ${s.mesh.studies.local as number} study's blobs held, ${s.instances as number} instances readable (it holds no key)`)
  console.log((await cli(['backup', 'verify', '--all', '--data', a])).stdout.trim())
  console.log((await cli(['status', '--data', a])).stdout.trim())

  if (values.keep === true) {
    console.log('\nThe three nodes keep running; Ctrl-C stops them. Data dirs are under', root)
    await new Promise<void>((r) => process.once('SIGINT', () => r()))
  }
  if (!same) process.exitCode = 1
} finally {
  for (const node of running.reverse()) await node.stop()
}
