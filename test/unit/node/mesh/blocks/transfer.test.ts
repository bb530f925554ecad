/**
 * /peerpacs/blocks end to end: real libp2p hosts on 127.0.0.1 in this process, a blocks server
 * on one and a BlockFetcher on another. Round trips of odd sizes, priority order, resuming from a
 * partial file cut mid-block (counting the bytes served), a damaged server copy (violation,
 * nothing committed, the blob then comes from an honest peer), peers that do not hold or may not
 * have a blob, and retry when a peer appears.
 */
import { randomBytes } from 'node:crypto'
import { open, readdir, stat, writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BLOCK_SIZE, type BlobId } from '../../../../../protocol/blob-id.ts'
import type { ReadRange } from '../../../../../node/store/blob-store.ts'
import { connect, CountingBlobStore, infoOf, makeFetcher, makeNode, provider, readAll, serve, until } from './helpers.ts'

const MiB = BLOCK_SIZE

test('round trip: blobs of 3.5 MiB, 0 bytes, exactly 1 MiB, 1 byte and 10.25 MiB arrive whole and verified', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  await serve(a)
  const datas = [randomBytes(3.5 * MiB), new Uint8Array(0), randomBytes(MiB), randomBytes(1), randomBytes(10.25 * MiB)]
  const infos = []
  for (const data of datas) infos.push(await a.put(data))
  await connect(b, a)
  // A small window and two blobs at a time: requests are refilled many times per stream.
  const f = makeFetcher(t, b, { window: 3, maxBlobs: 2 })
  f.fetcher.addPeer(a.host.peerId)
  for (const info of infos) f.fetcher.want(info, 0)
  f.fetcher.want(infos[0]!, 0) // idempotent
  assert.equal(f.fetcher.status().wanted, infos.length)
  for (const info of infos) await f.whenFetched(info.id)
  for (const [i, info] of infos.entries()) {
    assert.ok((await readAll(b.blobs, info.id)).equals(Buffer.from(datas[i]!)), `blob ${i} (${info.size} bytes) differs`)
  }
  assert.equal(f.fetched.length, infos.length, 'each blob reported once')
  const total = datas.reduce((n, d) => n + d.length, 0)
  assert.deepEqual(f.fetcher.status(), { wanted: 0, bytesPending: 0, bytesFetched: total, inFlight: 0 })
  assert.deepEqual(await readdir(b.partials.dir), [], 'no partial file left')
  assert.deepEqual(f.violations, [])
})

test('order: higher priority first, then the newest want', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  await serve(a)
  const [x, y, z, w] = [await a.put(randomBytes(1000)), await a.put(randomBytes(1001)), await a.put(randomBytes(1002)), await a.put(randomBytes(1003))]
  await connect(b, a)
  const f = makeFetcher(t, b, { maxBlobs: 1 })
  // No peer yet: nothing can start, so the order is decided by priority and age alone.
  f.fetcher.want(x, 0)
  f.fetcher.want(y, 5)
  f.fetcher.want(z, 0)
  f.fetcher.want(w, 1)
  f.fetcher.want(x, 2) // raises x above w and z
  f.fetcher.addPeer(a.host.peerId)
  for (const info of [x, y, z, w]) await f.whenFetched(info.id)
  assert.deepEqual(f.fetched, [y.id, x.id, w.id, z.id])
})

test('resume: a partial file cut mid-block re-fetches less than one block', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const counting = new CountingBlobStore(a.blobs)
  await serve(a, { blobs: counting })
  const data = randomBytes(3.5 * MiB)
  const info = await a.put(data)
  // What a receiver killed with kill -9 in the middle of block 2 leaves behind.
  const cut = 2.5 * MiB
  await writeFile(b.partials.pathOf(info.id), data.subarray(0, cut))
  await connect(b, a)
  const f = makeFetcher(t, b)
  f.fetcher.addPeer(a.host.peerId)
  f.fetcher.want(info)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  const refetched = counting.bytesRead - (info.size - cut)
  assert.equal(counting.bytesRead, 1.5 * MiB, 'blocks 2 and 3 only')
  assert.ok(refetched >= 0 && refetched < BLOCK_SIZE, `re-fetched ${refetched} bytes it had`)
  assert.equal(f.fetcher.status().bytesFetched, counting.bytesRead)
})

