/**
 * Partial objects (node/store/partial-blobs.ts) in the file store (FsBlobStore.beginPartial):
 * blocks verified before they are written, resume by re-hashing what the file holds (holes,
 * garbage, a cut tail), commit into the store (no second hash, one fdatasync), abort, and one
 * PartialBlob per id. The store-independent contract is in test/acceptance/blob-store.ts.
 */
import { randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { BLOCK_SIZE } from '../../../../../protocol/blob-id.ts'
import { FsBlobStore } from '../../../../../node/store/blob-store-fs.ts'
import { dataDirLayout } from '../../../../../node/store/data-dir.ts'
import { BlockMismatchError } from '../../../../../node/store/partial-blobs.ts'
import { tempDir } from '../../helpers/temp.ts'
import { infoOf, partialsOf, provider, readAll, type TestPartials } from './helpers.ts'

const MiB = BLOCK_SIZE

async function stores (t: TestContext): Promise<{ partials: TestPartials, blobs: FsBlobStore, root: string }> {
  const root = await tempDir(t)
  const layout = dataDirLayout(root)
  const blobs = await FsBlobStore.open(layout.blobsDir, provider)
  t.after(async () => { await blobs.close() })
  assert.equal(partialsOf(blobs).dir, layout.partialDir, 'partial/ beside blobs/ by default')
  return { partials: partialsOf(blobs), blobs, root }
}

function block (data: Uint8Array, i: number): Uint8Array { return data.subarray(i * MiB, Math.min(data.length, (i + 1) * MiB)) }

test('the data dir layout puts partial/ beside blobs/', async () => {
  const layout = dataDirLayout('/x/data')
  assert.equal(layout.partialDir, '/x/data/partial')
})

test('blocks in any order, then commit: the blob is in the store and the partial file is gone', async (t) => {
  const { partials, blobs } = await stores(t)
  const data = randomBytes(3.5 * MiB)
  const info = infoOf(data)
  const partial = await partials.begin(info)
  assert.equal(partial.blocks, 4)
  assert.deepEqual(partial.missing(), [0, 1, 2, 3])
  await partial.writeBlock(3, block(data, 3))
  await partial.writeBlock(1, block(data, 1))
  assert.deepEqual(partial.missing(), [0, 2])
  assert.ok(partial.held(3) && !partial.held(0))
  assert.equal(partial.heldBytes, 1.5 * MiB)
  await assert.rejects(partial.commit(), { code: 'INVALID_ARGUMENT', message: /2 of 4 blocks held \(first missing: 0\)/ })
  await Promise.all([partial.writeBlock(0, block(data, 0)), partial.writeBlock(2, block(data, 2))])
  await partial.writeBlock(2, block(data, 2)) // again: only checked
  assert.ok(partial.complete)
  await partial.commit()
  assert.equal(partial.state, 'committed')
  assert.ok((await readAll(blobs, info.id)).equals(data))
  await assert.rejects(stat(partials.pathOf(info.id)), { code: 'ENOENT' })
  await assert.rejects(partial.writeBlock(0, block(data, 0)), { message: /is committed/ })
})

test('an empty blob commits with no block', async (t) => {
  const { partials, blobs } = await stores(t)
  const info = infoOf(new Uint8Array(0))
  const partial = await partials.begin(info)
  assert.equal(partial.blocks, 0)
  assert.ok(partial.complete)
  await partial.commit()
  assert.equal(await blobs.size(info.id), 0)
})

test('a block that does not match its hash throws BlockMismatchError and writes nothing', async (t) => {
  const { partials } = await stores(t)
  const data = randomBytes(2 * MiB + 3)
  const info = infoOf(data)
  const partial = await partials.begin(info)
  const wrong = Buffer.from(block(data, 1))
  wrong[100]! ^= 1
  await assert.rejects(partial.writeBlock(1, wrong), (error: unknown) => {
    assert.ok(error instanceof BlockMismatchError)
    assert.equal(error.code, 'BLOCK_MISMATCH')
    assert.match(error.message, /block 1 of blob [0-9a-f]{64} does not match its hash/)
    return true
  })
  await assert.rejects(partial.writeBlock(2, block(data, 1).subarray(0, 4)), { code: 'BLOCK_MISMATCH', message: /has 4 bytes, expected 3/ })
  await assert.rejects(partial.writeBlock(1, block(data, 2)), { code: 'BLOCK_MISMATCH' }) // another block's bytes
  assert.equal((await stat(partials.pathOf(info.id))).size, 0, 'nothing written')
  assert.deepEqual(partial.missing(), [0, 1, 2])
  await assert.rejects(partial.writeBlock(3, block(data, 0)), { code: 'INVALID_ARGUMENT' })
  await partial.close()
})

test('resume: blocks within the file that hash right are held; holes, garbage and a cut block are not', async (t) => {
  const { partials, blobs } = await stores(t)
  const data = randomBytes(6 * MiB - 10)
  const info = infoOf(data)
  const first = await partials.begin(info)
  await first.writeBlock(0, block(data, 0))
  await first.writeBlock(2, block(data, 2)) // block 1 is a hole
  await first.writeBlock(3, block(data, 3))
  await first.writeBlock(4, block(data, 4))
  await first.close()
  // Damage: garbage over block 3; the file cut in the middle of block 4.
  const path = partials.pathOf(info.id)
  const bytes = await readFile(path)
  bytes.fill(0x55, 3 * MiB + 10, 3 * MiB + 20)
  await writeFile(path, bytes.subarray(0, 4.5 * MiB))
  const resumed = await partials.begin(info)
  assert.deepEqual(resumed.missing(), [1, 3, 4, 5])
  assert.equal(resumed.heldBytes, 2 * MiB)
  for (const i of resumed.missing()) await resumed.writeBlock(i, block(data, i))
  await resumed.commit()
  assert.ok((await readAll(blobs, info.id)).equals(data))
})

test('resume: a file longer than the blob is cut back at commit', async (t) => {
  const { partials, blobs } = await stores(t)
  const data = randomBytes(MiB + 5)
  const info = infoOf(data)
  await writeFile(partials.pathOf(info.id), Buffer.concat([data, randomBytes(100)]))
  const partial = await partials.begin(info)
  assert.ok(partial.complete, 'both blocks lie within the file and hash right')
  await partial.commit()
  assert.ok((await readAll(blobs, info.id)).equals(data))
})

test('one PartialBlob per id: a second begin returns the same one; the file stays until the last close', async (t) => {
  const { partials } = await stores(t)
  const data = randomBytes(MiB + 1)
  const info = infoOf(data)
  const [p1, p2] = await Promise.all([partials.begin(info), partials.begin(info)])
  assert.equal(p1, p2)
  await p1.writeBlock(0, block(data, 0))
  await p1.close()
  assert.equal(p2.state, 'open', 'still held by the second begin')
  assert.ok(p2.held(0))
  await p2.close()
  assert.equal(p2.state, 'closed')
  const p3 = await partials.begin(info)
  assert.notEqual(p3, p1)
  assert.deepEqual(p3.missing(), [1], 'resumed from the file')
  await p3.abort()
  await assert.rejects(stat(partials.pathOf(info.id)), { code: 'ENOENT' })
  const p4 = await partials.begin(info)
  assert.deepEqual(p4.missing(), [0, 1], 'after abort it starts over')
  await p4.close()
})

test('begin refuses a BlobInfo whose parts do not hash to its id', async (t) => {
  const { partials } = await stores(t)
  const info = infoOf(randomBytes(100))
  await assert.rejects(partials.begin({ ...info, size: 99 }), { code: 'INVALID_ARGUMENT', message: /do not hash to its id/ })
  await assert.rejects(partials.begin({ ...info, blockHashes: new Uint8Array(64) }), { code: 'INVALID_ARGUMENT', message: /malformed/ })
  await assert.rejects(partials.begin({ ...info, id: 'nope' as typeof info.id }), { code: 'DECODE_FAILED' })
})

test('commit adopts the verified file as it is: renamed into the store, not hashed or copied again', async (t) => {
  const { partials, blobs } = await stores(t)
  const data = randomBytes(2 * MiB + 77)
  const info = infoOf(data)
  const partial = await partials.begin(info)
  for (let i = 0; i < 3; i++) await partial.writeBlock(i, block(data, i))
  const inode = (await stat(partials.pathOf(info.id))).ino
  await partial.commit()
  assert.equal((await stat(blobs.pathOf(info.id))).ino, inode, 'the same file, renamed')
  assert.ok((await readAll(blobs, info.id)).equals(data))
  await assert.rejects(stat(partials.pathOf(info.id)), { code: 'ENOENT' })
})
