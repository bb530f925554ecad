/**
 * The blocks server against clients that break the protocol: each malformed, oversized or
 * piled-up request is reported as a violation and its stream is reset, and the same server then
 * serves an honest fetcher on the same connection. Also: answers for blobs it does not hold or
 * may not give, an index beyond the blob, and a client that simply goes away.
 */
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { BLOCK_SIZE, type BlobId } from '../../../../../protocol/blob-id.ts'
import { concatBytes } from '../../../../../protocol/bytes.ts'
import { frameStream } from '../../../../../node/mesh/blocks/frame-stream.ts'
import {
  BLOCKS_PROTOCOL, decodeAnswer, encodeNotHeld, encodeRequest, encodeVarint, MAX_ANSWER_FRAME, MAX_REQUEST_FRAME
} from '../../../../../protocol/wire/blocks.ts'
import { connect, makeFetcher, makeNode, readAll, serve, until, type TestNode } from './helpers.ts'

function frame (body: Uint8Array): Uint8Array { return concatBytes(encodeVarint(body.length), body) }

async function ended (stream: Stream): Promise<string> {
  if (stream.status !== 'open') return stream.status
  await new Promise((resolve) => stream.addEventListener('close', resolve, { once: true }))
  return stream.status
}

async function rawStream (from: TestNode, to: TestNode): Promise<Stream> {
  return await from.host.dialProtocol(to.host.peerId, BLOCKS_PROTOCOL)
}

test('malformed, oversized and piled-up requests: violation, stream reset, the server keeps serving', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(2 * BLOCK_SIZE + 5)
  const info = await a.put(data)
  const server = await serve(a)
  await connect(b, a)
  const id = info.id
  const range = encodeRequest(id, [0])
  const badList = encodeRequest(id, [1, 3]); badList[35 + 4 + 3] = 0 // indexes 1, 0: not increasing
  const piled = concatBytes(...Array.from({ length: 2000 }, () => frame(encodeRequest(id, [0]))))
  const cases: Array<{ name: string, bytes: Uint8Array, reason: RegExp }> = [
    { name: 'unknown kind', bytes: frame(concatBytes(Uint8Array.of(0x7f), range.subarray(1))), reason: /unknown kind 0x7f/ },
    { name: 'an answer sent as a request', bytes: frame(encodeNotHeld(id)), reason: /unknown kind 0x82/ },
    { name: 'empty frame', bytes: Uint8Array.of(0), reason: /empty frame/ },
    { name: 'range of 0 blocks', bytes: frame(concatBytes(range.subarray(0, 37), Uint8Array.of(0, 0))), reason: /count 0/ },
    { name: 'range one byte long', bytes: frame(concatBytes(range, Uint8Array.of(0))), reason: /expected 39 bytes, got 40/ },
    { name: 'list not increasing', bytes: frame(badList), reason: /strictly increasing/ },
    { name: 'announced length over the limit', bytes: encodeVarint(MAX_REQUEST_FRAME + 1), reason: /longer than the 291 bytes/ },
    { name: 'a 5-byte length', bytes: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), reason: /longer than the 291 bytes/ },
    { name: 'a length not minimally encoded', bytes: concatBytes(Uint8Array.of(0x80 | 39, 0x00), range), reason: /not minimally encoded/ },
    { name: '80 KB of requests piled up unread', bytes: piled, reason: /more than 65536 bytes arrived/ }
  ]
  for (const [i, c] of cases.entries()) {
    const stream = await rawStream(b, a)
    stream.send(c.bytes)
    assert.equal(await ended(stream), 'reset', `${c.name}: the server reset the stream`)
    await until(`${c.name}: violation reported`, () => server.violations.length === i + 1)
    assert.equal(server.violations[i]!.peer, b.host.peerId.toString(), c.name)
    assert.match(server.violations[i]!.reason, c.reason, c.name)
  }
  // Same connection, same server: an honest fetch still works.
  const f = makeFetcher(t, b)
  f.fetcher.addPeer(a.host.peerId)
  f.fetcher.want(info)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  assert.equal(server.violations.length, cases.length, 'the honest fetch is no violation')
})

test('answers: blocks in order over pipelined requests, not-held, refused, out-of-range (then the stream ends)', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(3 * BLOCK_SIZE + 100)
  const info = await a.put(data)
  const secret = await a.put(randomBytes(10))
  const server = await serve(a, { may: (_peer, blob) => blob !== secret.id })
  await connect(b, a)
  const stream = await rawStream(b, a)
  const frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_FRAME, maxUnreadBytes: 8 * MAX_ANSWER_FRAME })
  const absent = 'ab'.repeat(32) as BlobId
  // Four requests at once, answered in order.
  await frames.write([encodeRequest(info.id, [0, 3])], 1000) // a LIST
  await frames.write([encodeRequest(absent, [0])], 1000)
  await frames.write([encodeRequest(secret.id, [0])], 1000)
  await frames.write([encodeRequest(info.id, [1, 2])], 1000) // a RANGE
  const next = async (): Promise<ReturnType<typeof decodeAnswer>> => decodeAnswer((await frames.read(5000))!)
  const block0 = await next()
  assert.ok(block0.type === 'block' && block0.index === 0 && Buffer.from(block0.bytes).equals(data.subarray(0, BLOCK_SIZE)), 'block 0')
  const block3 = await next()
  assert.ok(block3.type === 'block' && block3.index === 3 && Buffer.from(block3.bytes).equals(data.subarray(3 * BLOCK_SIZE)), 'block 3 (100 bytes)')
  assert.deepEqual(await next(), { type: 'not-held', blob: absent })
  assert.deepEqual(await next(), { type: 'refused', blob: secret.id })
  for (const index of [1, 2]) {
    const block = await next()
    assert.ok(block.type === 'block' && block.index === index && Buffer.from(block.bytes).equals(data.subarray(index * BLOCK_SIZE, (index + 1) * BLOCK_SIZE)))
  }
  // Beyond the blob: an error, then the server ends the stream (no violation: its copy might be short).
  await frames.write([encodeRequest(info.id, [4])], 1000)
  const error = await next()
  assert.equal(error.type, 'error')
  assert.ok(error.type === 'error' && error.code === 'out-of-range' && /has 4 blocks/.test(error.message))
  assert.equal(await frames.read(5000), undefined, 'the server ended its side')
  assert.deepEqual(server.violations, [])
  await stream.close()
})

test('a client that goes away mid-frame or stays silent is not a violator', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const server = await serve(a, { idleTimeoutMs: 200 })
  await connect(b, a)
  const cut = await rawStream(b, a)
  cut.send(frame(encodeRequest('cd'.repeat(32) as BlobId, [0])).subarray(0, 20))
  await cut.close()
  const silent = await rawStream(b, a)
  // The server closes an idle stream after idleTimeoutMs: our side sees its end of writing.
  const frames = frameStream(silent, { maxFrameBytes: MAX_ANSWER_FRAME, maxUnreadBytes: MAX_ANSWER_FRAME })
  const started = Date.now()
  assert.equal(await frames.read(5000), undefined)
  assert.ok(Date.now() - started >= 150, 'closed after the idle timeout, not before')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(server.violations, [])
})
