/**
 * `npm run bench:ingest`: issue 3's benchmark. dcmtk `storescu` (TCP_NODELAY=1, one C-STORE
 * outstanding) pushes synthetic CT sets into a peerpacs node, and in the same run into dcmtk's
 * own `storescp` writing to disk, so both figures come from the same machine and moment.
 * Prints MB/s, instances/s and peak RSS (VmHWM) of each receiver, medians over the rounds.
 * Asserts nothing.
 *
 *   npm run bench:ingest -- [--size 100MB,1GB] [--rounds 3] [--mode auto|dimse|core] [--dir DIR] [--keep] [--json]
 *
 * storescp has no fsync option (dcmtk 3.6.7), so it is shown as received and as received plus
 * one `sync` afterwards; the node fsyncs every instance before answering it. Until `peerpacs
 * start` and its DIMSE server exist, `--mode core` (what auto falls back to) measures the ingest
 * core in its own process instead: bench/ingest-core.ts feeds the same files, as bare datasets
 * in 16 KiB pieces, to Pacs.ingestDataset one after another.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { parseSize } from '../test/synthetic/cli.ts'
import { writeSyntheticSet } from '../test/synthetic/write-set.ts'
import { freePort } from './free-port.ts'

const USAGE = `usage: npm run bench:ingest -- [options]

Pushes synthetic CT sets with dcmtk storescu (TCP_NODELAY=1) into a peerpacs node and into
dcmtk storescp, in the same run; prints MB/s, instances/s and peak RSS, medians over rounds.

  --size LIST     set sizes, comma separated (default 100MB,1GB)
  --rounds N      rounds per size (default 3)
  --mode MODE     dimse: storescu into \`peerpacs start\`; core: the ingest core without the
                  network (bench/ingest-core.ts); auto: dimse when \`start\` exists (default)
  --dir DIR       work folder (kept, and its generated sets reused by later runs);
                  default a temp folder, removed at the end
  --keep          keep the temp folder
  --json          print one JSON object instead of the table
  -h, --help      show this text
`

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NODE = process.execPath
const MB = 1e6

interface Run { seconds: number, rssBytes: number }
interface SizeResult {
  size: string, files: number, megabytes: number, mode: string,
  storescp: Run[], storescpSync: number[], peerpacs: Run[]
}

function say (line: string): void { if (values.json !== true) console.log(line) }
function seconds (start: bigint): number { return Number(process.hrtime.bigint() - start) / 1e9 }
function median (xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }


/** Samples VmHWM (peak resident set) of a running process until stopped; returns the last seen. */
function watchRss (pid: number): { stop: () => number } {
  let peak = 0
  const sample = (): void => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (match !== null) peak = Math.max(peak, Number(match[1]) * 1024)
    } catch { /* exited */ }
  }
  const timer = setInterval(sample, 50)
  return { stop: () => { sample(); clearInterval(timer); return peak } }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** Resolves with the first stderr/stdout line that matches, or rejects when the process exits first. */
