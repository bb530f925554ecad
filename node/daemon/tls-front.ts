/**
 * One port, two answers (issue 19): when the node serves HTTPS, its HTTP port still takes a
 * plain-HTTP connection, but only to redirect it (308, same host, port and path, https://), so a
 * bookmark or a typed http:// address lands on the encrypted site and never gets a page, a
 * cookie or a password form in clear.
 *
 * The front is a TCP server; it reads a connection's first bytes and hands the socket, bytes put
 * back, to the HTTPS server (a TLS record starts with 0x16, a handshake) or to the redirector
 * (anything else). Neither inner server listens itself, so each is told 'listening' once: that is
 * what starts node:http's header and request deadline checks. A connection that sends nothing
 * within the header deadline is closed.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'

const TLS_HANDSHAKE = 0x16

/** Where a plain request is sent: https:// on the host it asked for (else the address it reached). */
export function redirectTarget (req: IncomingMessage): string {
  const socket = req.socket
  const local = socket.localAddress ?? '127.0.0.1'
  const fallback = `${local.includes(':') ? `[${local}]` : local}:${socket.localPort ?? ''}`
  const asked = req.headers.host
  // A Host header is a host and an optional port; anything else is not echoed into a Location.
  const host = asked !== undefined && /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/.test(asked) ? asked : fallback
  const path = (req.url ?? '/').startsWith('/') ? req.url! : '/'
  return `https://${host}${path}`
}

/** The redirector's request listener: 308 (method and body kept), no body worth reading. */
export function redirectListener (req: IncomingMessage, res: ServerResponse): void {
  const location = redirectTarget(req)
  res.writeHead(308, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' })
  res.end(`This node answers over HTTPS only: ${location}\n`)
  req.resume()
}

export interface FrontOptions {
  readonly secure: HttpServer
  readonly plain: HttpServer
  /** Milliseconds a new connection has to send its first byte. */
  readonly firstByteTimeoutMs: number
}

export function createFront (options: FrontOptions): NetServer {
  options.secure.emit('listening')
  options.plain.emit('listening')
  const route = (socket: Socket): void => {
    const data = socket.read() as Buffer | null
    if (data === null) { socket.once('readable', () => route(socket)); return }
    socket.setTimeout(0)
    socket.removeListener('timeout', silent)
    socket.removeListener('error', ignore)
    socket.unshift(data)
    ;(data[0] === TLS_HANDSHAKE ? options.secure : options.plain).emit('connection', socket)
  }
  return createNetServer({ pauseOnConnect: false }, (socket) => {
    socket.setNoDelay(true)
    socket.on('error', ignore)
    socket.setTimeout(options.firstByteTimeoutMs)
    socket.on('timeout', silent)
    route(socket)
  })
}

function ignore (): void {}

function silent (this: Socket): void { this.destroy() }
