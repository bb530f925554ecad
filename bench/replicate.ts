/**
 * `npm run bench:replicate`: issue 5's benchmark. Site A holds a synthetic CT set (imported
 * before the clock starts); site B joins with an invite and starts; the figure is MB/s of
 * sealed blob bytes from B's start (it connects at once) to "every instance verified and
 * indexed at B", beside a raw TCP copy of the same number of bytes between two processes in
 * the same run and the same bytes over bare libp2p streams (the stack's ceiling), with the peak
 * RSS of each. Then the same over a tbf rate-limited link between
 * two network namespaces (goodput as a share of the link), when namespaces are available.
 * Asserts nothing.
 *
 *   npm run bench:replicate -- [--size 1GB] [--link-mbit 20] [--link-size 120MB] [--dir DIR] [--json]
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseSize } from '../test/synthetic/cli.ts'
import { writeSyntheticSet } from '../test/synthetic/write-set.ts'
import { createLimitedLink, netnsAvailable } from '../test/helpers/netns-link.ts'
import { cli, nodeStatus, startPeerpacs } from './peerpacs-process.ts'
import { rawTcpCopy } from './raw-tcp-copy.ts'
import { libp2pCopy } from './libp2p-copy.ts'

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1GB' },
    'link-mbit': { type: 'string', default: '20' },
    'link-size': { type: 'string', default: '120MB' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  }
})
if (values.help === true) {
  console.log('usage: npm run bench:replicate -- [--size 1GB] [--link-mbit 20 (0: skip)] [--link-size 120MB] [--dir DIR] [--json]')
  process.exit(0)
}
const MB = 1e6
function say (line: string): void { if (values.json !== true) console.log(line) }

async function blobBytes (data: string): Promise<number> {
  let total = 0
  const root = join(data, 'blobs')
  for (const shard of await readdir(root)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of await readdir(join(root, shard))) total += (await stat(join(root, shard, name))).size
  }
  return total
}

async function waitLocal (data: string, ns: string | undefined, total: number): Promise<void> {
  for (;;) {
    const s = await nodeStatus(data, ns).catch(() => ({} as Record<string, any>))
    const studies = s.mesh?.studies
    if (studies !== undefined && studies.local === total && studies.partial === 0 && studies.remoteOnly === 0) return
    await new Promise((resolve) => setTimeout(resolve, ns === undefined ? 100 : 500))
  }
}

interface Pair { seconds: number, bytes: number, mbPerSecond: number, rssA: number, rssB: number }

/** A founded with `set` imported; B joins and starts; timed until B holds it all. */
async function replicate (work: string, set: string, studies: number, ns?: { a: string, b: string, addrA: string }): Promise<Pair> {
  const a = join(work, 'a')
  const b = join(work, 'b')
  await mkdir(work, { recursive: true })
  await cli(['init', '--data', a, '--name', 'Bench', '--recovery-key-out', join(work, 'recovery.key')], ns?.a)
  await cli(['import', set, '--data', a], ns?.a)
  const bytes = await blobBytes(a)
  const listenA = ns === undefined ? '/ip4/127.0.0.1/tcp/0' : `/ip4/${ns.addrA}/tcp/4001`
  const nodeA = await startPeerpacs(a, ['--p2p', listenA], ns?.a)
  try {
    const invite = await cli(['invite', '--role', 'site', '--json', '--data', a], ns?.a)
    const code = invite.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>).find((r) => typeof r.code === 'string')!.code as string
    await cli(['init', '--join', code, '--data', b], ns?.b)
    const listenB = ns === undefined ? '/ip4/127.0.0.1/tcp/0' : '/ip4/0.0.0.0/tcp/4001'
    const nodeB = await startPeerpacs(b, ['--p2p', listenB], ns?.b)
    // From B's readiness (it dials A at once), not its process start.
    const started = process.hrtime.bigint()
    try {
      await waitLocal(b, ns?.b, studies)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      return { seconds, bytes, mbPerSecond: bytes / MB / seconds, rssA: nodeA.peakRss(), rssB: nodeB.peakRss() }
    } finally { await nodeB.stop() }
  } finally { await nodeA.stop() }
}

