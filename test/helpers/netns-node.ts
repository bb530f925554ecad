/**
 * peerpacs inside a test network namespace (netns-link.ts): CLI commands run to completion,
 * `start` waits for node.ready, and status is read with the CLI (the node's HTTP API listens on
 * the namespace's own loopback, which the test process cannot reach).
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { CLI, childEnv } from './cli.ts'
import type { LimitedLink } from './netns-link.ts'

export async function cliIn (link: LimitedLink, ns: string, args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = link.exec(ns, process.execPath, [CLI, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

/** `peerpacs start` in `ns`, listening for the mesh on `p2p`; mDNS only when asked. */
export async function startIn (link: LimitedLink, ns: string, data: string, p2p: string, options: { mdns?: boolean } = {}): Promise<ChildProcess> {
  const args = [CLI, 'start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--p2p', p2p, ...(options.mdns === true ? [] : ['--no-mdns'])]
  const child = link.exec(ns, process.execPath, args, { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; if (stderr.includes('"event":"node.ready"')) resolve() })
    child.once('exit', (code) => { reject(new Error(`start exited (${code}):\n${stderr}`)) })
  })
  // Everything it logged so far, for a test's failure message.
  return Object.assign(child, { logText: () => stderr })
}

export async function statusIn (link: LimitedLink, ns: string, data: string): Promise<Record<string, any>> {
  const r = await cliIn(link, ns, ['status', '--json', '--data', data])
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>).find((x) => x.type === 'status') ?? {}
}
