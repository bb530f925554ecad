/**
 * Runs one parsed command and turns any error into a message on stderr (a JSON error record on
 * stdout with --json) and an exit code. Shared by the CLI process and by a running node, which
 * executes commands sent over its CLI channel with the same code and the same output.
 */
import { PeerpacsError } from '../../protocol/errors.ts'
import { dataDirOf, helpOf, parse, type CommandSpec, type NodeHandle, type Secrets } from './command.ts'
import { exitCodeFor, EXIT } from './exit-codes.ts'
import type { Output } from './output.ts'

export interface ExecuteOptions {
  readonly out: Output
  readonly env: NodeJS.ProcessEnv
  readonly writeHelp: (text: string) => void
  /** Inside a running node: its data dir (any --data given is the same one) and handle. */
  readonly node?: NodeHandle & { readonly dataDir: string }
  /** Every command of the CLI. */
  readonly commands: readonly CommandSpec[]
  /** Read by the command's `secrets` in the caller's process (sent over the channel); else read here, outside a node. */
  readonly secrets?: Secrets
}

export function reportError (error: unknown, out: Output, env: NodeJS.ProcessEnv): number {
  const known = error instanceof PeerpacsError
  const code = known ? error.code : 'INTERNAL'
  const message = error instanceof Error ? error.message : String(error)
  const hint = known ? error.hint : undefined
  out.record({ type: 'error', code, message, ...(hint === undefined ? {} : { hint }) })
  out.error(known ? message : `unexpected failure: ${message}`, hint)
  if (!known && env.PEERPACS_DEBUG !== undefined && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`)
  return exitCodeFor(known ? code : undefined)
}

export async function execute (spec: CommandSpec, argv: string[], options: ExecuteOptions): Promise<number> {
  const { out, env } = options
  try {
    const { values, args } = parse(spec, argv)
    if (values.help === true) {
      options.writeHelp(helpOf(spec) + '\n')
      return EXIT.OK
    }
    const node = options.node
    const dataDir = node !== undefined ? node.dataDir : dataDirOf(values, env)
    const secrets = options.secrets ?? (node === undefined ? await spec.secrets?.(values, args, env) : undefined)
    return await spec.run({ values, args, dataDir, out, env, commands: options.commands, ...(node === undefined ? {} : { node }), ...(secrets === undefined ? {} : { secrets }) })
  } catch (error) {
    return reportError(error, out, env)
  }
}
