/**
 * What keeps slow or greedy HTTP clients from holding the node (issue 12 item 3):
 *   headersTimeout     a request's headers must arrive within it (a client sending half a header
 *                      line and then nothing is cut with 408)
 *   requestTimeout     the whole request, body included, within it; generous (a STOW-RS of a large
 *                      study takes minutes), 0 for none
 *   idleTimeout        no byte either way for this long closes the connection: a body that stalls,
 *                      or a response the client stops reading; a slow body that keeps coming is fine
 *   keepAliveTimeout   an idle keep-alive connection waits this long for its next request
 *   maxConnectionsPerAddress
 *                      connections one address may hold at once; one more is answered 503 with
 *                      Connection: close before any of its requests reaches a route
 * Times are in seconds in the settings, milliseconds here.
 */
import type { IncomingMessage, RequestListener, Server, ServerOptions, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https'
import type { Socket } from 'node:net'
import { DEFAULTS } from '../config/config.ts'
import type { Logger } from '../logging/logger.ts'
import type { HttpSettings } from '../config/settings.ts'

export interface HttpLimits {
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxConnectionsPerAddress: number
}

export function httpLimits (settings: HttpSettings): HttpLimits {
  return {
    headersTimeoutMs: (settings.headersTimeout ?? DEFAULTS.httpHeadersTimeout) * 1000,
    requestTimeoutMs: (settings.requestTimeout ?? DEFAULTS.httpRequestTimeout) * 1000,
    idleTimeoutMs: (settings.idleTimeout ?? DEFAULTS.httpIdleTimeout) * 1000,
    keepAliveTimeoutMs: (settings.keepAliveTimeout ?? DEFAULTS.httpKeepAliveTimeout) * 1000,
    maxConnectionsPerAddress: settings.maxConnectionsPerAddress ?? DEFAULTS.httpMaxConnectionsPerAddress
  }
}

/** IPv4 peers on a dual-stack socket count under their plain address. */
function addressOf (socket: Socket): string {
  const a = socket.remoteAddress ?? 'unknown'
  return a.startsWith('::ffff:') ? a.slice(7) : a
}

const REFUSED_GRACE_MS = 1000
const LOG_WINDOW_MS = 60_000

function refusal (max: number): string {
  const body = JSON.stringify({ error: 'too-many-connections', message: `this address already holds ${max} connections to the node, the most it allows at once (http.maxConnectionsPerAddress); close some or reuse them (keep-alive)` })
  return `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 5\r\nConnection: close\r\n\r\n${body}`
}

/**
 * A `createServer` for @hono/node-server's serve() that builds the server with these limits: the
 * timeouts as server options, and the per-address count kept from 'connection' to 'close'. With
 * `secure` (TLS options) it is an HTTPS server; a refused connection there is closed without an
 * answer (a plain-text 503 would mean nothing to a TLS client).
 */
export function limitedServer (limits: HttpLimits, log: Logger, secure?: HttpsServerOptions): (options: ServerOptions, listener: RequestListener) => Server {
  return (options, listener) => {
    const refused = new WeakSet<Socket>()
    const open = new Map<string, number>()
    const lastLogged = new Map<string, number>()
    const make = secure === undefined ? createServer : (o: ServerOptions, l: RequestListener): Server => createHttpsServer({ ...secure, ...o } as HttpsServerOptions, l)
    const server = make({
      ...options,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often header and request deadlines are checked: often enough for short test settings.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4)))
    }, (req: IncomingMessage, res: ServerResponse) => {
      // A refused connection was answered when it opened; nothing it sends reaches a route.
      if (refused.has(req.socket)) { req.resume(); return }
      listener(req, res)
    })
    // No 'timeout' listener: a socket idle for this long is destroyed by node:http.
    server.setTimeout(limits.idleTimeoutMs)
    server.on('connection', (socket: Socket) => {
      const address = addressOf(socket)
      const count = open.get(address) ?? 0
      if (count >= limits.maxConnectionsPerAddress) {
        refused.add(socket)
        if (secure !== undefined) socket.destroy()
        else {
          socket.end(refusal(limits.maxConnectionsPerAddress))
          socket.setTimeout(REFUSED_GRACE_MS, () => socket.destroy())
        }
        const now = Date.now()
        if ((lastLogged.get(address) ?? 0) <= now - LOG_WINDOW_MS) {
          if (lastLogged.size > 10_000) lastLogged.clear()
          lastLogged.set(address, now)
          log.warn('http.connection.refused', { remote: address, reason: 'too-many-connections', limit: limits.maxConnectionsPerAddress })
        }
        return
      }
      open.set(address, count + 1)
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1
        if (left <= 0) open.delete(address)
        else open.set(address, left)
      })
    })
    return server
  }
}
