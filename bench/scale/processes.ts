/**
 * The processes bench:scale runs, as an operator would: `node bin/peerpacs.js start` timed
 * from spawn to its node.ready line with its RSS read from /proc, and one-shot commands
 * timed to exit with their peak RSS (GNU time -v when present, else /proc polled).
 * Every process started here is killed at exit at the latest.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/peerpacs.js', import.meta.url))
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
const started = new Set<ChildProcess>()
process.on('exit', () => { for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })

/** VmRSS and VmHWM of a live process, bytes (0 when it is gone). */
export function rssOf (pid: number): { rss: number, peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), peak: kb('VmHWM') }
  } catch { return { rss: 0, peak: 0 } }
}

/** CPU time (user + system) a live process has used so far, seconds (clock ticks of 1/100 s). */
export function cpuOf (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch { return 0 }
}

export interface Timed { seconds: number, peakRssBytes: number, stdout: string, stderr: string, code: number | null }

/** Runs `peerpacs ARGS` (or another program) to its exit; fails on a non-zero exit unless allowed. */
export async function timed (args: readonly string[], options: { program?: string, allowFailure?: boolean, env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  const argv = options.program === undefined ? [process.execPath, BIN, ...args] : [options.program, ...args]
  const cmd = GNU_TIME === undefined ? argv : [GNU_TIME, '-f', '@@maxrss %M', ...argv]
  const begin = performance.now()
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEERPACS_PASSPHRASE: undefined, ...options.env } })
  started.add(child)
  let stdout = ''
  let stderr = ''
  let peak = 0
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const poll = GNU_TIME === undefined ? setInterval(() => { peak = Math.max(peak, rssOf(child.pid!).peak) }, 100) : undefined
  const [code] = await once(child, 'exit') as [number | null]
  const seconds = (performance.now() - begin) / 1000
  if (poll !== undefined) clearInterval(poll)
  started.delete(child)
  const m = /@@maxrss (\d+)/.exec(stderr)
  if (m !== null) { peak = Number(m[1]) * 1024; stderr = stderr.replace(/.*@@maxrss \d+\n?/, '') }
  if (code !== 0 && options.allowFailure !== true) throw new Error(`${argv.slice(1).join(' ')} exited ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`)
  return { seconds, peakRssBytes: peak, stdout, stderr, code }
}

export interface RunningNode {
  readonly pid: number
  /** Spawn to the node.ready log line, seconds. */
  readonly readySeconds: number
  readonly ready: Record<string, any>
  /** CPU seconds the node had used when it said it was ready (robust to a loaded machine, unlike wall time). */
  readonly readyCpuSeconds: number
  /** Lines of the node's structured log seen so far. */
  readonly logLines: () => string[]
  readonly control: () => { url: string, token: string }
  stop: () => Promise<void>
}

/** `peerpacs start` on loopback with ephemeral ports, any calling AE accepted (the bench's findscu). */
export async function startNode (data: string, extra: readonly string[] = []): Promise<RunningNode> {
  const args = [BIN, 'start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--p2p', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--accept-unknown-ae', ...extra]
  const begin = performance.now()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEERPACS_PASSPHRASE: undefined } })
  started.add(child)
  let stderr = ''
  child.stdout!.resume()
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      const line = stderr.split('\n').find((l) => l.includes('"event":"node.ready"'))
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, any>)
    })
    child.once('exit', (code) => { reject(new Error(`peerpacs start exited (${code}):\n${stderr.slice(-3000)}`)) })
  })
  const readySeconds = (performance.now() - begin) / 1000
  const readyCpuSeconds = cpuOf(child.pid!)
  return {
    pid: child.pid!,
    readySeconds,
    readyCpuSeconds,
    ready,
    logLines: () => stderr.split('\n'),
    control: () => JSON.parse(readFileSync(`${data}/control.json`, 'utf8')) as { url: string, token: string },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
      started.delete(child)
    }
  }
}

/** GET /api/status of a running node through its control token. */
export async function statusOf (node: RunningNode): Promise<Record<string, any>> {
  const { url, token } = node.control()
  const response = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } })
  return await response.json() as Record<string, any>
}
