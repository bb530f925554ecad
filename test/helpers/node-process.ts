/**
 * Runs `peerpacs start` as a separate process, as an operator would, waits for its `node.ready`
 * log line, and always stops it (by PID) when the test ends. Its stdout and its JSON log lines
 * are kept for assertions (no PHI in logs, events present).
 */
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import { spawnCli } from './cli.ts'

export interface NodeProcess {
  readonly pid: number
  readonly dicomPort: number
  readonly httpPort: number
  readonly url: string
  /** The mesh's peer id and listen addresses (with /p2p/). */
  readonly peerId: string
  readonly p2p: string[]
  /** Everything the node wrote to stderr / stdout so far. */
  stderr: () => string
  stdout: () => string
  /** Its log records (stderr JSON lines). */
  logs: () => Array<Record<string, any>>
  /** Sends `signal` and waits for the exit; returns the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

export async function startNode (t: Pick<TestContext, 'after'>, dataDir: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<NodeProcess> {
  // The mesh listens on loopback only and stays off mDNS: parallel tests must not find each other.
  const mesh = args.includes('--p2p') ? [] : ['--p2p', '/ip4/127.0.0.1/tcp/0']
  const child = spawnCli(['start', '--data', dataDir, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', ...mesh, '--no-mdns', ...args], env)
  let stderr = ''
  let stdout = ''
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  const ready = new Promise<Record<string, any>>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      const line = stderr.split('\n').find((l) => l.includes('"event":"node.ready"'))
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, any>)
    })
    void exited.then(([code, signal]) => reject(new Error(`peerpacs start exited (${code ?? signal}) before it was ready:\n${stdout}\n${stderr}`)))
  })
  const record = await ready
  const logs = (): Array<Record<string, any>> => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
  return {
    pid: child.pid!,
    dicomPort: record.dicomPort as number,
    httpPort: record.httpPort as number,
    url: `${(record.httpScheme as string | undefined) ?? 'http'}://127.0.0.1:${record.httpPort as number}`,
    peerId: record.peerId as string,
    p2p: String(record.p2p ?? '').split(' ').filter((a) => a !== ''),
    stderr: () => stderr,
    stdout: () => stdout,
    logs,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill(signal)
      const [code] = await exited
      return code
    }
  }
}
