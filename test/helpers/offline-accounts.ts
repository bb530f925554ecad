/**
 * Accounts of a stopped site, changed or read by opening its data dir in a separate node process
 * (offline-accounts-script.ts), the way `peerpacs users` works where no node runs: what it
 * writes syncs to the other sites when the node starts again.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { childEnv } from './cli.ts'

const SCRIPT = fileURLToPath(new URL('./offline-accounts-script.ts', import.meta.url))
const run = promisify(execFile)

async function offline (args: string[]): Promise<any> {
  const { stdout } = await run(process.execPath, [SCRIPT, ...args], { env: childEnv(), maxBuffer: 16 << 20 })
  const line = stdout.trim().split('\n').at(-1)
  assert.ok(line !== undefined && /^[[{]/.test(line), `offline-accounts ${args[0]} printed no JSON: ${stdout}`)
  return JSON.parse(line!)
}

export interface AccountOp {
  readonly op: string
  readonly type: string
  readonly author: string
  /** Longest path from the genesis. */
  readonly depth: number
  /** The account's other ops among this one's ancestors. */
  readonly after: string[]
}

/** Sets the password of `username` at the stopped site; returns the op written. */
export async function offlinePasswd (data: string, username: string, password: string): Promise<{ user: string, op: string }> {
  return await offline(['passwd', data, username, password])
}

/** The account's ops (with causal depths and ancestry computed from parents) and the op its state names. */
export async function offlineInspect (data: string, username: string): Promise<{ user: string, node: string, recordOp: string, stateRecord: { op: string, depth: number }, disabled: boolean, ops: AccountOp[] }> {
  return await offline(['inspect', data, username])
}

export interface OpenedSecrets {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly password: { salt: string, hash: string } | null
  readonly totp: string | null
  readonly recovery: string[]
}

/** Every account's record as the stopped site opens it (hex for bytes). */
export async function offlineSecrets (data: string): Promise<OpenedSecrets[]> {
  return await offline(['secrets', data])
}
