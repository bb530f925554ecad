/**
 * A TCP proxy for tests that makes a link worse without ever changing a byte. It sits in front of
 * a target host:port, listens on 127.0.0.1:0, and can add one-way latency to every chunk in both
 * directions, pace each direction to a byte rate (one shared link per direction, as a real link),
 * cut each connection after a seeded random number of bytes, refuse new connections, or take the
 * whole link down. Bytes are only delayed, paced or cut off, never reordered or altered.
 *
 * Cut points come from test/synthetic/prng.ts seeded with `seed`, drawn one per connection in the
 * order connections arrive, so a failing run can be replayed. "After N bytes" counts the bytes
 * that have passed through the connection in both directions together; the bytes before the cut
 * are delivered, then both sockets are closed.
 *
 * Each connection and direction holds at most `bufferBytes` in the proxy; beyond that it stops
 * reading, so the sender feels TCP backpressure as it would from a slow link.
 */
import net from 'node:net'
import { once } from 'node:events'
import { Prng } from '../synthetic/prng.ts'

export interface ByteRange { min: number, max: number }

export interface FaultProxyOptions {
  /** Where connections are forwarded. */
  target: { host: string, port: number }
  /** One-way latency added to every chunk in each direction, in ms (default 0). */
  delayMs?: number
  /** Pace each direction to this many bytes per second (default: unpaced). */
  rateBytesPerSecond?: number
  /** Cut each connection after a random byte count in [min, max] (default: never). */
  cutAfterBytes?: ByteRange
  /** Seed of the cut points (default 1). */
  seed?: number
  /** Close new connections at once (default false); see setRefuse. */
  refuse?: boolean
  /** Bytes held per connection and direction before the proxy stops reading (default 1 MiB). */
  bufferBytes?: number
}

export interface FaultProxyStats {
  /** Connections accepted and forwarded (refused ones are not counted here). */
  connections: number
  /** Connections still open. */
  active: number
  /** Connections closed at once because the proxy was refusing. */
  refused: number
  /** Bytes delivered client → target and target → client. */
  bytesToTarget: number
  bytesFromTarget: number
  /** Connections cut, by their byte budget or by setLinkDown(true). */
  cuts: number
}

export interface FaultProxy {
  readonly host: string
  readonly port: number
  /** Refuse new connections (reset at once: the dialer sees ECONNRESET or an empty close, not
   *  ECONNREFUSED, as the port stays bound), or accept them again; open ones are left alone. */
  setRefuse: (refuse: boolean) => void
  /** Down: cut every open connection and refuse new ones. Up: accept again. */
  setLinkDown: (down: boolean) => void
  stats: () => FaultProxyStats
  /** Stops listening and closes every connection. */
  close: () => Promise<void>
}

const PACE_PIECE = 16 * 1024
const CUT_FLUSH_MS = 1000

