/**
 * `npm run bench:find`: issue 18's C-FIND response cost. dcmtk `findscu` queries a real
 * `peerpacs start` holding N one-instance studies and, when it is installed, Orthanc holding the
 * same files, in the same run: p50/p95 of selective study-level queries (a patient-name wildcard
 * and a date range, each about N/100 studies), a query matching nothing (the fixed cost of an
 * association and of findscu itself), and a query answered with every study. The per-response
 * cost is (all − nothing) / N, medians, in wall time (findscu's own work included) and in the
 * server's CPU time (from /proc). Prints figures, asserts nothing.
 *
 *   npm run bench:find -- [--studies N] [--set DIR] [--data DIR] [--rounds R] [--no-orthanc] [--dir DIR] [--keep] [--json]
 *
 * Without --set the studies are generated (100 surnames ZZxxSON, dates over 2000-2024, as
 * /tmp/scale/gen.ts does) and imported with `peerpacs import`. --data names a data dir holding
 * those studies already (e.g. /tmp/scale/dd10k with --set /tmp/scale/set10k): it is copied into
 * the work folder first, never used in place.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { syntheticStudy } from '../test/synthetic/study.ts'
import { startPeerpacs } from './peerpacs-process.ts'
import { freePort } from './free-port.ts'

const USAGE = `usage: npm run bench:find -- [options]

C-FIND with dcmtk findscu against peerpacs and (when installed) Orthanc holding the same studies.

  --studies N     studies to generate and import (default 2000; at most 10000, the node's C-FIND limit)
  --set DIR       DICOM files of the studies (not generated); Orthanc is loaded from them
  --data DIR      a data dir that already holds the studies of --set (copied, never used in place)
  --rounds R      runs of each selective query (default 30; the all-studies query runs 3 times)
  --no-orthanc    peerpacs only
  --dir DIR       work folder (kept); default a temp folder, removed at the end
  --keep          keep the temp folder
  --json          print one JSON object instead of the table
  -h, --help      show this text
`

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ORTHANC = '/usr/sbin/Orthanc'
const RETURN_KEYS = ['PatientName', 'PatientID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyDescription', 'StudyInstanceUID', 'ModalitiesInStudy', 'NumberOfStudyRelatedInstances']

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '2000' }, set: { type: 'string' }, data: { type: 'string' }, rounds: { type: 'string', default: '30' },
    'no-orthanc': { type: 'boolean' }, dir: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }
  }
})
if (values.help === true) { process.stdout.write(USAGE); process.exit(0) }
const say = (line: string): void => { if (values.json !== true) console.log(line) }

function median (xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }
function p95 (xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]! }


/** N one-instance CT studies: 100 surnames (ZZAASON...), dates spread over 2000-2024, accession ACCi. */
async function generate (dir: string, n: number): Promise<void> {
  const surnames = Array.from({ length: 100 }, (_, i) => 'ZZ' + String.fromCharCode(65 + (i % 26)) + String.fromCharCode(65 + Math.floor(i / 26)) + 'SON')
  for (let i = 0; i < n; i++) {
    const date = `${2000 + (i % 25)}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`
    const patient = { name: `${surnames[i % 100]!}^P${i}`, id: `SC-${i}`, birthDate: '19700101', sex: (i % 2 === 1 ? 'F' : 'M') as 'F' | 'M' }
    for (const x of syntheticStudy({ seed: i + 1, patient, studyDate: date, accessionNumber: `ACC${i}`, profile: 'ct', size: 'small', slices: 1, folder: `s${i}` })) {
      const path = join(dir, x.relativePath)
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, x.bytes)
    }
  }
}

async function run (command: string, args: string[], okCodes = [0]): Promise<{ code: number | null, out: string }> {
  // (dcmtk tools without TCP_NODELAY wait on delayed ACKs: about 90 ms per stored instance into Orthanc.)
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEERPACS_PASSPHRASE: undefined, TCP_NODELAY: '1' } })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d })
  const [code] = await once(child, 'exit') as [number | null]
  if (!okCodes.includes(code ?? -1)) throw new Error(`${command} ${args.slice(0, 4).join(' ')} failed (${code}):\n${out.slice(-3000)}`)
  return { code, out }
}

interface Query { name: string, keys: string[] }