test('resume: garbage and holes in the partial file are fetched again, good blocks are not', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const counting = new CountingBlobStore(a.blobs)
  await serve(a, { blobs: counting })
  const data = randomBytes(5 * MiB + 7)
  const info = await a.put(data)
  const file = await open(b.partials.pathOf(info.id), 'w')
  await file.write(data.subarray(0, MiB), 0, MiB, 0) // block 0 good
  // block 1: a hole; block 2 good; block 3 garbage; block 4 good; block 5 (7 bytes) missing
  await file.write(data.subarray(2 * MiB, 3 * MiB), 0, MiB, 2 * MiB)
  await file.write(randomBytes(MiB), 0, MiB, 3 * MiB)
  await file.write(data.subarray(4 * MiB, 5 * MiB), 0, MiB, 4 * MiB)
  await file.close()
  await connect(b, a)
  const f = makeFetcher(t, b)
  f.fetcher.addPeer(a.host.peerId)
  f.fetcher.want(info)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  assert.equal(counting.bytesRead, 2 * MiB + 7, 'blocks 1, 3 and 5 only')
})

test('a server sending a wrong block: violation, nothing committed, the blob then comes from an honest peer', async (t) => {
  const liar = await makeNode(t)
  const honest = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(3 * MiB)
  const info = await liar.put(data)
  await honest.put(data)
  // The liar's copy is damaged on disk (one bit of block 1), and it serves it unchecked.
  const file = await open(liar.blobs.pathOf(info.id), 'r+')
  await file.write(Uint8Array.of(data[MiB + 10]! ^ 1), 0, 1, MiB + 10)
  await file.close()
  await serve(liar)
  await serve(honest)
  await connect(b, liar)
  await connect(b, honest)
  const f = makeFetcher(t, b, { retryMs: 60_000 })
  f.fetcher.addPeer(liar.host.peerId)
  f.fetcher.want(info)
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('no violation reported')), 10_000)
    const poll = setInterval(() => { if (f.violations.length > 0) { clearInterval(poll); clearTimeout(deadline); resolve() } }, 10)
  })
  assert.deepEqual(f.violations, [{ peer: liar.host.peerId.toString(), reason: 'block does not match its hash' }])
  assert.equal(await b.blobs.size(info.id), undefined, 'nothing committed')
  assert.equal(f.fetched.length, 0)
  assert.equal(f.fetcher.status().wanted, 1)
  // Block 0 was good and is kept; the bad block 1 never reached the partial file.
  const partial = await b.partials.begin(info)
  assert.ok(partial.held(0))
  assert.ok(!partial.held(1))
  await partial.close()
  // An honest peer appears: the blob comes from it, the liar is not asked again.
  f.fetcher.addPeer(honest.host.peerId)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  assert.equal(f.violations.length, 1)
})

test('a server that checks its blocks (digestOf) answers a damaged block with an error, not a bad block', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(2 * MiB)
  const info = await a.put(data)
  const file = await open(a.blobs.pathOf(info.id), 'r+')
  await file.write(Uint8Array.of(data[5]! ^ 0x80), 0, 1, 5)
  await file.close()
  const server = await serve(a, { digestOf: (id) => id === info.id ? info : undefined, provider })
  await connect(b, a)
  const f = makeFetcher(t, b, { retryMs: 60_000 })
  f.fetcher.addPeer(a.host.peerId)
  f.fetcher.want(info)
  await new Promise((resolve) => setTimeout(resolve, 50))
  for (let i = 0; i < 200 && f.fetcher.status().inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(f.fetcher.status().inFlight, 0, 'the attempt ended')
  assert.ok(server.mayAsked.includes(info.id), 'the server was asked')
  assert.deepEqual(f.violations, [], 'an honest server with a damaged disk is not a violator')
  assert.deepEqual(server.violations, [])
  assert.equal(await b.blobs.size(info.id), undefined)
  assert.equal(f.fetcher.status().wanted, 1)
})

