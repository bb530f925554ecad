/**
 * The node's HTTP server (hono on node:http): CORS for browser viewers on other origins, bearer
 * token authentication in front of every route, the DICOMweb and WADO-URI routes, and the
 * node's own API. Two kinds of bearer are accepted: API tokens (`peerpacs token create`) for
 * DICOMweb and status, and the control token (a secret in the data dir's control.json, readable
 * only by whoever may open the data dir) for /api/cli, which runs CLI commands inside the node
 * and is answered on loopback only. The server cuts slow clients and caps connections per
 * address (http-limits.ts). With TLS (tls.ts, issue 19) the port serves HTTPS, every answer with
 * HSTS, and a plain-HTTP connection to it only gets a redirect to https:// (tls-front.ts).
 */
import { createAdaptorServer, serve, type ServerType } from '@hono/node-server'
import type { Server as NodeHttpServer, RequestListener } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Server as TlsServer } from 'node:tls'
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import { equalBytes, utf8Encode } from '../../protocol/bytes.ts'
import { httpAnswerOf, problemResponse } from '../dicomweb/http-errors.ts'
import type { Logger } from '../logging/logger.ts'
import { httpLimits, limitedServer } from './http-limits.ts'
import type { HttpSettings } from '../config/settings.ts'
import type { TokenRecord, TokenStore } from './tokens.ts'
import type { Gate } from '../people/gate.ts'
import { createFront, redirectListener } from './tls-front.ts'
import { HSTS } from './tls.ts'
import type { TlsService } from './tls-service.ts'

export type Caller = { kind: 'control' } | { kind: 'token', token: TokenRecord }

export interface HttpMounts {
  /** Sub-apps by path prefix, e.g. '/dicomweb'. */
  readonly [prefix: string]: Hono
}

export interface HttpAppOptions {
  readonly settings: HttpSettings
  readonly tokens: TokenStore
  readonly controlToken: string
  readonly log: Logger
  readonly mounts: HttpMounts
  /** Routes that need the control token (the CLI channel, admin). */
  readonly control: Hono
  /** Routes any valid bearer may use (status). */
  readonly api: Hono
  /**
   * People's sign-in (node/people/gate.ts): session cookies, the role × route table, CSRF, the
   * studies a role sees. Without it every route needs a bearer token and sees every study.
   */
  readonly gate?: Gate
  /** Told of each accepted API token and each refused bearer (the node audits them). */
  readonly onAuth?: (event: { ok: true, token: { id: string, name: string }, remote: string | undefined } | { ok: false, remote: string | undefined }) => void
}

function unauthorized (c: Context, message: string): Response {
  c.header('WWW-Authenticate', 'Bearer realm="peerpacs"')
  return c.json({ error: 'unauthorized', message }, 401)
}

function isLoopback (address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
}

export function createHttpApp (options: HttpAppOptions): Hono {
  const { settings, tokens, log } = options
  const controlBytes = utf8Encode(options.controlToken)
  const app = new Hono()

  if (settings.corsOrigins.length > 0) {
    app.use('*', cors({
      origin: settings.corsOrigins.includes('*') ? '*' : [...settings.corsOrigins],
      allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'X-CSRF-Token'],
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['Content-Type', 'Content-Length', 'Warning'],
      maxAge: 600
    }))
  }

  app.use('*', async (c, next) => {
    const header = c.req.header('authorization')
    if (header === undefined && options.gate !== undefined) {
      // No bearer: a person's session cookie, or nobody (the gate decides what that may do).
      const refused = await options.gate.admit(c, undefined)
      if (refused !== undefined) return refused
      await next()
      return
    }
    if (header === undefined) return unauthorized(c, 'this route needs a bearer token (Authorization: Bearer ...); create one with `peerpacs token create --name NAME`')
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (match === null) return unauthorized(c, 'the Authorization header must be "Bearer TOKEN"')
    const bearer = match[1]!
    let caller: Caller | undefined
    const bytes = utf8Encode(bearer)
    if (bytes.length === controlBytes.length && equalBytes(bytes, controlBytes)) caller = { kind: 'control' }
    else {
      const token = await tokens.verify(bearer)
      if (token !== undefined) caller = { kind: 'token', token }
    }
    if (caller === undefined) {
      log.warn('http.auth.refused', { method: c.req.method, route: c.req.routePath, remote: remoteOf(c) })
      options.onAuth?.({ ok: false, remote: socketOf(c)?.remoteAddress })
      return unauthorized(c, 'the bearer token is unknown or revoked')
    }
    if (caller.kind === 'token') options.onAuth?.({ ok: true, token: caller.token, remote: socketOf(c)?.remoteAddress })
    if (options.gate !== undefined) {
      const refused = await options.gate.admit(c, caller)
      if (refused !== undefined) return refused
    } else c.set('caller' as never, caller as never)
    await next()
  })

  app.use('/api/cli/*', async (c, next) => {
    const caller = c.get('caller' as never) as Caller
    if (caller.kind !== 'control') return c.json({ error: 'forbidden', message: 'this route needs the node\'s control token' }, 403)
    // Loopback, or this machine talking to its own LAN address (a node bound to one address).
    const socket = socketOf(c)
    const local = isLoopback(socket?.remoteAddress) || (socket?.remoteAddress !== undefined && socket.remoteAddress === socket.localAddress)
    if (!local) return c.json({ error: 'forbidden', message: 'the CLI channel answers only to this machine' }, 403)
    await next()
  })
  app.route('/api/cli', options.control)
  app.route('/api', options.api)
  for (const [prefix, sub] of Object.entries(options.mounts)) app.route(prefix, sub)

  app.notFound((c) => c.json({ error: 'not found', message: `no route ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}` }, 404))
  app.onError((error, c) => {
    // An error a client can act on is answered by its row in the one table (dicomweb/http-errors.ts).
    const answer = httpAnswerOf(error)
    if (answer.status >= 500) log.error('http.error', { method: c.req.method, route: c.req.routePath, error: (error as { code?: string }).code ?? error.name })
    if (answer.says === undefined) return problemResponse(error)
    return c.json({ error: 'internal error', message: 'the node failed to answer this request; see its log' }, 500)
  })
  return app
}

