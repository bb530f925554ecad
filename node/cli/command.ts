/**
 * How a CLI command is declared: its options (beyond the common ones), its positional
 * arguments and its help; `parse` turns argv into values or a UsageError that says what was
 * wrong. Every command gets --data, --json and --help; commands that open keys get
 * --passphrase-file.
 */
import { parseArgs } from 'node:util'
import { PeerpacsError } from '../../protocol/errors.ts'
import { EXIT_CODES_HELP } from './exit-codes.ts'
import type { NodeHandle } from '../daemon/node-handle.ts'
import type { Output } from './output.ts'

/** A running node, when a command is executed inside it (daemon/node-handle.ts). */
export type { NodeHandle } from '../daemon/node-handle.ts'

export class UsageError extends PeerpacsError {
  static readonly code = 'USAGE'
  constructor (message: string, hint?: string) { super(UsageError.code, message, hint === undefined ? {} : { hint }) }
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  /** Placeholder shown in help, e.g. FILE. */
  readonly value?: string
  readonly help: string
}

export interface CommandSpec {
  readonly name: string
  readonly summary: string
  /** Positional arguments as shown in usage, e.g. "PATH...". */
  readonly args: string
  readonly minArgs: number
  readonly maxArgs: number
  readonly description: string
  readonly usesKeys: boolean
  readonly options: Readonly<Record<string, OptionSpec>>
  /**
   * Reads what must never be on the command line (a password) in the caller's own process, where
   * its terminal and stdin are, before the command runs there or inside a running node. The result
   * reaches run() as context.secrets; to a node it travels in the channel request's body over the
   * 0600 control socket, never in argv nor in a log line.
   */
  readonly secrets?: (values: OptionValues, args: string[], env: NodeJS.ProcessEnv) => Promise<Secrets | undefined>
  run (context: CommandContext): Promise<number>
}

/** What a command's `secrets` read: name → text. */
export type Secrets = Readonly<Record<string, string>>

export type OptionValues = Record<string, string | boolean | undefined>

export interface CommandContext {
  readonly values: OptionValues
  readonly args: string[]
  readonly dataDir: string
  readonly out: Output
  readonly env: NodeJS.ProcessEnv
  /** Set when the command runs inside `peerpacs start`: use its open archive. */
  readonly node?: NodeHandle
  /** Every command of the CLI (what `start` serves on its control channel). */
  readonly commands: readonly CommandSpec[]
  /** What the command's `secrets` read in the caller's process. */
  readonly secrets?: Secrets
}

/** Runs a command's `secrets` (none for --help); argv must parse. */
export async function secretsOf (spec: CommandSpec, argv: string[], env: NodeJS.ProcessEnv): Promise<Secrets | undefined> {
  if (spec.secrets === undefined) return undefined
  const { values, args } = parse(spec, argv)
  return values.help === true ? undefined : await spec.secrets(values, args, env)
}

/**
 * A command's code, loaded when the command runs: a spec (name, options, help) is plain data,
 * so `--help`, a usage error or a command sent to a running node loads none of the archive,
 * the mesh or the DICOM stack.
 */
export function lazyRun (load: () => Promise<{ run: (context: CommandContext) => Promise<number> }>): (context: CommandContext) => Promise<number> {
  return async (context) => await (await load()).run(context)
}

const COMMON: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'DIR', help: 'data dir (default: $PEERPACS_DATA, else ./data)' },
  json: { type: 'boolean', help: 'print results as JSON lines, for scripts' },
  help: { type: 'boolean', short: 'h', help: 'show this help' }
}

const PASSPHRASE: Record<string, OptionSpec> = {
  'passphrase-file': { type: 'string', value: 'FILE', help: 'read the passphrase that seals the keys from FILE (default: $PEERPACS_PASSPHRASE)' }
}

export function optionsOf (spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, ...(spec.usesKeys ? PASSPHRASE : {}), ...COMMON }
}

export function helpOf (spec: CommandSpec): string {
  const options = optionsOf(spec)
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short !== undefined ? `-${o.short}, ` : '    '}--${name}${o.value !== undefined ? ` ${o.value}` : ''}`
    return [flag, o.help] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return [
    `Usage: peerpacs ${spec.name} [options]${spec.args === '' ? '' : ` ${spec.args}`}`,
    '',
    spec.summary,
    '',
    // Only the blank lines around it go: a description may open with an indented table.
    spec.description.replace(/^\s*\n/, '').trimEnd(),
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    '',
    EXIT_CODES_HELP
  ].join('\n')
}

export function parse (spec: CommandSpec, argv: string[]): { values: OptionValues, args: string[] } {
  const options = optionsOf(spec)
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }]))
    })
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), `see \`peerpacs ${spec.name} --help\``)
  }
  const values = parsed.values as OptionValues
  if (values.help === true) return { values, args: parsed.positionals }
  const args = parsed.positionals
  if (args.length < spec.minArgs) throw new UsageError(`missing ${spec.args}`, `usage: peerpacs ${spec.name} [options] ${spec.args}`)
  if (args.length > spec.maxArgs) throw new UsageError(`unexpected argument "${args[spec.maxArgs]}"`, `usage: peerpacs ${spec.name} [options] ${spec.args}`.trimEnd())
  for (const [name, o] of Object.entries(options)) {
    if (o.type === 'string' && values[name] === '') throw new UsageError(`--${name} needs a value`)
  }
  return { values, args }
}

export function dataDirOf (values: OptionValues, env: NodeJS.ProcessEnv): string {
  const fromFlag = values.data
  if (typeof fromFlag === 'string') return fromFlag
  return env.PEERPACS_DATA !== undefined && env.PEERPACS_DATA !== '' ? env.PEERPACS_DATA : './data'
}
