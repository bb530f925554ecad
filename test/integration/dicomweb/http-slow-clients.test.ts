/**
 * Issue 12 item 3 (HTTP half): slow and greedy clients on real sockets over 127.0.0.1, with the
 * node's HTTP server as startHttp builds it and its timeouts shortened through the settings.
 * Half-sent headers and stalled bodies are cut; a body that keeps coming slowly is not; one
 * address cannot hold more than maxConnectionsPerAddress connections (the next is a 503); and
 * normal requests are answered afterwards. Times asserted are only generous safety bounds.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { describe, test } from 'node:test'
import { multipartBody } from '../../helpers/dicomweb-server.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { startFront } from './http-front.ts'

interface Opened { socket: Socket, received: () => string, closed: Promise<number> }

/** A raw TCP connection; `closed` resolves with the ms it stayed open. */
async function open (port: number): Promise<Opened> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const start = Date.now()
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.on('error', () => undefined)
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)))
  return { socket, received: () => text, closed }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Resolves with `value` after `ms`, without keeping the process alive (a safety bound, never a pass condition). */
const bound = async <T>(ms: number, value: T): Promise<T> => await new Promise((resolve) => { setTimeout(() => resolve(value), ms).unref() })

async function normalRequest (url: string, token: string): Promise<number> {
  const r = await fetch(`${url}/dicomweb/studies`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } })
  await r.arrayBuffer()
  return r.status
}

describe('HTTP slow clients and the per-address limit', () => {
  test('half-sent headers are cut at headersTimeout; connections over the per-address limit get a 503; normal requests still work', async (t) => {
    const front = await startFront(t, { headersTimeout: 1, requestTimeout: 30, idleTimeout: 30, maxConnectionsPerAddress: 16 })
    const token = await front.token('slow-test')
    // 40 slowloris connections from one address: 16 are held until headersTimeout, 24 refused at once.
    const sockets: Opened[] = []
    for (let i = 0; i < 40; i++) {
      const o = await open(front.port)
      o.socket.write('GET /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
      sockets.push(o)
    }
    const lifetimes = await Promise.race([
      Promise.all(sockets.map(async (o) => await o.closed)),
      bound(15_000, undefined).then(() => { throw new Error('slow connections were still open after 15 s (headersTimeout is 1 s)') })
    ])
    const refused = sockets.filter((o) => o.received().startsWith('HTTP/1.1 503'))
    const timedOut = sockets.filter((o) => !o.received().startsWith('HTTP/1.1 503'))
    console.log(`40 slow connections: ${refused.length} refused (503), ${timedOut.length} cut at headersTimeout; longest open ${Math.max(...lifetimes)} ms`)
    assert.equal(refused.length, 24, 'the connections over the limit of 16 are refused')
    assert.equal(timedOut.length, 16)
    for (const o of refused) assert.match(o.received(), /too-many-connections/)
    for (const o of timedOut) assert.ok(o.received() === '' || o.received().startsWith('HTTP/1.1 408'), `cut without an answer or with a 408: ${o.received().slice(0, 80)}`)
    assert.equal(await normalRequest(front.url, token), 200, 'a normal request is answered afterwards')
  })

  test('a connection that holds the limit keeps it until it closes; then another may open', async (t) => {
    const front = await startFront(t, { headersTimeout: 30, requestTimeout: 60, idleTimeout: 30, maxConnectionsPerAddress: 2 })
    const token = await front.token('limit-test')
    const a = await open(front.port)
    const b = await open(front.port)
    await sleep(100)
    const r = await fetch(`${front.url}/dicomweb/studies`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 503)
    assert.equal((await r.json() as { error: string }).error, 'too-many-connections')
    a.socket.destroy()
    await a.closed
    await sleep(100)
    assert.equal(await normalRequest(front.url, token), 200)
    b.socket.destroy()
  })

  test('a body that stalls is cut at idleTimeout; a slow body that keeps coming is stored', async (t) => {
    const front = await startFront(t, { headersTimeout: 2, requestTimeout: 60, idleTimeout: 1 })
    const token = await front.token('body-test')
    const instance = syntheticStudy({ seed: 301, profile: 'ct', slices: 1 })[0]!
    const { body, contentType } = multipartBody([instance.bytes], 'slow-body')
    const head = `POST /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`

    const stalled = await open(front.port)
    stalled.socket.write(head)
    stalled.socket.write(body.subarray(0, 100))
    const stalledFor = await Promise.race([stalled.closed, bound(15_000, -1)])
    assert.notEqual(stalledFor, -1, 'a stalled body was still open after 15 s (idleTimeout is 1 s)')
    assert.equal(await front.pacs.findInstance(instance.sopInstanceUid), undefined, 'nothing stored from a cut body')

    // The same body in 20 pieces, 250 ms apart (5 s in all, well past idleTimeout): never idle, so kept.
    const slow = await open(front.port)
    slow.socket.write(head)
    const step = Math.ceil(body.length / 20)
    for (let at = 0; at < body.length; at += step) {
      slow.socket.write(body.subarray(at, at + step))
      await sleep(250)
    }
    const slowFor = await Promise.race([slow.closed, bound(15_000, -1)])
    console.log(`stalled body cut after ${stalledFor} ms; slow body (5 s, idleTimeout 1 s) answered after ${slowFor} ms`)
    assert.match(slow.received(), /^HTTP\/1\.1 200/, slow.received().slice(0, 200))
    assert.ok(await front.pacs.findInstance(instance.sopInstanceUid) !== undefined, 'the slow body was stored')
  })

  test('a body that keeps coming past requestTimeout is cut there', async (t) => {
    const front = await startFront(t, { headersTimeout: 1, requestTimeout: 2, idleTimeout: 30 })
    const token = await front.token('total-test')
    const o = await open(front.port)
    o.socket.write(`POST /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/related; type="application/dicom"; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n`)
    const timer = setInterval(() => { if (!o.socket.destroyed) o.socket.write('x'.repeat(10)) }, 200)
    t.after(() => clearInterval(timer))
    const lifetime = await Promise.race([o.closed, bound(20_000, -1)])
    clearInterval(timer)
    console.log(`a trickling body was cut after ${lifetime} ms (requestTimeout 2 s)`)
    assert.notEqual(lifetime, -1, 'the request was still open after 20 s (requestTimeout is 2 s)')
    assert.equal(await normalRequest(front.url, token), 200)
  })
})
