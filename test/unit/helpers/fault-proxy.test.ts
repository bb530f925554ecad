/**
 * The fault proxy (test/helpers/fault-proxy.ts) against a local echo server and a counting sink:
 * bytes arrive whole and in order through delay and pacing, the delay and the pace are really
 * applied, cuts land inside their range and repeat with the seed, and link down / refuse close
 * what they should.
 */
import net from 'node:net'
import { once } from 'node:events'
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from '../../helpers/fault-proxy.ts'
import { Prng } from '../../synthetic/prng.ts'

interface Server { port: number, received: () => number[], closedCount: () => number }

/** A server on 127.0.0.1:0 closed when the test ends; `echo` writes back, otherwise it counts. */
async function server (t: TestContext, echo: boolean): Promise<Server> {
  const received: number[] = []
  let closedCount = 0
  const sockets = new Set<net.Socket>()
  const s = net.createServer((socket) => {
    sockets.add(socket)
    let n = 0
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => { n += d.length })
    if (echo) socket.pipe(socket)
    else socket.on('end', () => socket.end())
    socket.on('close', () => { received.push(n); closedCount++; sockets.delete(socket) })
  })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    s.close()
    await once(s, 'close')
  })
  return { port: (s.address() as net.AddressInfo).port, received: () => received, closedCount: () => closedCount }
}

async function proxy (t: TestContext, port: number, options: Omit<FaultProxyOptions, 'target'> = {}): Promise<FaultProxy> {
  const p = await startFaultProxy({ target: { host: '127.0.0.1', port }, ...options })
  t.after(() => p.close())
  return p
}

async function connect (t: TestContext, port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true })
  socket.on('error', () => {})
  t.after(() => { socket.destroy() })
  await once(socket, 'connect')
  return socket
}

/** Resolves when the socket has closed, whether or not it failed (events.once would reject). */
function closed (socket: net.Socket): Promise<void> {
  return new Promise((resolve) => { if (socket.closed) resolve(); else socket.once('close', () => resolve()) })
}

/** Dials a refusing proxy: the connection must close without carrying a byte either way. */
async function dialRefused (port: number): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  socket.on('connect', () => socket.write('x'))
  let received = 0
  socket.on('data', (d: Buffer) => { received += d.length })
  await closed(socket)
  return received
}

/** Everything the socket sends back until it ends or closes. */
function collect (socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))))
}

/** Writes `bytes` in seeded random slices of 1 byte to 64 KiB, then ends. */
function writeSliced (socket: net.Socket, bytes: Uint8Array, seed: number): void {
  const prng = new Prng(seed)
  for (let at = 0; at < bytes.length;) {
    const n = prng.int(1, 65536)
    socket.write(bytes.subarray(at, at + n))
    at += n
  }
  socket.end()
}

async function roundTripMs (socket: net.Socket): Promise<number> {
  const start = performance.now()
  socket.write('x')
  await once(socket, 'data')
  return performance.now() - start
}

