/**
 * Runs the peerpacs CLI for benchmarks as an operator would: `start` as a long-lived process
 * (waiting for its node.ready log line), other commands to completion. Either on this machine
 * or inside a network namespace (`ip netns exec NS ...`). Processes are killed by PID at exit.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../node/cli/main.ts', import.meta.url))
const started = new Set<ChildProcess>()
process.on('exit', () => { for (const child of started) if (child.exitCode === null) child.kill('SIGKILL') })

function command (args: string[], ns: string | undefined): [string, string[]] {
  const node = [process.execPath, CLI, ...args]
  return ns === undefined ? [node[0]!, node.slice(1)] : ['ip', ['netns', 'exec', ns, ...node]]
}

export async function cli (args: string[], ns?: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const [cmd, argv] = command(args, ns)
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEERPACS_PASSPHRASE: undefined } })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`peerpacs ${args.join(' ')} failed (${code}):\n${stdout}\n${stderr}`)
  return { code, stdout, stderr }
}

export interface Running {
  readonly child: ChildProcess
  readonly ready: Record<string, any>
  /** Peak RSS (VmHWM) of the node process so far, bytes. */
  peakRss: () => number
  stop: () => Promise<void>
}

export async function startPeerpacs (data: string, args: string[], ns?: string): Promise<Running> {
  const [cmd, argv] = command(['start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--no-mdns', ...args], ns)
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  let stderr = ''
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      const line = stderr.split('\n').find((l) => l.includes('"event":"node.ready"'))
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, any>)
    })
    child.stdout!.resume()
    child.once('exit', (code) => { reject(new Error(`peerpacs start exited (${code}):\n${stderr}`)) })
  })
  // Under `ip netns exec`, the node is a child of `ip`'s exec'd process: the same pid.
  const pid = child.pid!
  return {
    child,
    ready,
    peakRss: () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
        return m === null ? 0 : Number(m[1]) * 1024
      } catch { return 0 }
    },
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

/** The node's GET /api/status, through its control token (read from control.json). */
export async function nodeStatus (data: string, ns?: string): Promise<Record<string, any>> {
  if (ns === undefined) {
    const control = JSON.parse(readFileSync(`${data}/control.json`, 'utf8')) as { url: string, token: string }
    const response = await fetch(`${control.url}/api/status`, { headers: { authorization: `Bearer ${control.token}` } })
    return await response.json() as Record<string, any>
  }
  const r = await cli(['status', '--json', '--data', data], ns)
  const record = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>).find((x) => x.type === 'status')
  return record ?? {}
}