/** CPU seconds (user + system) a process has used so far, from /proc (0 where there is none). */
function cpuSeconds (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    // After "(comm) ": state is field 3, utime field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch { return 0 }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** One findscu run: wall seconds, the server's CPU seconds meanwhile, and the pending responses counted from its output. */
async function findscu (server: Server, query: Query): Promise<{ seconds: number, cpu: number, matches: number }> {
  const { aec, port, pid } = server
  const cpuBefore = cpuSeconds(pid)
  const start = process.hrtime.bigint()
  const { out } = await run('findscu', ['-v', '-S', '-aet', 'FINDSCU', '-aec', aec, '-k', 'QueryRetrieveLevel=STUDY',
    ...RETURN_KEYS.flatMap((k) => ['-k', query.keys.find((q) => q.startsWith(`${k}=`)) ?? k]), '127.0.0.1', String(port)])
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const cpu = cpuSeconds(pid) - cpuBefore
  if (!/Received Final Find Response \(Success\)/.test(out)) throw new Error(`findscu ${query.name} against ${aec}: no final success:\n${out.slice(-2000)}`)
  return { seconds, cpu, matches: (out.match(/Find Response: \d+ \(Pending\)/g) ?? []).length }
}

interface Server { aec: string, port: number, pid: number }

interface Figures {
  selective: Record<string, { matches: number, p50Ms: number, p95Ms: number }>
  noneMs: number
  allSeconds: number
  allMatches: number
  /** Wall time per response: (all − nothing) / matches, medians; findscu's own work included. */
  perResponseMs: number
  /** The server's CPU time per response over the all-studies query (less that of the query matching nothing). */
  serverCpuPerResponseMs: number
}

async function measure (server: Server, rounds: number): Promise<Figures> {
  const selective: Query[] = [
    { name: 'patient name ZZAASON*', keys: ['PatientName=ZZAASON*'] },
    // The generator's dates: year 2000 + i % 25, month 1 + i % 12, so a quarter of one year holds 1 study in 100.
    { name: 'date range 2005-01..2005-03', keys: ['StudyDate=20050101-20050331'] }
  ]
  const figures: Figures = { selective: {}, noneMs: 0, allSeconds: 0, allMatches: 0, perResponseMs: 0, serverCpuPerResponseMs: 0 }
  for (const q of selective) {
    const runs = []
    for (let i = 0; i < rounds; i++) runs.push(await findscu(server, q))
    figures.selective[q.name] = { matches: runs[0]!.matches, p50Ms: median(runs.map((r) => r.seconds)) * 1000, p95Ms: p95(runs.map((r) => r.seconds)) * 1000 }
  }
  const none = []
  for (let i = 0; i < Math.min(rounds, 10); i++) none.push(await findscu(server, { name: 'nothing', keys: ['PatientName=ZZNOBODY*'] }))
  figures.noneMs = median(none.map((r) => r.seconds)) * 1000
  const all = []
  for (let i = 0; i < 3; i++) all.push(await findscu(server, { name: 'all studies', keys: [] }))
  figures.allSeconds = median(all.map((r) => r.seconds))
  figures.allMatches = all[0]!.matches
  if (figures.allMatches > 0) {
    figures.perResponseMs = (figures.allSeconds * 1000 - figures.noneMs) / figures.allMatches
    figures.serverCpuPerResponseMs = (median(all.map((r) => r.cpu)) - median(none.map((r) => r.cpu))) * 1000 / figures.allMatches
  }
  return figures
}

/** Every file under `set` into Orthanc over its REST API, 8 at a time (one storescu association takes ~50 ms an instance here). */
async function upload (orthanc: string, set: string): Promise<number> {
  const files = (await readdir(set, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
  let next = 0
  let stored = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < files.length) {
      const file = files[next++]!
      const r = await fetch(`${orthanc}/instances`, { method: 'POST', body: await readFile(file) })
      await r.arrayBuffer()
      if (r.ok) stored++
    }
  }))
  return stored
}

/**
 * Orthanc's database and files go to tmpfs (/dev/shm) when there is one: its SQLite index syncs
 * every stored instance (about 95 ms each here, 16 minutes for 10,000), which only slows the
 * loading; a C-FIND reads that index, from the page cache either way.
 */
