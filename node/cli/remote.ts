/**
 * The CLI's side of the channel to a running node. `peerpacs start` listens on `control.sock` in
 * the data dir (daemon/control-socket.ts: a Unix socket, mode 0600, that only the data dir's
 * owner can create or reach). A command checks that the socket is what a node of this user
 * makes, sends its argv (paths made absolute, since the node has its own working directory) and
 * replays the node's output as it streams back, so `peerpacs import` or `studies` behave the
 * same whether the node runs or not. A socket that refuses connections is a crashed node's
 * leftover: the command then runs on the data dir itself (whose lock says if anything holds it).
 */
import { lstat } from 'node:fs/promises'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { resolve } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { socketPathFor } from '../daemon/socket-path.ts'
import { dataDirLayout } from '../store/data-dir.ts'
import { dataDirOf, parse, type CommandSpec, type Secrets } from './command.ts'
import { EXIT } from './exit-codes.ts'
import type { Output } from './output.ts'

export interface ControlInfo {
  /** The node's control socket. */
  readonly socket: string
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

/** Whether something listens on the socket (a crashed node's socket file refuses). */
async function listening (file: string): Promise<boolean> {
  const target = socketPathFor(file)
  try {
    return await new Promise<boolean>((resolve) => {
      const socket = connect(target.path)
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { resolve(false) })
    })
  } finally {
    target.release()
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
  const file = dataDirLayout(dataDir).controlSocket
  let stats
  try {
    stats = await lstat(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EACCES') {
      throw new NodeUnreachableError(`${resolve(dataDir)} is not readable by this user`, 'run the command as the user that runs the node')
    }
    return undefined // ENOENT, ENOTDIR: no node runs here; the local run says what is wrong with the data dir
  }
  const uid = process.getuid?.()
  const problem = !stats.isSocket()
    ? 'is not a socket'
    : uid !== undefined && uid !== 0 && stats.uid !== uid
      ? `belongs to user ${stats.uid}, not to this user (${uid})`
      : (stats.mode & 0o077) !== 0 ? `is open to other users (mode ${(stats.mode & 0o777).toString(8)})` : undefined
  if (problem !== undefined) {
    throw new NodeUnreachableError(`${file} ${problem}: a peerpacs node makes it a socket of its own user, mode 600; refusing to send commands to it`,
      'if no node runs on this data dir, remove that file; otherwise run the command as the user that runs the node')
  }
  return await listening(file) ? { socket: file } : undefined
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

/** POSTs `body` to the node's /run and resolves with the streamed response. */
async function post (node: ControlInfo, body: string): Promise<IncomingMessage> {
  const target = socketPathFor(node.socket)
  try {
    return await new Promise((resolve, reject) => {
      const req = request({ socketPath: target.path, method: 'POST', path: '/run', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, resolve)
      req.once('error', reject)
      req.end(body)
    })
  } finally {
    target.release()
  }
}

export async function runThroughNode (node: ControlInfo, spec: CommandSpec, argv: string[], out: Output, _env: NodeJS.ProcessEnv, secrets?: Secrets): Promise<number> {
  const body = JSON.stringify({
    command: spec.name,
    argv: absolutePaths(spec, argv),
    ...(secrets === undefined ? {} : { secrets }),
    tty: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 0
  })
  let response
  try {
    response = await post(node, body)
  } catch (error) {
    throw new NodeUnreachableError(`the node running on this data dir does not answer on ${node.socket}: ${(error as Error).message}`,
      'if it is stuck, stop it (its pid is in control.json) and run the command again')
  }
  if (response.statusCode !== 200) {
    let text = ''
    for await (const chunk of response) text += String(chunk)
    throw new NodeUnreachableError(`the node refused the command: HTTP ${response.statusCode ?? '?'} ${text.slice(0, 300)}`)
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
  try {
    for await (const chunk of response as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true })
      let newline
      while ((newline = pending.indexOf('\n')) >= 0) {
        handle(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
      }
    }
    handle(pending)
  } catch {
    exit = undefined // the connection broke, or the node sent something that is not its channel's
  }
  out.done()
  if (exit === undefined) {
    out.error('the node stopped answering before the command finished; its outcome is unknown', 'check with `peerpacs studies` or `peerpacs fsck`')
    return EXIT.INTERNAL
  }
  return exit
}