async function waitForLine<T> (child: ChildProcess, match: (line: string) => T | undefined, timeoutMs = 60_000): Promise<T> {
  return await new Promise((resolve, reject) => {
    let buffered = ''
    let log = ''
    const timer = setTimeout(() => reject(new Error(`timed out waiting for the process to be ready:\n${log}`)), timeoutMs)
    const onData = (data: Buffer): void => {
      buffered += data.toString('utf8')
      log = (log + data.toString('utf8')).slice(-4000)
      let newline
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        const found = match(line)
        if (found !== undefined) { clearTimeout(timer); resolve(found); return }
      }
    }
    child.stderr?.on('data', onData)
    child.stdout?.on('data', onData)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited (${code}) before it was ready:\n${log}`)) })
  })
}

/** Pushes the set; async, so the receivers' output pipes keep being drained meanwhile. */
async function storescu (aet: string, port: number, set: string): Promise<number> {
  const start = process.hrtime.bigint()
  const child = spawn('storescu', ['-aec', aet, '+sd', '+r', '127.0.0.1', String(port), set], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  const took = seconds(start)
  if (code !== 0) throw new Error(`storescu to ${aet} failed (${code}): ${stderr}`)
  return took
}

async function intoStorescp (set: string, out: string): Promise<{ run: Run, withSync: number }> {
  spawnSync('mkdir', ['-p', out])
  const port = await freePort()
  const child = spawn('storescp', ['--output-directory', out, '-aet', 'STORESCP', String(port)], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, TCP_NODELAY: '1' } })
  const rss = watchRss(child.pid!)
  try {
    await waitForPort(port)
    const start = process.hrtime.bigint()
    await storescu('STORESCP', port, set)
    const received = seconds(start)
    spawnSync('sync')
    return { run: { seconds: received, rssBytes: rss.stop() }, withSync: seconds(start) }
  } finally {
    rss.stop()
    await stop(child)
  }
}

async function waitForPort (port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.end(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (up) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listening on port ${port}`)
}

async function intoNode (set: string, data: string): Promise<Run> {
  const port = await freePort()
  const child = spawn(NODE, [join(ROOT, 'bin/peerpacs.js'), 'start', '--data', data, '--dicom', `127.0.0.1:${port}`, '--http', '127.0.0.1:0', '--accept-unknown-ae'],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  const rss = watchRss(child.pid!)
  try {
    const dicomPort = await waitForLine(child, (line) => {
      try {
        const event = JSON.parse(line) as { event?: string, dicomPort?: number }
        return event.event === 'node.ready' ? event.dicomPort ?? port : undefined
      } catch { return undefined }
    })
    const took = await storescu('PEERPACS', dicomPort, set)
    return { seconds: took, rssBytes: rss.stop() }
  } finally {
    rss.stop()
    await stop(child)
  }
}

async function intoCore (set: string, data: string): Promise<Run> {
  const child = spawn(NODE, [join(ROOT, 'bench/ingest-core.ts'), '--data', data, '--set', set], { stdio: ['ignore', 'pipe', 'pipe'] })
  const rss = watchRss(child.pid!)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  const peak = rss.stop()
  if (code !== 0) throw new Error(`ingest-core failed (${code}): ${stderr.slice(-2000)}`)
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number, maxRssBytes: number }
  return { seconds: result.seconds, rssBytes: Math.max(peak, result.maxRssBytes) }
}