async function syntheticSet (dir: string, bytes: number, seed: number): Promise<{ dir: string, studies: number }> {
  const summary = await writeSyntheticSet(dir, { seed, targetBytes: bytes, profile: 'ct' })
  return { dir, studies: summary.studies.length }
}

const size = parseSize(values.size!)
const root = values.dir ?? await mkdtemp(join(tmpdir(), 'peerpacs-bench-replicate-'))
try {
  say(`generating a ${values.size} synthetic CT set…`)
  const setDir = join(root, `set-${size}`)
  const set = existsSync(setDir) ? { dir: setDir, studies: (await readdir(setDir)).length } : await syntheticSet(setDir, size, 51)
  const work = join(root, `run-${Date.now()}`)
  say('replicating A → B on loopback…')
  const loop = await replicate(work, set.dir, set.studies)
  const raw = await rawTcpCopy({ bytes: loop.bytes })
  const stack = await libp2pCopy({ bytes: loop.bytes, streams: 4 })
  const result: Record<string, unknown> = { loopback: loop, rawTcp: raw, libp2p: stack }
  say('')
  say(`loopback, ${(loop.bytes / MB).toFixed(0)} MB sealed in ${set.studies} studies:`)
  say(`  peerpacs A → B   ${loop.mbPerSecond.toFixed(1).padStart(7)} MB/s   ${loop.seconds.toFixed(1)} s   peak RSS A ${(loop.rssA / MB).toFixed(0)} MB, B ${(loop.rssB / MB).toFixed(0)} MB`)
  say(`  raw TCP copy     ${raw.mbPerSecond.toFixed(1).padStart(7)} MB/s   ${raw.seconds.toFixed(1)} s   peak RSS ${(raw.peakRssBytes / MB).toFixed(0)} MB`)
  say(`  libp2p alone     ${stack.mbPerSecond.toFixed(1).padStart(7)} MB/s   ${stack.seconds.toFixed(1)} s   peak RSS ${(stack.peakRssBytes / MB).toFixed(0)} MB   (TCP+Noise+Yamux, 4 streams, no disk: the mandated stack's ceiling)`)
  say('  target: ≥ 150 MB/s with ≤ 250 MB RSS (Orthanc ~110, Syncthing ~140-170 MB/s measured here)')

  const mbit = Number(values['link-mbit'])
  if (mbit > 0) {
    const available = await netnsAvailable()
    if (!available.ok) {
      say(`rate-limited link: skipped (${available.reason})`)
      result.link = { skipped: available.reason }
    } else {
      const linkBytes = parseSize(values['link-size']!)
      const linkSetDir = join(root, `set-${linkBytes}`)
      const linkSet = existsSync(linkSetDir) ? { dir: linkSetDir, studies: (await readdir(linkSetDir)).length } : await syntheticSet(linkSetDir, linkBytes, 52)
      const link = await createLimitedLink({ rateMbit: mbit })
      try {
        say(`replicating A → B over a ${mbit} Mbit/s tbf link…`)
        const limited = await replicate(join(root, `link-${Date.now()}`), linkSet.dir, linkSet.studies, { a: link.nsA, b: link.nsB, addrA: link.addrA })
        const linkMBps = mbit * 1e6 / 8 / MB
        result.link = { ...limited, mbit, share: limited.mbPerSecond / linkMBps }
        say(`  peerpacs A → B   ${limited.mbPerSecond.toFixed(2)} MB/s of a ${linkMBps.toFixed(2)} MB/s link = ${(100 * limited.mbPerSecond / linkMBps).toFixed(0)}% goodput (target ≥ 90%), ${limited.seconds.toFixed(1)} s from B's readiness`)
      } finally { await link.close() }
    }
  }
  if (values.json === true) console.log(JSON.stringify(result))
} finally {
  if (values.dir === undefined) await rm(root, { recursive: true, force: true })
}