function socketOf (c: Context): { remoteAddress?: string, localAddress?: string } | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string, localAddress?: string } } } | undefined
  return env?.incoming?.socket
}

function remoteOf (c: Context): string | undefined {
  return socketOf(c)?.remoteAddress
}

export interface HttpServer {
  readonly port: number
  /** 'https' when it serves TLS (then plain HTTP on the port only redirects). */
  readonly scheme: 'http' | 'https'
  close: () => Promise<void>
}

/**
 * Serves `app` on settings.host:port: plain HTTP, or with `tls` HTTPS (its certificate swapped
 * on renewal, tls-service.ts) with plain HTTP on the same port answered by a redirect.
 */
export async function startHttp (app: Hono, settings: HttpSettings, log: Logger, tls?: TlsService): Promise<HttpServer> {
  if (tls !== undefined) return await startHttps(app, settings, log, tls)
  const limits = httpLimits(settings)
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: settings.host, port: settings.port, createServer: limitedServer(limits, log) as never }, () => resolve(s))
    s.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  server.on('connection', (socket) => { socket.setNoDelay(true) })
  log.info('http.listening', { scheme: 'http', host: settings.host, port, headersTimeout: limits.headersTimeoutMs / 1000, requestTimeout: limits.requestTimeoutMs / 1000, idleTimeout: limits.idleTimeoutMs / 1000, maxConnectionsPerAddress: limits.maxConnectionsPerAddress })
  return {
    port,
    scheme: 'http',
    close: async () => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.() }, 5000)
        server.close(() => { clearTimeout(timer); resolve() })
        ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
      })
    }
  }
}

async function startHttps (app: Hono, settings: HttpSettings, log: Logger, tls: TlsService): Promise<HttpServer> {
  const limits = httpLimits(settings)
  const secure = createAdaptorServer({
    fetch: app.fetch,
    createServer: ((options: object, listener: RequestListener) => limitedServer(limits, log, tls.secureOptions)(options, (req, res) => {
      res.setHeader('Strict-Transport-Security', HSTS)
      listener(req, res)
    })) as never
  }) as NodeHttpServer
  const plain = limitedServer(limits, log)({}, redirectListener)
  const front = createFront({ secure, plain, firstByteTimeoutMs: limits.headersTimeoutMs })
  const sockets = new Set<Socket>()
  front.on('connection', (socket: Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)) })
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject)
    front.listen(settings.port, settings.host, () => { front.removeListener('error', reject); resolve() })
  })
  tls.attach(secure as unknown as TlsServer)
  const port = (front.address() as AddressInfo).port
  const info = tls.info
  log.info('http.listening', {
    scheme: 'https', host: settings.host, port, fingerprint: info.fingerprint, subject: info.subject, notAfter: info.notAfter, certificate: info.source, certFile: info.certFile,
    plainHttp: 'redirect', headersTimeout: limits.headersTimeoutMs / 1000, requestTimeout: limits.requestTimeoutMs / 1000, idleTimeout: limits.idleTimeoutMs / 1000, maxConnectionsPerAddress: limits.maxConnectionsPerAddress
  })
  return {
    port,
    scheme: 'https',
    close: async () => {
      tls.close()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          secure.closeAllConnections()
          plain.closeAllConnections()
          for (const socket of sockets) socket.destroy()
        }, 5000)
        front.close(() => { clearTimeout(timer); resolve() })
        // Neither inner server listens: close() only stops their deadline checks and idle connections.
        secure.close(() => {})
        plain.close(() => {})
      })
    }
  }
}