function startExists (): boolean {
  if (!existsSync(join(ROOT, 'node/dimse/server.ts'))) return false
  const run = spawnSync(NODE, [join(ROOT, 'bin/peerpacs.js'), 'start', '--help'], { encoding: 'utf8' })
  return run.status === 0
}

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '100MB,1GB' }, rounds: { type: 'string', default: '3' }, mode: { type: 'string', default: 'auto' },
    dir: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }
  }
})
if (values.help === true) { process.stdout.write(USAGE); process.exit(0) }
const sizes = values.size!.split(',').map((s) => s.trim()).filter((s) => s !== '')
const rounds = Number(values.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a positive integer expected')
for (const size of sizes) parseSize(size)
if (spawnSync('storescu', ['--version']).status !== 0) throw new Error('dcmtk storescu/storescp are needed (apt-get install dcmtk)')
const mode = values.mode === 'auto' ? (startExists() ? 'dimse' : 'core') : values.mode
if (mode !== 'dimse' && mode !== 'core') throw new Error(`--mode: auto, dimse or core expected, got ${values.mode}`)

const root = values.dir ?? await mkdtemp(join(tmpdir(), 'peerpacs-bench-ingest-'))
const results: SizeResult[] = []
try {
  say(`peerpacs ingest benchmark, mode ${mode}${mode === 'core' ? ' (no network: `peerpacs start` not available or not asked for)' : ''}`)
  for (const size of sizes) {
    const set = join(root, `set-${size}`)
    // The set is deterministic (seed 2026): one left complete in --dir by an earlier run is reused.
    const marker = `${set}.json`
    let summary: { files: number, bytes: number }
    if (values.dir !== undefined && existsSync(marker)) {
      summary = JSON.parse(readFileSync(marker, 'utf8')) as { files: number, bytes: number }
    } else {
      await rm(set, { recursive: true, force: true })
      const written = await writeSyntheticSet(set, { seed: 2026, targetBytes: parseSize(size), profile: 'ct' })
      summary = { files: written.files, bytes: written.bytes }
      await writeFile(marker, JSON.stringify(summary))
    }
    spawnSync('sync')
    const megabytes = summary.bytes / MB
    say(`\n${size}: ${summary.files} files, ${megabytes.toFixed(0)} MB of synthetic 512×512 CT`)
    const result: SizeResult = { size, files: summary.files, megabytes, mode, storescp: [], storescpSync: [], peerpacs: [] }
    for (let round = 0; round < rounds; round++) {
      const out = join(root, `storescp-${round}`)
      const ref = await intoStorescp(set, out)
      await rm(out, { recursive: true, force: true })
      spawnSync('sync')
      const data = join(root, `data-${round}`)
      const node = mode === 'dimse' ? await intoNode(set, data) : await intoCore(set, data)
      await rm(data, { recursive: true, force: true })
      spawnSync('sync')
      result.storescp.push(ref.run)
      result.storescpSync.push(ref.withSync)
      result.peerpacs.push(node)
      say(`  round ${round + 1}: storescp ${ref.run.seconds.toFixed(2)} s (+sync ${ref.withSync.toFixed(2)} s), peerpacs ${node.seconds.toFixed(2)} s`)
    }
    results.push(result)
    const line = (name: string, secs: number, rss: number | undefined, note: string): void => {
      say(`  ${name.padEnd(24)} ${secs.toFixed(2).padStart(6)} s ${(megabytes / secs).toFixed(0).padStart(5)} MB/s ${(summary.files / secs).toFixed(0).padStart(5)} inst/s` +
        `${rss === undefined ? '' : `  peak RSS ${(rss / MB).toFixed(0)} MB`}  ${note}`)
    }
    say(`  median of ${rounds}:`)
    line('storescp (to disk)', median(result.storescp.map((r) => r.seconds)), median(result.storescp.map((r) => r.rssBytes)), 'no fsync')
    line('storescp + sync', median(result.storescpSync), undefined, 'one sync after the set')
    line(mode === 'dimse' ? 'peerpacs (storescu)' : 'peerpacs core', median(result.peerpacs.map((r) => r.seconds)), median(result.peerpacs.map((r) => r.rssBytes)),
      'encrypted, fsync per instance' + (mode === 'core' ? ', no network' : ''))
  }
} finally {
  if (values.keep !== true && values.dir === undefined) await rm(root, { recursive: true, force: true })
}
if (values.json === true) {
  console.log(JSON.stringify(results.map((r) => {
    const fig = (secs: number, rss?: number): Record<string, number> => ({ seconds: secs, mbPerSecond: r.megabytes / secs, instancesPerSecond: r.files / secs, ...(rss === undefined ? {} : { peakRssMB: rss / MB }) })
    return {
      size: r.size, files: r.files, megabytes: r.megabytes, mode: r.mode, rounds: r.peerpacs.length,
      storescp: fig(median(r.storescp.map((x) => x.seconds)), median(r.storescp.map((x) => x.rssBytes))),
      storescpSync: fig(median(r.storescpSync)),
      peerpacs: fig(median(r.peerpacs.map((x) => x.seconds)), median(r.peerpacs.map((x) => x.rssBytes))),
      raw: { storescp: r.storescp, storescpSync: r.storescpSync, peerpacs: r.peerpacs }
    }
  })))
}
