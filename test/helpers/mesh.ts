/**
 * Several peerpacs nodes of one org, each a separate `peerpacs start` process on 127.0.0.1, as
 * a practice runs them: the founder is initialised, the others join with invites made by a
 * running node. Helpers read a node's status through its HTTP API with its control token and
 * wait for conditions by polling (never by sleeping a fixed time).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { parseRecords, runCli, show } from './cli.ts'
import { tempDir } from './files.ts'
import { startNode, type NodeProcess } from './node-process.ts'

export interface MeshNode {
  readonly name: string
  readonly data: string
  process: NodeProcess
  /** Restarts the node on the same data dir (after stop or kill). */
  restart: (args?: string[]) => Promise<NodeProcess>
}

type Ctx = Pick<TestContext, 'after'>

async function launch (t: Ctx, name: string, data: string, args: string[]): Promise<MeshNode> {
  const node: MeshNode = {
    name,
    data,
    process: await startNode(t, data, ['--accept-unknown-ae', ...args]),
    restart: async (more = []) => {
      node.process = await startNode(t, data, ['--accept-unknown-ae', ...args, ...more])
      return node.process
    }
  }
  return node
}

export async function founder (t: Ctx, name = 'A', args: string[] = []): Promise<MeshNode> {
  const data = join(await tempDir(t, `peerpacs-mesh-${name}-`), 'data')
  const init = await runCli(['init', '--data', data, '--name', 'Mesh Test Practice', '--recovery-key-out', join(data, '..', 'recovery.key')])
  assert.equal(init.code, 0, show(init))
  return await launch(t, name, data, args)
}

/** An invite code made by the running `inviter`. */
export async function invite (inviter: MeshNode, role: 'site' | 'backup' | 'specialist', extra: string[] = []): Promise<string> {
  const r = await runCli(['invite', '--data', inviter.data, '--role', role, '--json', ...extra])
  assert.equal(r.code, 0, show(r))
  const record = parseRecords(r.stdout).find((x) => typeof x.code === 'string')
  assert.ok(record !== undefined, `invite printed no code: ${show(r)}`)
  return record.code as string
}

/** A new node that joins with an invite from `inviter`, then starts. */
export async function join_ (t: Ctx, inviter: MeshNode, name: string, role: 'site' | 'backup' | 'specialist' = 'site', args: string[] = []): Promise<MeshNode> {
  const code = await invite(inviter, role)
  const data = join(await tempDir(t, `peerpacs-mesh-${name}-`), 'data')
  const r = await runCli(['init', '--join', code, '--data', data])
  assert.equal(r.code, 0, show(r))
  return await launch(t, name, data, args)
}
export { join_ as joinSite }

export async function status (node: MeshNode): Promise<Record<string, any>> {
  const control = JSON.parse(await readFile(join(node.data, 'control.json'), 'utf8')) as { url: string, token: string }
  const response = await fetch(`${control.url}/api/status`, { headers: { authorization: `Bearer ${control.token}` } })
  assert.equal(response.status, 200)
  return await response.json() as Record<string, any>
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms` with `what`. */
export async function waitFor<T> (what: string, check: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) { last = error }
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Waits until `node` holds every instance of `studies` studies (per its mesh status) and nothing is partial. */
export async function waitForStudies (node: MeshNode, studies: number, ms = 120_000): Promise<Record<string, any>> {
  return await waitFor(`${node.name} to hold ${studies} studies locally`, async () => {
    const s = await status(node)
    return s.mesh?.studies?.local === studies && s.mesh.studies.partial === 0 && s.mesh.studies.remoteOnly === 0 ? s : undefined
  }, ms)
}