async function waitFor (what: string, check: () => boolean, ms = 5000): Promise<void> {
  const until = performance.now() + ms
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

test('bytes pass whole and in order through delay in both directions', async (t) => {
  const echo = await server(t, true)
  const p = await proxy(t, echo.port, { delayMs: 15 })
  const payload = new Prng(11).bytes(3_000_000)
  const socket = await connect(t, p.port)
  const back = collect(socket)
  writeSliced(socket, payload, 12)
  const got = await back
  assert.equal(got.length, payload.length)
  assert.ok(got.equals(payload), 'echoed bytes differ from those sent')
  assert.deepEqual({ ...p.stats(), active: 0 }, { connections: 1, active: 0, refused: 0, bytesToTarget: payload.length, bytesFromTarget: payload.length, cuts: 0 })
})

test('bytes pass whole and in order through pacing plus delay, and the pace holds', async (t) => {
  const echo = await server(t, true)
  const rate = 1_000_000
  const p = await proxy(t, echo.port, { delayMs: 5, rateBytesPerSecond: rate, bufferBytes: 64 * 1024 })
  const payload = new Prng(21).bytes(400_000)
  const socket = await connect(t, p.port)
  const back = collect(socket)
  const start = performance.now()
  writeSliced(socket, payload, 22)
  const got = await back
  const seconds = (performance.now() - start) / 1000
  assert.ok(got.equals(payload), 'echoed bytes differ from those sent')
  // Each direction is paced on its own and they overlap, so the floor is one direction's time.
  assert.ok(seconds >= payload.length / rate, `400 kB at 1 MB/s took only ${seconds.toFixed(3)} s`)
  assert.ok(seconds < 3 * payload.length / rate, `400 kB at 1 MB/s took ${seconds.toFixed(3)} s`)
})

test('bytes dropped by a cut give their booked link time back', async (t) => {
  const echo = await server(t, true)
  const p = await proxy(t, echo.port, { rateBytesPerSecond: 100_000 })
  const first = await connect(t, p.port)
  first.write(new Prng(31).bytes(80_000)) // 0.8 s of link time, booked as it arrives
  await new Promise((resolve) => setTimeout(resolve, 50))
  const cut = closed(first)
  p.setLinkDown(true)
  await cut
  p.setLinkDown(false)
  const second = await connect(t, p.port)
  const ms = await roundTripMs(second)
  assert.ok(ms < 300, `a 1-byte round trip after the cut took ${ms.toFixed(0)} ms: the dropped bytes still hold the link`)
})

test('the delay is applied: every round trip takes at least twice the one-way delay', async (t) => {
  const echo = await server(t, true)
  const delayMs = 60
  const p = await proxy(t, echo.port, { delayMs })
  const socket = await connect(t, p.port)
  for (let i = 0; i < 3; i++) {
    const ms = await roundTripMs(socket)
    assert.ok(ms >= 2 * delayMs, `round trip ${ms.toFixed(1)} ms, expected >= ${2 * delayMs}`)
    assert.ok(ms < 2 * delayMs + 200, `round trip ${ms.toFixed(1)} ms, far above ${2 * delayMs}`)
  }
})

/** Opens `count` connections one after another, each sending `bytes`; the sink's counts. */
async function cutRun (t: TestContext, seed: number, count: number, bytes: number): Promise<{ received: number[], proxy: FaultProxy }> {
  const sink = await server(t, false)
  const p = await proxy(t, sink.port, { cutAfterBytes: { min: 10_000, max: 200_000 }, seed })
  for (let i = 0; i < count; i++) {
    const socket = await connect(t, p.port)
    const done = closed(socket)
    socket.write(new Prng(i).bytes(bytes))
    await done
    await waitFor('the sink to see the cut', () => sink.closedCount() === i + 1)
  }
  return { received: sink.received(), proxy: p }
}

test('each connection is cut after a byte count inside the range', async (t) => {
  const { received, proxy: p } = await cutRun(t, 7, 6, 500_000)
  assert.equal(received.length, 6)
  for (const n of received) assert.ok(n >= 10_000 && n <= 200_000, `cut after ${n} bytes, outside [10000, 200000]`)
  assert.equal(p.stats().cuts, 6)
  assert.equal(p.stats().bytesToTarget, received.reduce((a, b) => a + b, 0))
  assert.equal(p.stats().active, 0)
})

test('the same seed gives the same cut points, another seed others', async (t) => {
  const a = await cutRun(t, 42, 4, 300_000)
  const b = await cutRun(t, 42, 4, 300_000)
  const c = await cutRun(t, 43, 4, 300_000)
  assert.deepEqual(a.received, b.received)
  assert.notDeepEqual(a.received, c.received)
})

test('link down cuts open connections and refuses new ones; link up accepts again', async (t) => {
  const echo = await server(t, true)
  const p = await proxy(t, echo.port)
  const before = await connect(t, p.port)
  await roundTripMs(before)
  const beforeClosed = closed(before)
  p.setLinkDown(true)
  await beforeClosed
  assert.equal(await dialRefused(p.port), 0, 'a connection made while the link was down carried bytes')
  p.setLinkDown(false)
  const after = await connect(t, p.port)
  await roundTripMs(after)
  const stats = p.stats()
  assert.equal(stats.connections, 2)
  assert.equal(stats.refused, 1)
  assert.equal(stats.cuts, 1)
  assert.equal(stats.active, 1)
})

test('refuse closes new connections only; open ones keep working', async (t) => {
  const echo = await server(t, true)
  const p = await proxy(t, echo.port, { refuse: true })
  assert.equal(await dialRefused(p.port), 0)
  p.setRefuse(false)
  const open = await connect(t, p.port)
  await roundTripMs(open)
  p.setRefuse(true)
  assert.equal(await dialRefused(p.port), 0)
  await roundTripMs(open)
  assert.deepEqual({ ...p.stats() }, { connections: 1, active: 1, refused: 2, bytesToTarget: 2, bytesFromTarget: 2, cuts: 0 })
})

test('close ends open connections and stops listening', async (t) => {
  const echo = await server(t, true)
  const p = await proxy(t, echo.port, { delayMs: 5 })
  const socket = await connect(t, p.port)
  await roundTripMs(socket)
  const done = closed(socket)
  await p.close()
  await done
  const late = net.connect({ host: '127.0.0.1', port: p.port })
  const [error] = await once(late, 'error') as [NodeJS.ErrnoException]
  assert.equal(error.code, 'ECONNREFUSED')
})

test('bad options are refused with what arrived', async () => {
  const target = { host: '127.0.0.1', port: 9 }
  await assert.rejects(startFaultProxy({ target: { host: '127.0.0.1', port: 0 } }), /target .* got/)
  await assert.rejects(startFaultProxy({ target, delayMs: -1 }), /delayMs >= 0 expected, got -1/)
  await assert.rejects(startFaultProxy({ target, rateBytesPerSecond: 0 }), /rateBytesPerSecond > 0 expected, got 0/)
  await assert.rejects(startFaultProxy({ target, cutAfterBytes: { min: 5, max: 4 } }), /cutAfterBytes .* got \{"min":5,"max":4\}/)
  await assert.rejects(startFaultProxy({ target, bufferBytes: 0 }), /bufferBytes positive integer expected, got 0/)
})
