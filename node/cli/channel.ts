/**
 * The node's side of the CLI channel (POST /run on the control socket, control-socket.ts): runs
 * a CLI command inside the node, against its open archive, and streams the command's output back
 * as JSON lines ({fd, text} ..., then {exit}). The command code is the same as when the node is
 * stopped, so the two paths cannot drift apart. A client that goes away (Ctrl-C, a closed pipe)
 * does not stop the command: what it had started finishes, its output is dropped.
 */
import { Hono } from 'hono'
import type { Logger } from '../logging/logger.ts'
import type { CommandSpec, NodeHandle, Secrets } from './command.ts'
import { execute } from './execute.ts'
import { Output } from './output.ts'

/** A request's secrets (a password the CLI read from its terminal): a few short texts, or none. */
function secretsFrom (value: unknown): Secrets | undefined | false {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const entries = Object.entries(value)
  if (entries.length > 8 || !entries.every(([k, v]) => k.length <= 40 && typeof v === 'string' && v.length <= 4096)) return false
  return Object.fromEntries(entries) as Secrets
}

/** Commands that make no sense inside a running node. */
const REFUSED: Readonly<Record<string, string>> = {
  init: 'the data dir is initialised already (a node is running on it)',
  start: 'a node is already running on this data dir'
}

interface Sink { write: (text: string) => boolean, isTTY: boolean, columns: number }

export function cliChannel (commands: readonly CommandSpec[], node: NodeHandle & { dataDir: string }, log: Logger): Hono {
  const app = new Hono()
  app.post('/run', async (c) => {
    let request: { command?: unknown, argv?: unknown, tty?: unknown, columns?: unknown, secrets?: unknown }
    try {
      request = await c.req.json()
    } catch {
      return c.json({ error: 'bad request', message: 'the body must be JSON' }, 400)
    }
    const spec = commands.find((s) => s.name === request.command)
    if (spec === undefined || !Array.isArray(request.argv) || !request.argv.every((a) => typeof a === 'string')) {
      return c.json({ error: 'bad request', message: 'expected {command, argv: string[]} naming a peerpacs command' }, 400)
    }
    const secrets = secretsFrom(request.secrets)
    if (secrets === false) return c.json({ error: 'bad request', message: 'secrets, when given, must be at most 8 texts of at most 4096 characters' }, 400)
    const refused = REFUSED[spec.name]
    if (refused !== undefined) return c.json({ error: 'conflict', message: refused }, 409)
    const argv = request.argv as string[]
    const tty = request.tty === true
    const columns = typeof request.columns === 'number' ? request.columns : 0
    const encoder = new TextEncoder()
    let gone = false
    const stream = new ReadableStream<Uint8Array>({
      cancel () { gone = true },
      async start (controller) {
        const send = (event: object): void => {
          if (gone) return
          try {
            controller.enqueue(encoder.encode(JSON.stringify(event) + '\n'))
          } catch {
            gone = true
          }
        }
        const sink = (fd: 1 | 2): Sink => ({ write: (text: string) => { send({ fd, text }); return true }, isTTY: fd === 2 && tty, columns })
        const out = new Output({ json: argv.includes('--json'), stdout: sink(1) as unknown as NodeJS.WriteStream, stderr: sink(2) as unknown as NodeJS.WriteStream })
        log.info('cli.command', { command: spec.name })
        const exit = await execute(spec, argv, { out, env: {}, commands, writeHelp: (text) => send({ fd: 1, text }), node, ...(secrets === undefined ? {} : { secrets }) })
        out.done()
        log.info('cli.command.done', { command: spec.name, exit })
        send({ exit })
        if (!gone) controller.close()
      }
    })
    return new Response(stream, { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' } })
  })
  return app
}
