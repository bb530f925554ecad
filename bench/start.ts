/**
 * `node bench/start.ts --data DIR`: how long a node with DIR's archive takes from `peerpacs start`
 * to its node.ready line, and where that time goes (issue 18, "node start to ready"). DIR is
 * copied first (never started in place). Per run it prints:
 *
 *   - log open: NodeLog.open over the data dir's index in this process (journal read, op decoding
 *     and verification, state replay), with the journal checkpoint removed (every op verified, as
 *     before checkpoints or after a failed check) on one thread and then with the worker pool
 *     (verify-pool.ts), and once with the checkpoint that open wrote;
 *   - start to ready: a `peerpacs start` process until node.ready, with the catalogue load the
 *     node logged (catalogue.loaded ms) and its RSS 2 s after ready.
 *
 *   node bench/start.ts --data DIR [--runs 3] [--log-only] [--cpu-prof DIR]
 *
 * With --cpu-prof, the start processes write V8 CPU profiles there (open with Chrome DevTools or
 * summarise with `node bench/start.ts --summarise FILE.cpuprofile`). Asserts nothing.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Archive } from '../node/archive/archive.ts'
import { unlockKeyring } from '../node/keys/keyring.ts'
import { NodeLog } from '../node/log/node-log.ts'
import { keys } from '../node/store/key-space.ts'
import { provider, random } from '../node/runtime.ts'

const CLI = fileURLToPath(new URL('../node/cli/main.ts', import.meta.url))

const { values } = parseArgs({
  options: { data: { type: 'string' }, runs: { type: 'string', default: '3' }, 'log-only': { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' }, summarise: { type: 'string' } }
})

if (values.summarise !== undefined) {
  summarise(JSON.parse(await readFile(values.summarise, 'utf8')) as Profile)
  process.exit(0)
}
if (values.data === undefined) {
  console.error('usage: node bench/start.ts --data DIR [--runs 3] [--log-only] [--cpu-prof DIR] | --summarise FILE.cpuprofile')
  process.exit(64)
}

/** Times NodeLog.open alone over the data dir's index (the store opened keyless, the keys unlocked apart). */
async function openLog (dir: string, dropCheckpoint: boolean, threads = true): Promise<{ ms: number, cpuMs: number, allCpuMs: number, ops: number, trusted: number }> {
  const archive = await Archive.open(dir, { keys: 'none', passphrase: undefined, provider, random, command: 'bench' })
  try {
    if (dropCheckpoint) await archive.kv.batch([{ type: 'del', key: keys.journalCheckpoint }])
    const keyring = await unlockKeyring(archive.layout.keysDir, undefined, provider)
    const t0 = performance.now()
    const c0 = process.threadCpuUsage()
    const a0 = process.cpuUsage()
    const log = await NodeLog.open(archive.kv, provider, keyring.org.genesisBytes, keyring.nodeKey, threads ? {} : { verifyPool: false })
    const ms = performance.now() - t0
    const cpu = process.threadCpuUsage(c0)
    const all = process.cpuUsage(a0)
    await log.settle()
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, allCpuMs: (all.user + all.system) / 1000, ops: log.opened.entries, trusted: log.opened.trusted }
  } finally {
    await archive.close()
  }
}

async function startToReady (dir: string, profileDir: string | undefined): Promise<{ ms: number, catalogueMs: number | undefined, rss: number }> {
  const flags = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]
  const t0 = performance.now()
  const child = spawn(process.execPath, [...flags, CLI, 'start', '--data', dir, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--p2p', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], { stdio: ['ignore', 'ignore', 'pipe'] })
  try {
    let stderr = ''
    let catalogueMs: number | undefined
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
        const catalogue = /"event":"catalogue.loaded".*?"ms":(\d+)/.exec(stderr)
        if (catalogue !== null) catalogueMs = Number(catalogue[1])
        if (stderr.includes('"event":"node.ready"')) resolve()
      })
      child.once('exit', (code) => { reject(new Error(`peerpacs start exited (${code}) before ready:\n${stderr.slice(-2000)}`)) })
    })
    const ms = performance.now() - t0
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '')
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
    return { ms, catalogueMs, rss }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

const work = await mkdtemp(join(tmpdir(), 'peerpacs-bench-start-'))
try {
  const runs = Number(values.runs)
  for (let run = 1; run <= runs; run++) {
    const dir = join(work, `dd${run}`)
    await cp(values.data, dir, { recursive: true })
    // A data dir written before checkpoints has none: the first open verifies all and writes one.
    const single = await openLog(dir, true, false)
    const full = await openLog(dir, true)
    const trusted = await openLog(dir, false)
    const ms = (r: { ms: number, cpuMs: number, allCpuMs: number }): string => `${r.ms.toFixed(0)} ms (CPU: main thread ${r.cpuMs.toFixed(0)} ms, all threads ${r.allCpuMs.toFixed(0)} ms)`
    const line = `run ${run}: ${full.ops} journal entries; log open verifying every op ${ms(single)} on one thread, ${ms(full)} with worker threads; ` +
      `${ms(trusted)} with ${trusted.trusted} covered by the checkpoint`
    if (values['log-only']) {
      console.log(line)
    } else {
      const start = await startToReady(dir, values['cpu-prof'])
      console.log(`${line}; start to ready ${start.ms.toFixed(0)} ms (catalogue ${start.catalogueMs ?? '?'} ms), RSS 2 s after ready ${(start.rss / 2 ** 20).toFixed(0)} MiB`)
    }
    await rm(dir, { recursive: true, force: true })
  }
} finally {
  await rm(work, { recursive: true, force: true })
}

interface Profile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }>
  samples: number[]
  timeDeltas: number[]
}

/** Prints self time by function and by file, top 25 each. */
function summarise (profile: Profile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const fns = new Map<string, number>()
  const files = new Map<string, number>()
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame
    const file = frame.url.replace(/^.*\/(node_modules\/|work\/main\/)/, '')
    fns.set(`${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`, (fns.get(`${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`) ?? 0) + us)
    files.set(file || frame.functionName, (files.get(file || frame.functionName) ?? 0) + us)
  }
  const top = (m: Map<string, number>): void => {
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`)
  }
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const inclusive = new Map<string, number>()
  for (const [id, us] of self) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      seen.add(`${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules\/|work\/main\/)/, '')}:${frame.lineNumber + 1}`)
    }
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + us)
  }
  console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n-- inclusive time by function`)
  top(inclusive)
  console.log('-- self time by function')
  top(fns)
  console.log('-- self time by file')
  top(files)
}
