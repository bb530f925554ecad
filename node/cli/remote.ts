/**
 * The CLI's side of the channel to a running node. `peerpacs start` writes control.json into
 * the data dir (its URL and a control token, mode 0600): whoever can read it could open the data
 * dir anyway. A command finds it, sends its argv (paths made absolute, since the node has its
 * own working directory) and replays the node's output as it streams back, so `peerpacs import`
 * or `studies` behave the same whether the node runs or not.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { dataDirLayout } from '../store/data-dir.ts'
import { dataDirOf, parse, type CommandSpec } from './command.ts'
import { EXIT } from './exit-codes.ts'
import type { Output } from './output.ts'

export interface ControlInfo {
  readonly pid: number
  readonly url: string
  readonly token: string
}

export class NodeUnreachableError extends PeerpacsError {
  static readonly code = 'NODE_UNREACHABLE'
  constructor (message: string, hint?: string) { super(NodeUnreachableError.code, message, hint === undefined ? {} : { hint }) }
}

/** Positional arguments that are paths on this machine, per command. */
const PATH_ARGS: Readonly<Record<string, (index: number) => boolean>> = {
  import: () => true,
  export: (i) => i === 1
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The node running on the command's data dir, if any. */
export async function runningNode (spec: CommandSpec, argv: string[], env: NodeJS.ProcessEnv): Promise<ControlInfo | undefined> {
  let dataDir: string
  try {
    dataDir = dataDirOf(parse(spec, argv).values, env)
  } catch {
    return undefined // the local run reports the usage error
  }
  let info: ControlInfo
  try {
    info = JSON.parse(await readFile(dataDirLayout(dataDir).controlFile, 'utf8')) as ControlInfo
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    if ((error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new NodeUnreachableError(`a node runs on ${resolve(dataDir)}, but its control.json is not readable by this user`, 'run the command as the user that runs the node')
    }
    return undefined
  }
  if (typeof info.pid !== 'number' || typeof info.url !== 'string' || typeof info.token !== 'string') return undefined
  return alive(info.pid) ? info : undefined
}

/** Options whose values are paths on this machine, per command. */
const PATH_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  audit: ['out']
}

function absolutePaths (spec: CommandSpec, argv: string[]): string[] {
  const isPath = PATH_ARGS[spec.name]
  const pathOptions = PATH_OPTIONS[spec.name] ?? []
  if (isPath === undefined && pathOptions.length === 0) return argv
  const { values, args } = parse(spec, argv)
  const positional = args.map((a, i) => isPath?.(i) === true ? resolve(a) : a)
  const options: string[] = []
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === false) continue
    options.push(value === true ? `--${name}` : `--${name}=${typeof value === 'string' && pathOptions.includes(name) ? resolve(value) : value}`)
  }
  return [...options, '--', ...positional]
}

interface ChannelEvent { readonly fd?: 1 | 2, readonly text?: string, readonly exit?: number }

export async function runThroughNode (node: ControlInfo, spec: CommandSpec, argv: string[], out: Output, _env: NodeJS.ProcessEnv): Promise<number> {
  const body = JSON.stringify({
    command: spec.name,
    argv: absolutePaths(spec, argv),
    tty: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 0
  })
  let response: Response
  try {
    response = await fetch(`${node.url}/api/cli/run`, { method: 'POST', headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' }, body })
  } catch (error) {
    throw new NodeUnreachableError(`the node running on this data dir (pid ${node.pid}) does not answer at ${node.url}: ${(error as Error).message}`,
      'if it is stuck, stop it (kill ' + node.pid + ') and run the command again')
  }
  if (!response.ok || response.body === null) {
    const text = await response.text().catch(() => '')
    throw new NodeUnreachableError(`the node (pid ${node.pid}) refused the command: HTTP ${response.status} ${text.slice(0, 300)}`)
  }
  let exit: number | undefined
  let pending = ''
  const decoder = new TextDecoder()
  const handle = (line: string): void => {
    if (line === '') return
    const event = JSON.parse(line) as ChannelEvent
    if (event.text !== undefined) (event.fd === 2 ? process.stderr : process.stdout).write(event.text)
    if (event.exit !== undefined) exit = event.exit
  }
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true })
    let newline
    while ((newline = pending.indexOf('\n')) >= 0) {
      handle(pending.slice(0, newline))
      pending = pending.slice(newline + 1)
    }
  }
  handle(pending)
  out.done()
  if (exit === undefined) {
    out.error(`the node (pid ${node.pid}) stopped answering before the command finished; its outcome is unknown`, 'check with `peerpacs studies` or `peerpacs fsck`')
    return EXIT.INTERNAL
  }
  return exit
}