test('a peer that does not hold the blob, or may not give it: the next peer is used', async (t) => {
  const empty = await makeNode(t)
  const refusing = await makeNode(t)
  const holder = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(1.5 * MiB)
  const info = await holder.put(data)
  await refusing.put(data)
  const emptyServer = await serve(empty)
  const refusingAsked: string[] = []
  await serve(refusing, { may: (_peer, blob) => { refusingAsked.push(blob); return false } })
  await serve(holder)
  for (const peer of [empty, refusing, holder]) await connect(b, peer)
  const f = makeFetcher(t, b)
  // The first want starts at the first peer added, then goes round in order.
  f.fetcher.want(info)
  f.fetcher.addPeer(empty.host.peerId)
  f.fetcher.addPeer(refusing.host.peerId)
  f.fetcher.addPeer(holder.host.peerId)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  assert.deepEqual(emptyServer.mayAsked, [info.id], 'the peer without it was asked first')
  assert.deepEqual(refusingAsked, [info.id], 'the refusing peer was asked next')
  assert.deepEqual(f.violations, [])
})

test('no peer holds it: it waits, and is fetched as soon as a peer that has it is added', async (t) => {
  const empty = await makeNode(t)
  const holder = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(MiB + 1)
  const info = await holder.put(data)
  const emptyServer = await serve(empty)
  await serve(holder)
  await connect(b, empty)
  await connect(b, holder)
  // A retry delay far beyond the test: only addPeer can bring the blob in time.
  const f = makeFetcher(t, b, { retryMs: 120_000 })
  f.fetcher.addPeer(empty.host.peerId)
  f.fetcher.want(info)
  for (let i = 0; i < 500 && emptyServer.mayAsked.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.deepEqual(emptyServer.mayAsked, [info.id])
  for (let i = 0; i < 200 && f.fetcher.status().inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.deepEqual(f.fetcher.status(), { wanted: 1, bytesPending: info.size, bytesFetched: 0, inFlight: 0 })
  f.fetcher.addPeer(holder.host.peerId)
  await f.whenFetched(info.id, 5000)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
})

test('a blob already in the store completes at once, without asking a peer; a want with a malformed BlobInfo is refused', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const served = await serve(a)
  const data = randomBytes(3000)
  const info = await b.put(data)
  const f = makeFetcher(t, b)
  f.fetcher.addPeer(a.host.peerId)
  f.fetcher.want(info)
  await f.whenFetched(info.id, 2000)
  assert.deepEqual(served.mayAsked, [], 'no peer was asked')
  assert.equal(f.fetcher.status().bytesFetched, 0)
  const bad = { ...infoOf(data), size: 2999 }
  assert.throws(() => f.fetcher.want(bad), { code: 'INVALID_ARGUMENT', message: /do not hash to its id|malformed/ })
  const otherBlockSize = infoOf(randomBytes(10))
  assert.throws(() => f.fetcher.want({ ...otherBlockSize, blockSize: 4096 }), { code: 'INVALID_ARGUMENT', message: /4096-byte blocks/ })
})

/** A store that runs `before(index)` before each block-sized read of a blob (the server reads one block at a time). */
class HookedBlobStore extends CountingBlobStore {
  before: (index: number) => Promise<void> = async () => {}
  override async * read (id: BlobId, range?: ReadRange): AsyncIterable<Uint8Array> {
    await this.before(Math.floor((range?.start ?? 0) / BLOCK_SIZE))
    yield * super.read(id, range)
  }
}

test('a peer that drops the connection mid-blob: the rest comes from another peer, from the blocks held', async (t) => {
  const flaky = await makeNode(t)
  const holder = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(6 * MiB)
  const info = await flaky.put(data)
  await holder.put(data)
  const flakyStore = new HookedBlobStore(flaky.blobs)
  const holderStore = new CountingBlobStore(holder.blobs)
  await serve(flaky, { blobs: flakyStore })
  await serve(holder, { blobs: holderStore })
  await connect(b, flaky)
  await connect(b, holder)
  const f = makeFetcher(t, b, { retryMs: 60_000 })
  // Before serving block 3, wait until the receiver has written two blocks, then cut the connection.
  flakyStore.before = async (index) => {
    if (index !== 3) return
    await until('two blocks written', () => f.fetcher.status().bytesFetched >= 2 * MiB)
    for (const connection of flaky.host.getConnections(b.host.peerId)) connection.abort(new Error('cable pulled'))
    throw new Error('connection gone')
  }
  f.fetcher.want(info)
  f.fetcher.addPeer(flaky.host.peerId) // the first want starts at the first peer added
  f.fetcher.addPeer(holder.host.peerId)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  const fromFlaky = f.fetcher.status().bytesFetched - holderStore.bytesRead
  assert.ok(fromFlaky >= 2 * MiB, `kept ${fromFlaky} bytes from the first peer`)
  assert.equal(holderStore.bytesRead, info.size - fromFlaky, 'the second peer sent only the blocks still missing')
  assert.deepEqual(f.violations, [])
})

test('close() mid-blob keeps the partial file; a new fetcher (a restart) resumes from it', async (t) => {
  const a = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(5 * MiB + 3)
  const info = await a.put(data)
  const store = new HookedBlobStore(a.blobs)
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  t.after(() => release())
  await serve(a, { blobs: store })
  await connect(b, a)
  const first = makeFetcher(t, b)
  store.before = async (index) => { if (index === 2) await released }
  first.fetcher.addPeer(a.host.peerId)
  first.fetcher.want(info)
  await until('two blocks written', () => first.fetcher.status().bytesFetched === 2 * MiB)
  await first.fetcher.close()
  assert.equal(first.fetched.length, 0)
  assert.equal(await b.blobs.size(info.id), undefined)
  assert.equal((await stat(b.partials.pathOf(info.id))).size, 2 * MiB, 'the partial file holds the two blocks')
  assert.throws(() => first.fetcher.want(info), { message: /closed/ })
  store.before = async () => {}
  release()
  const second = makeFetcher(t, b)
  second.fetcher.addPeer(a.host.peerId)
  second.fetcher.want(info)
  await second.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  assert.equal(second.fetcher.status().bytesFetched, info.size - 2 * MiB, 'only the blocks it did not have')
})

test('removePeer mid-blob drops that peer\'s stream; the blob is finished from another peer', async (t) => {
  const slow = await makeNode(t)
  const holder = await makeNode(t)
  const b = await makeNode(t)
  const data = randomBytes(4 * MiB)
  const info = await slow.put(data)
  await holder.put(data)
  const slowStore = new HookedBlobStore(slow.blobs)
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  t.after(() => release())
  slowStore.before = async (index) => { if (index === 1) await released }
  const holderStore = new CountingBlobStore(holder.blobs)
  await serve(slow, { blobs: slowStore })
  await serve(holder, { blobs: holderStore })
  await connect(b, slow)
  await connect(b, holder)
  const f = makeFetcher(t, b, { retryMs: 60_000 })
  f.fetcher.want(info)
  f.fetcher.addPeer(slow.host.peerId)
  f.fetcher.addPeer(holder.host.peerId)
  await until('block 0 written', () => f.fetcher.status().bytesFetched === MiB)
  assert.equal(holderStore.bytesRead, 0, 'the second peer was not asked yet')
  f.fetcher.removePeer(slow.host.peerId)
  await f.whenFetched(info.id)
  assert.ok((await readAll(b.blobs, info.id)).equals(data))
  assert.equal(holderStore.bytesRead, 3 * MiB, 'blocks 1 to 3 from the second peer')
  assert.deepEqual(f.violations, [])
})
