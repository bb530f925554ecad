/**
 * The `peerpacs` command line: finds the command, parses its options, runs it, and turns any
 * error into a message on stderr (a JSON error record on stdout with --json) and an exit code.
 */
import { readFileSync } from 'node:fs'
import { helpOf, secretsOf, UsageError, type CommandSpec } from './command.ts'
import { execute, reportError } from './execute.ts'
import { runningNode, runThroughNode } from './remote.ts'
import { COMMANDS } from './commands/index.ts'
import { EXIT, EXIT_CODES_HELP } from './exit-codes.ts'
import { Output } from './output.ts'

export { COMMANDS }

/** Commands that never go through a running node: they create or run one. */
const LOCAL_ONLY = new Set(['init', 'start'])

function version (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function mainHelp (): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2
  return [
    'Usage: peerpacs COMMAND [options]',
    '',
    'peerpacs: a peer-to-peer, end-to-end encrypted PACS node.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Every command takes --data DIR (default: $PEERPACS_DATA, else ./data), --json and --help.',
    'Run `peerpacs COMMAND --help` for a command\'s options.',
    '',
    EXIT_CODES_HELP
  ].join('\n')
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) of two short words. */
function distance (a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

/** The command a mistyped name most likely meant (`studis` → `studies`), if one is close. */
function nearest (typed: string, names: readonly string[]): string | undefined {
  const word = typed.toLowerCase().slice(0, 40)
  let best: { name: string, d: number } | undefined
  for (const name of names) {
    const d = name.startsWith(word) && word.length >= 2 ? 0 : distance(word, name)
    if (best === undefined || d < best.d) best = { name, d }
  }
  return best !== undefined && best.d <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined
}

let quietOnClosedStdout = false

/**
 * A reader that stops early (`peerpacs studies --json | head`) closes stdout; the next write
 * fails with EPIPE. That ends the command quietly with exit 0, as Unix tools do, instead of an
 * unhandled error. Work already done stays done (each write to the data dir is all-or-nothing).
 */
function endQuietlyWhenStdoutCloses (): void {
  if (quietOnClosedStdout) return
  quietOnClosedStdout = true
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0)
      throw error
    })
  }
}

export async function main (argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  endQuietlyWhenStdoutCloses()
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined
    process.stdout.write((topic !== undefined ? helpOf(topic) : mainHelp()) + '\n')
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(version() + '\n')
    return EXIT.OK
  }
  const json = rest.includes('--json')
  const out = new Output({ json })
  const spec = COMMANDS.find((c) => c.name === name)
  if (spec === undefined) {
    const near = nearest(name, COMMANDS.map((c) => c.name))
    return reportError(new UsageError(`unknown command "${name}"${near === undefined ? '' : `; did you mean "${near}"?`}`, `commands: ${COMMANDS.map((c) => c.name).join(', ')}; see \`peerpacs --help\``), out, env)
  }
  // While a node runs on the data dir, commands go through it (it holds the data dir).
  if (!LOCAL_ONLY.has(spec.name) && !rest.includes('--help') && !rest.includes('-h')) {
    let remote
    let secrets
    try {
      remote = await runningNode(spec, rest, env)
      // A password is read here, where the terminal is, not inside the node.
      if (remote !== undefined) secrets = await secretsOf(spec, rest, env)
    } catch (error) {
      return reportError(error, out, env)
    }
    if (remote !== undefined) return await runThroughNode(remote, spec, rest, out, env, secrets)
  }
  return await execute(spec, rest, { out, env, commands: COMMANDS, writeHelp: (text) => process.stdout.write(text) })
}

if (import.meta.main) {
  // Everything this process creates (keys, index, exports of PHI) is for its user alone.
  process.umask(0o077)
  process.exitCode = await main(process.argv.slice(2))
}