async function withOrthanc<T> (work: string, set: string, task: (server: Server) => Promise<T>): Promise<T> {
  const dir = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/peerpacs-bench-orthanc-') : join(work, 'orthanc')
  await mkdir(dir, { recursive: true })
  const [dicomPort, httpPort] = [await freePort(), await freePort()]
  const config = {
    Name: 'BENCH_FIND', StorageDirectory: join(dir, 'db'), IndexDirectory: join(dir, 'db'), HttpPort: httpPort, DicomPort: dicomPort, DicomAet: 'ORTHANC',
    RemoteAccessAllowed: false, AuthenticationEnabled: false, DicomCheckCalledAet: false, DicomAlwaysAllowStore: true, DicomAlwaysAllowFind: true, DicomAlwaysAllowEcho: true, LimitFindResults: 0,
    SyncStorageArea: false
  }
  await writeFile(join(dir, 'orthanc.json'), JSON.stringify(config))
  const child = spawn(ORTHANC, [join(dir, 'orthanc.json')], { stdio: ['ignore', 'ignore', 'ignore'] })
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`http://127.0.0.1:${httpPort}/system`).then((r) => r.ok, () => false)) break
      if (i > 150 || child.exitCode !== null) throw new Error('Orthanc did not start')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const start = process.hrtime.bigint()
    const stored = await upload(`http://127.0.0.1:${httpPort}`, set)
    say(`  Orthanc: stored ${stored} instances in ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(1)} s`)
    return await task({ aec: 'ORTHANC', port: dicomPort, pid: child.pid! })
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null) await once(child, 'exit')
    await rm(dir, { recursive: true, force: true })
  }
}

function table (who: string, f: Figures): void {
  say(`${who}`)
  for (const [name, s] of Object.entries(f.selective)) say(`  ${name.padEnd(30)} ${String(s.matches).padStart(6)} matches   p50 ${s.p50Ms.toFixed(0).padStart(5)} ms   p95 ${s.p95Ms.toFixed(0).padStart(5)} ms`)
  say(`  ${'nothing (fixed cost)'.padEnd(30)} ${'0'.padStart(6)} matches   p50 ${f.noneMs.toFixed(0).padStart(5)} ms`)
  say(`  ${'all studies'.padEnd(30)} ${String(f.allMatches).padStart(6)} matches   ${f.allSeconds.toFixed(2)} s   per response ${f.perResponseMs.toFixed(3)} ms (server CPU ${f.serverCpuPerResponseMs.toFixed(3)} ms)`)
}

async function main (): Promise<void> {
  const n = Number(values.studies)
  const rounds = Number(values.rounds)
  if (!Number.isInteger(n) || n < 100 || n > 10_000) throw new Error(`--studies: 100..10000 expected, got ${values.studies}`)
  if (values.data !== undefined && values.set === undefined) throw new Error('--data needs --set (the files of the same studies, for Orthanc and for counting)')
  const work = values.dir ?? await mkdtemp(join(tmpdir(), 'peerpacs-bench-find-'))
  await mkdir(work, { recursive: true })
  try {
    const set = values.set ?? join(work, 'set')
    if (values.set === undefined) {
      say(`generating ${n} studies in ${set}`)
      await generate(set, n)
    }
    const data = join(work, 'data')
    await rm(data, { recursive: true, force: true })
    if (values.data !== undefined) {
      const copy = spawnSync('cp', ['-a', values.data, data], { encoding: 'utf8' })
      if (copy.status !== 0) throw new Error(`copying ${values.data}: ${copy.stderr}`)
    } else {
      say('importing them into a new data dir (peerpacs import)')
      await run(process.execPath, [join(ROOT, 'bin/peerpacs.js'), 'init', '--data', data, '--name', 'bench-find', '--json'])
      // (Exit 70 at the very end: the import's audit record could not name that many objects, issue 18; the studies are stored.)
      await run(process.execPath, [join(ROOT, 'bin/peerpacs.js'), 'import', '--data', data, set], [0, 70])
    }
    const node = await startPeerpacs(data, ['--accept-unknown-ae', '--p2p', '/ip4/127.0.0.1/tcp/0'])
    let peerpacs: Figures
    try {
      peerpacs = await measure({ aec: String(node.ready.aeTitle ?? 'PEERPACS'), port: Number(node.ready.dicomPort), pid: node.child.pid! }, rounds)
    } finally {
      await node.stop()
    }
    table('peerpacs', peerpacs)
    let orthanc: Figures | undefined
    if (values['no-orthanc'] !== true && existsSync(ORTHANC)) {
      orthanc = await withOrthanc(work, set, async (server) => await measure(server, rounds))
      table('Orthanc', orthanc)
    }
    const studies = peerpacs.allMatches
    if (values.json === true) console.log(JSON.stringify({ bench: 'find', studies, rounds, peerpacs, orthanc }))
    else console.log(JSON.stringify({ bench: 'find', studies, peerpacsPerResponseMs: peerpacs.perResponseMs, orthancPerResponseMs: orthanc?.perResponseMs }))
  } finally {
    if (values.dir === undefined && values.keep !== true) await rm(work, { recursive: true, force: true })
  }
}

await main()
