/**
 * The node's HTTP front as `peerpacs start` builds it (node/daemon/http.ts: bearer tokens, then
 * /dicomweb and /wado), served by startHttp on 127.0.0.1 and a free port over a memory archive,
 * so tests see real sockets, real server timeouts and the per-address connection limit, and can
 * read the audit trail the requests left.
 */
import type { TestContext } from 'node:test'
import type { Archive } from '../../../node/archive/archive.ts'
import { createHttpApp, startHttp } from '../../../node/daemon/http.ts'
import { createLogger } from '../../../node/logging/logger.ts'
import type { HttpSettings } from '../../../node/config/settings.ts'
import { TokenStore } from '../../../node/daemon/tokens.ts'
import { dicomwebRoutes, wadoUriRoutes } from '../../../node/dicomweb/routes.ts'
import { Pacs } from '../../../node/pacs/pacs.ts'
import { provider, random } from '../../../node/runtime.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'
import { Hono } from 'hono'
import { memoryArchive } from '../../unit/node/helpers/archive.ts'

export interface HttpFront {
  readonly url: string
  readonly port: number
  readonly pacs: Pacs
  readonly archive: Archive
  readonly logs: string[]
  /** A new API token; its name is the user name the audit trail shows. */
  token: (name: string) => Promise<string>
}

export async function startFront (t: Pick<TestContext, 'after'>, settings: Partial<HttpSettings> = {}): Promise<HttpFront> {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const logs: string[] = []
  const log = createLogger({ level: 'debug', write: (line) => { logs.push(line) } })
  const full: HttpSettings = { host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: 256 << 20, ...settings }
  const tokens = new TokenStore(new MemoryKvStore(), provider, random)
  const app = createHttpApp({
    settings: full,
    tokens,
    controlToken: 'ppc_' + 'f'.repeat(40),
    log,
    control: new Hono(),
    api: new Hono(),
    mounts: { '/dicomweb': dicomwebRoutes(pacs, full, log), '/wado': wadoUriRoutes(pacs, log) }
  })
  const server = await startHttp(app, full, log)
  t.after(async () => {
    await server.close()
    await pacs.drain()
    await archive.auditor.flush()
    await archive.close()
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port,
    pacs,
    archive,
    logs,
    token: async (name) => (await tokens.create(name)).token
  }
}