export async function startFaultProxy (options: FaultProxyOptions): Promise<FaultProxy> {
  const { target } = options
  if (typeof target?.host !== 'string' || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new TypeError(`fault proxy: target { host, port 1..65535 } expected, got ${JSON.stringify(target)}`)
  }
  const delayMs = options.delayMs ?? 0
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`fault proxy: delayMs >= 0 expected, got ${delayMs}`)
  const rate = options.rateBytesPerSecond
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw new RangeError(`fault proxy: rateBytesPerSecond > 0 expected, got ${rate}`)
  const cut = options.cutAfterBytes
  if (cut !== undefined && !(Number.isSafeInteger(cut.min) && Number.isSafeInteger(cut.max) && cut.min >= 0 && cut.min <= cut.max)) {
    throw new RangeError(`fault proxy: cutAfterBytes { min, max } integers with 0 <= min <= max expected, got ${JSON.stringify(cut)}`)
  }
  const bufferBytes = options.bufferBytes ?? 1024 * 1024
  if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 1) throw new RangeError(`fault proxy: bufferBytes positive integer expected, got ${bufferBytes}`)
  const prng = new Prng(options.seed ?? 1)

  let refuse = options.refuse ?? false
  let closed = false
  const stats = { connections: 0, refused: 0, bytesToTarget: 0, bytesFromTarget: 0, cuts: 0 }
  const open = new Set<Connection>()
  // One pacing clock per direction, shared by every connection: the time the link is next free.
  const links = { up: { freeAt: 0 }, down: { freeAt: 0 } }

  interface Pipe {
    src: net.Socket
    dst: net.Socket
    link: { freeAt: number }
    queue: Array<{ bytes: Uint8Array, departs: number, due: number }>
    queued: number
    srcEnded: boolean
    dstEnded: boolean
    timer: NodeJS.Timeout | undefined
    count: (n: number) => void
  }
  interface Connection { client: net.Socket, server: net.Socket, pipes: Pipe[], budget: number, done: boolean }

  function makePipe (conn: Connection, src: net.Socket, dst: net.Socket, link: { freeAt: number }, count: (n: number) => void): Pipe {
    const pipe: Pipe = { src, dst, link, queue: [], queued: 0, srcEnded: false, dstEnded: false, timer: undefined, count }
    src.on('data', (chunk: Buffer) => {
      if (conn.done) return
      const now = performance.now()
      if (rate === undefined) {
        pipe.queue.push({ bytes: chunk, departs: now, due: now + delayMs })
      } else {
        for (let at = 0; at < chunk.length; at += PACE_PIECE) {
          const piece = chunk.subarray(at, at + PACE_PIECE)
          link.freeAt = Math.max(now, link.freeAt) + piece.length * 1000 / rate
          pipe.queue.push({ bytes: piece, departs: link.freeAt, due: link.freeAt + delayMs })
        }
      }
      pipe.queued += chunk.length
      flow(pipe)
      schedule(conn, pipe)
    })
    src.on('end', () => {
      pipe.srcEnded = true
      schedule(conn, pipe)
    })
    dst.on('drain', () => flow(pipe))
    return pipe
  }

  /** Stops reading from the source while too much is held for its destination. */
  function flow (pipe: Pipe): void {
    const full = pipe.queued + pipe.dst.writableLength > bufferBytes
    if (full && !pipe.src.isPaused()) pipe.src.pause()
    else if (!full && pipe.src.isPaused() && !pipe.src.destroyed) pipe.src.resume()
  }

  function schedule (conn: Connection, pipe: Pipe): void {
    if (conn.done || pipe.timer !== undefined) return
    const head = pipe.queue[0]
    if (head === undefined) {
      if (pipe.srcEnded && !pipe.dstEnded) {
        pipe.dstEnded = true
        pipe.dst.end()
      }
      return
    }
    // Timers may fire up to a millisecond early against performance.now(); flush re-checks.
    const wait = head.due - performance.now()
    if (wait <= 0) flush(conn, pipe)
    else pipe.timer = setTimeout(() => { pipe.timer = undefined; flush(conn, pipe) }, Math.ceil(wait))
  }

  function flush (conn: Connection, pipe: Pipe): void {
    const now = performance.now()
    while (!conn.done && pipe.queue[0] !== undefined && pipe.queue[0].due <= now) {
      const { bytes } = pipe.queue.shift()!
      pipe.queued -= bytes.length
      if (bytes.length < conn.budget) {
        conn.budget -= bytes.length
        pipe.count(bytes.length)
        pipe.dst.write(bytes)
        continue
      }
      // The budget runs out in this chunk: deliver what fits, then cut.
      const last = bytes.subarray(0, conn.budget)
      pipe.count(last.length)
      conn.budget = 0
      cutConnection(conn, { to: pipe.dst, last })
      return
    }
    flow(pipe)
    schedule(conn, pipe)
  }

  /** Closes both sockets; `flush.to` (if given) first gets `flush.last` and an orderly end. */
  function cutConnection (conn: Connection, flush?: { to: net.Socket, last: Uint8Array }): void {
    if (conn.done) return
    stats.cuts++
    finish(conn)
    for (const socket of [conn.client, conn.server]) {
      if (socket !== flush?.to) { socket.destroy(); continue }
      socket.end(flush.last)
      const timer = setTimeout(() => socket.destroy(), CUT_FLUSH_MS)
      socket.once('finish', () => { clearTimeout(timer); socket.destroy() })
      socket.once('close', () => clearTimeout(timer))
    }
  }

  /** Marks the connection over and drops whatever it still held. */
  function finish (conn: Connection): void {
    conn.done = true
    open.delete(conn)
    const now = performance.now()
    for (const pipe of conn.pipes) {
      clearTimeout(pipe.timer)
      pipe.timer = undefined
      // Give back the link time booked for pieces that will now never be sent.
      if (rate !== undefined) for (const { bytes, departs } of pipe.queue) if (departs > now) pipe.link.freeAt -= bytes.length * 1000 / rate
      pipe.queue.length = 0
      pipe.queued = 0
    }
  }

  function destroyConnection (conn: Connection): void {
    if (conn.done) return
    finish(conn)
    conn.client.destroy()
    conn.server.destroy()
  }

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    if (closed || refuse) {
      stats.refused++
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    stats.connections++
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true })
    const conn: Connection = { client, server: upstream, pipes: [], budget: cut === undefined ? Infinity : prng.int(cut.min, cut.max), done: false }
    open.add(conn)
    conn.pipes.push(
      makePipe(conn, client, upstream, links.up, (n) => { stats.bytesToTarget += n }),
      makePipe(conn, upstream, client, links.down, (n) => { stats.bytesFromTarget += n })
    )
    for (const socket of [client, upstream]) {
      const from = conn.pipes.find((p) => p.src === socket)!
      const to = conn.pipes.find((p) => p.dst === socket)!
      socket.on('error', () => destroyConnection(conn))
      socket.on('close', () => {
        // Closed before both of its directions ended in order: tear the other side down too.
        // Otherwise the other side may still be owed delayed bytes and ends on its own.
        if (!(from.srcEnded && to.dstEnded)) destroyConnection(conn)
        else if (client.destroyed && upstream.destroyed) finish(conn)
      })
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address() as net.AddressInfo

  return {
    host: address.address,
    port: address.port,
    setRefuse: (value) => { refuse = value },
    setLinkDown: (down) => {
      refuse = down
      if (down) for (const conn of [...open]) cutConnection(conn)
    },
    stats: () => ({ ...stats, active: open.size }),
    close: async () => {
      if (closed) return
      closed = true
      const stopped = once(server, 'close')
      server.close()
      for (const conn of [...open]) destroyConnection(conn)
      await stopped
    }
  }
}
