/**
 * The node's HTTP front with people's sign-in, in process: a memory archive, its Pacs, People with
 * an injected clock, and the app as node.ts builds it (bearer tokens, the gate, /api with the
 * people routes and status, /dicomweb, /wado). Requests go through hono's app.request with the
 * client address set as node:http would, so address binding and throttling see real addresses.
 * `Browser` keeps a cookie and the CSRF token like a browser tab and the viewer do.
 */
import type { TestContext } from 'node:test'
import { Hono } from 'hono'
import * as OTPAuth from 'otpauth'
import type { Archive } from '../../node/archive/archive.ts'
import { createHttpApp } from '../../node/daemon/http.ts'
import { TokenStore } from '../../node/daemon/tokens.ts'
import { dicomwebRoutes, wadoUriRoutes } from '../../node/dicomweb/routes.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { Pacs } from '../../node/pacs/pacs.ts'
import type { ChangeAuthor } from '../../node/people/accounts.ts'
import { mountPeople, peopleStatus } from '../../node/people/mount.ts'
import { People } from '../../node/people/people.ts'
import type { PersonRole } from '../../node/people/roles.ts'
import { provider, random } from '../../node/runtime.ts'
import { cliUser } from '../../node/audit/actors.ts'
import { memoryArchive, type TestArchive } from '../unit/node/helpers/archive.ts'

export const CLI_AUTHOR: ChangeAuthor = { by: 'cli:test', actor: cliUser() }
export const ORIGIN = 'http://localhost:8042'

export interface PeopleFront {
  readonly app: Hono
  readonly archive: Archive
  readonly test: TestArchive
  readonly pacs: Pacs
  readonly people: People
  readonly tokens: TokenStore
  /** The injected clock (ms); move it with `advance`. */
  now: () => number
  advance: (ms: number) => void
  /** Adds an account at the command line (as `peerpacs users add` does). */
  addUser: (username: string, role: PersonRole, password?: string) => Promise<string>
  browser: (address?: string) => Browser
}

/** The front over an open archive, as node.ts builds it: Pacs, People, tokens and the app. */
export async function frontOver (archive: Archive, now: () => number = Date.now): Promise<{ app: Hono, pacs: Pacs, people: People, tokens: TokenStore }> {
  const pacs = await Pacs.load(archive)
  const people = new People(archive, await archive.log(), { log: silentLogger, secure: false, relyingParty: { id: 'localhost', name: 'peerpacs test', origins: [ORIGIN] }, now })
  const tokens = new TokenStore(archive.kv, provider, random)
  const api = new Hono()
  api.get('/status', async (c) => c.json({ studies: pacs.studyCount, people: await peopleStatus(people) }))
  mountPeople(api, people, pacs)
  const settings = { host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: 64 << 20 }
  const app = createHttpApp({
    settings, tokens, controlToken: 'ppc_' + 'c'.repeat(40), log: silentLogger, control: new Hono(), api, gate: people.gate,
    mounts: { '/dicomweb': dicomwebRoutes(pacs, settings, silentLogger), '/wado': wadoUriRoutes(pacs, silentLogger) }
  })
  return { app, pacs, people, tokens }
}

/** Adds an account at the command line (as `peerpacs users add` does); returns its id. */
export async function addUserTo (people: People, username: string, role: PersonRole, password?: string): Promise<string> {
  return (await people.accounts.add({ username, role, ...(password === undefined ? {} : { password }) }, CLI_AUTHOR)).id
}

export async function peopleFront (t: Pick<TestContext, 'after'>): Promise<PeopleFront> {
  const test = await memoryArchive(t)
  const { archive } = test
  let clock = Date.now()
  const now = (): number => clock
  const { app, pacs, people, tokens } = await frontOver(archive, now)
  t.after(async () => {
    await pacs.drain()
    await archive.auditor.flush()
    await archive.close()
  })
  return {
    app, archive, test, pacs, people, tokens, now,
    advance: (ms) => { clock += ms },
    addUser: async (username, role, password) => await addUserTo(people, username, role, password),
    browser: (address = '192.0.2.10') => new Browser(app, address, now)
  }
}

export interface Answer {
  readonly status: number
  readonly body: any
  readonly headers: Headers
}

/** One browser tab: its cookie, its CSRF token, its address. */
export class Browser {
  readonly #app: Hono
  readonly #now: () => number
  address: string
  cookie: string | undefined
  csrf: string | undefined
  totpUri: string | undefined

  constructor (app: Hono, address: string, now: () => number) {
    this.#app = app
    this.address = address
    this.#now = now
  }

  async request (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const h: Record<string, string> = { ...headers }
    if (this.cookie !== undefined) h.cookie = `peerpacs_session=${this.cookie}`
    if (this.csrf !== undefined && h['x-csrf-token'] === undefined) h['x-csrf-token'] = this.csrf
    let payload: string | undefined
    if (body !== undefined) { payload = typeof body === 'string' ? body : JSON.stringify(body); h['content-type'] ??= 'application/json' }
    const response = await this.#app.request(path, { method, headers: h, ...(payload === undefined ? {} : { body: payload }) }, { incoming: { socket: { remoteAddress: this.address, localAddress: '127.0.0.1' } } })
    const set = response.headers.get('set-cookie')
    if (set !== null) {
      const m = /peerpacs_session=([^;]*)/.exec(set)
      if (m !== null) this.cookie = m[1] === '' ? undefined : m[1]
    }
    const text = await response.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* not JSON */ }
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { csrf?: unknown }).csrf === 'string') this.csrf = (parsed as { csrf: string }).csrf
    return { status: response.status, body: parsed, headers: response.headers }
  }

  /** The current TOTP code of the enrolled secret (at the front's clock, or `offsetSteps` away). */
  code (offsetSteps = 0): string {
    const totp = OTPAuth.URI.parse(this.totpUri!) as OTPAuth.TOTP
    return totp.generate({ timestamp: this.#now() + offsetSteps * 30_000 })
  }

  /** Password, then (when due) TOTP: enrolled on first sign-in. Returns the final answer. */
  async signIn (username: string, password: string): Promise<Answer> {
    const first = await this.request('POST', '/api/session', { username, password })
    if (first.status !== 200 || first.body.stage === 'full') return first
    if (first.body.secondFactor.enrol === true) {
      const enrol = await this.request('POST', '/api/session/totp-enrolment', {})
      this.totpUri = enrol.body.uri
    }
    return await this.request('POST', '/api/session/second-factor', { method: 'totp', code: this.code() })
  }
}
