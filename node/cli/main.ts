/**
 * The `peerpacs` command line: finds the command, parses its options, runs it, and turns any
 * error into a message on stderr (a JSON error record on stdout with --json) and an exit code.
 */
import { readFileSync } from 'node:fs'
import { PeerpacsError } from '../../protocol/errors.ts'
import { dataDirOf, helpOf, parse, UsageError, type CommandSpec } from './command.ts'
import { exportCommand } from './commands/export.ts'
import { fsckCommand } from './commands/fsck.ts'
import { importCommand } from './commands/import.ts'
import { init } from './commands/init.ts'
import { studies } from './commands/studies.ts'
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.ts'
import { Output } from './output.ts'

export const COMMANDS: readonly CommandSpec[] = [init, importCommand, studies, exportCommand, fsckCommand]

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

export async function main (argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
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
  try {
    if (spec === undefined) throw new UsageError(`unknown command "${name}"`, `commands: ${COMMANDS.map((c) => c.name).join(', ')}; see \`peerpacs --help\``)
    const { values, args } = parse(spec, rest)
    if (values.help === true) {
      process.stdout.write(helpOf(spec) + '\n')
      return EXIT.OK
    }
    return await spec.run({ values, args, dataDir: dataDirOf(values, env), out, env })
  } catch (error) {
    const known = error instanceof PeerpacsError
    const code = known ? error.code : 'INTERNAL'
    const message = error instanceof Error ? error.message : String(error)
    const hint = known ? error.hint : undefined
    out.record({ type: 'error', code, message, ...(hint === undefined ? {} : { hint }) })
    out.error(known ? message : `unexpected failure: ${message}`, hint)
    if (!known && env.PEERPACS_DEBUG !== undefined && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`)
    return exitCodeFor(known ? code : undefined)
  }
}

if (import.meta.main) {
  // Everything this process creates (keys, index, exports of PHI) is for its user alone.
  process.umask(0o077)
  process.exitCode = await main(process.argv.slice(2))
}
