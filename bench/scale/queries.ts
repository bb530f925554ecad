/**
 * Query latency against a running node: QIDO-RS over HTTP (keep-alive, the control token)
 * and C-FIND with dcmtk's findscu (a new process and association per query, as a workstation
 * issues them), each repeated and summarised as p50/p95; echoscu beside them as the floor of
 * a dcmtk round trip. Every answer's size is kept so a wrong count shows in the output.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { cpuOf } from './processes.ts'

export interface Latency {
  runs: number, matches: number, p50Ms: number, p95Ms: number, meanMs: number, errors: number, error?: string
  /** CPU the node spent per run (from /proc, warm-up included in neither): what the query costs the node whatever the machine's load. */
  nodeCpuMs?: number
}

/** Runs a latency measure and adds the CPU the node process used per run. */
export async function withNodeCpu (pid: number, measure: () => Promise<Latency>): Promise<Latency> {
  const before = cpuOf(pid)
  const l = await measure()
  // One untimed warm-up run rides along with the timed ones.
  return { ...l, nodeCpuMs: (cpuOf(pid) - before) * 1000 / (l.runs + l.errors + 1) }
}

export function summarise (samples: readonly number[], matches: number, errors: number, error?: string): Latency {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length)
  return { runs: sorted.length, matches, p50Ms: at(0.5), p95Ms: at(0.95), meanMs: mean, errors, ...(error === undefined ? {} : { error }) }
}

/** `runs` timed runs after one untimed warm-up run (first-call compilation is not the steady state). */
async function repeat (runs: number, once: () => Promise<number>): Promise<Latency> {
  await once().catch(() => undefined)
  const samples: number[] = []
  let matches = -1
  let errors = 0
  let error: string | undefined
  for (let i = 0; i < runs; i++) {
    const begin = performance.now()
    try {
      matches = await once()
      samples.push(performance.now() - begin)
    } catch (e) {
      errors++
      error = (e as Error).message.slice(0, 300)
      if (errors >= 3) break
    }
  }
  return summarise(samples, matches, errors, error)
}

export interface HttpTarget { url: string, token: string }

/** GET a QIDO-RS path; the number of results. */
export async function qido (target: HttpTarget, path: string): Promise<number> {
  const response = await fetch(`${target.url}/dicomweb${path}`, { headers: { authorization: `Bearer ${target.token}`, accept: 'application/dicom+json' } })
  if (response.status === 204) return 0
  if (response.status !== 200) throw new Error(`QIDO ${path}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`)
  return (await response.json() as unknown[]).length
}

export async function qidoLatency (target: HttpTarget, path: string, runs: number): Promise<Latency> {
  return await repeat(runs, async () => await qido(target, path))
}

export interface DimseTarget { port: number, aeTitle: string }

async function dcmtk (program: string, args: readonly string[]): Promise<string> {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`${program} exited ${code}: ${out.slice(-300)}`)
  return out
}

/** One C-FIND (Study Root) at `level` with `keys`; the number of pending responses. */
export async function cfind (target: DimseTarget, level: 'STUDY' | 'SERIES' | 'IMAGE', keys: Readonly<Record<string, string>>, ask: readonly string[]): Promise<number> {
  const k = [`QueryRetrieveLevel=${level}`, ...Object.entries(keys).map(([key, value]) => `${key}=${value}`), ...ask]
  const out = await dcmtk('findscu', ['-v', '-S', ...k.flatMap((x) => ['-k', x]), '-aet', 'BENCHSCU', '-aec', target.aeTitle, '127.0.0.1', String(target.port)])
  const final = /Received Final Find Response \(([^)]*)\)/.exec(out)?.[1]
  if (final !== 'Success') throw new Error(`C-FIND ended with ${final ?? 'no final response'}: ${out.slice(-300)}`)
  return out.match(/Find Response: \d+ \(Pending/g)?.length ?? 0
}

export async function cfindLatency (target: DimseTarget, level: 'STUDY' | 'SERIES' | 'IMAGE', keys: Readonly<Record<string, string>>, ask: readonly string[], runs: number): Promise<Latency> {
  return await repeat(runs, async () => await cfind(target, level, keys, ask))
}

/** C-ECHO: a dcmtk process, an association and nothing else. */
export async function echoLatency (target: DimseTarget, runs: number): Promise<Latency> {
  return await repeat(runs, async () => { await dcmtk('echoscu', ['-aet', 'BENCHSCU', '-aec', target.aeTitle, '127.0.0.1', String(target.port)]); return 1 })
}

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  server.close()
  await once(server, 'close')
  return port
}

/** C-ECHO against dcmtk's own storescp: what one dcmtk round trip costs on this machine, with no peerpacs in it. */
export async function echoFloor (runs: number): Promise<Latency> {
  const port = await freePort()
  const scp = spawn('storescp', [String(port)], { stdio: 'ignore' })
  try {
    for (let i = 0; i < 50; i++) {
      try { await dcmtk('echoscu', ['-aet', 'BENCHSCU', '-aec', 'ANY', '127.0.0.1', String(port)]); break } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
    }
    return await echoLatency({ port, aeTitle: 'ANY' }, runs)
  } finally {
    scp.kill('SIGKILL')
    if (scp.exitCode === null && scp.signalCode === null) await once(scp, 'exit')
  }
}

/** Study-level keys a workstation's worklist asks for. */
export const STUDY_RETURN_KEYS = ['StudyInstanceUID', 'PatientName', 'PatientID', 'StudyDate', 'AccessionNumber', 'ModalitiesInStudy', 'StudyDescription', 'NumberOfStudyRelatedInstances']
