/**
 * Runs the real `peerpacs` CLI in a child process, as a user would, on this Node (>= 22).
 * The test runner's own variables are removed from the child's environment, and so is any
 * passphrase unless the test passes one.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../node/cli/main.ts', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON lines (when --json was given). */
  records: Array<Record<string, any>>
}

export function childEnv (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.NODE_TEST_CONTEXT
  delete env.PEERPACS_PASSPHRASE
  delete env.PEERPACS_DATA
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export function spawnCli (args: string[], env: Record<string, string | undefined> = {}, cwd?: string): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) })
}

export function parseRecords (stdout: string): Array<Record<string, any>> {
  return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, any>)
}

export async function runCli (args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<CliResult> {
  const child = spawnCli(args, env, cwd)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  return { code, signal, stdout, stderr, records: args.includes('--json') ? parseRecords(stdout) : [] }
}

/** Describes a result for assertion messages. */
export function show (r: CliResult): string {
  return `exit ${r.code}${r.signal === null ? '' : ` signal ${r.signal}`}\n--- stdout\n${r.stdout.slice(0, 4000)}\n--- stderr\n${r.stderr.slice(0, 4000)}`
}
