/**
 * People on a mesh of `peerpacs start` processes (mesh.ts): the admin account routes driven with
 * a node's control token (as its operator would), the accounts a site sees, and a wait until a
 * site sees an account in a given state, by polling (the log syncs in its own time).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { waitFor, type MeshNode } from './mesh.ts'

export interface SiteAccount {
  readonly id: string
  readonly username: string
  readonly role: string
  readonly disabled: boolean
  readonly secondFactors: { totp: boolean, passkeys: number, recoveryCodes: number }
}

/** A request to the running node with its control token; returns status and JSON body. */
export async function asOperator (node: MeshNode, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> {
  const control = JSON.parse(await readFile(join(node.data, 'control.json'), 'utf8')) as { url: string, token: string }
  const response = await fetch(`${control.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${control.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  let parsed: any = text
  try { parsed = JSON.parse(text) } catch { /* not JSON */ }
  return { status: response.status, body: parsed }
}

/** Adds an account at a running site (POST /api/users as its operator). */
export async function addAccount (node: MeshNode, spec: { username: string, role: string, password: string, displayName?: string }): Promise<SiteAccount> {
  const r = await asOperator(node, 'POST', '/api/users', spec)
  assert.equal(r.status, 201, `${node.name}: POST /api/users ${spec.username}: ${JSON.stringify(r.body)}`)
  return r.body.user as SiteAccount
}

/** The accounts the running site can read. */
export async function accountsAt (node: MeshNode): Promise<SiteAccount[]> {
  const r = await asOperator(node, 'GET', '/api/users')
  assert.equal(r.status, 200, `${node.name}: GET /api/users: ${JSON.stringify(r.body)}`)
  return r.body.users as SiteAccount[]
}

/** Waits until `node` sees each named account and `check` holds for it. */
export async function waitForAccounts (node: MeshNode, usernames: string[], check: (a: SiteAccount) => boolean = () => true, ms = 90_000): Promise<SiteAccount[]> {
  return await waitFor(`${node.name} to see ${usernames.join(', ')} as expected`, async () => {
    const all = await accountsAt(node)
    const found = usernames.map((u) => all.find((a) => a.username === u))
    return found.every((a) => a !== undefined && check(a)) ? found as SiteAccount[] : undefined
  }, ms)
}
