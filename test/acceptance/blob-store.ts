/**
 * The BlobStore contract (node/store/blob-store.ts) as one acceptance suite, `runBlobStoreTests`:
 * writers, reads and ranges, listing, deletion, quarantine, readVerified (verified-read.ts) with
 * damaged, truncated, swapped and missing objects, and partial objects received block by block.
 * Importing this module runs nothing: each implementation's *.test.ts calls it.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { BLOCK_SIZE, BlobHasher, type BlobDigest, type BlobId } from '../../protocol/blob-id.ts'
import { nobleProvider } from '../../protocol/crypto-provider.ts'
import { IntegrityError } from '../../protocol/errors.ts'
import { BlobMissingError } from '../../node/store/blob-errors.ts'
import type { BlobStore, ReadRange } from '../../node/store/blob-store.ts'
import { BlockMismatchError } from '../../node/store/partial-blobs.ts'
import type { BlobInfo } from '../../protocol/log/body-content.ts'
import { nativeProvider as provider } from '../../node/crypto/native-provider.ts'
import { readVerified } from '../../node/store/verified-read.ts'
import { randomPieces, seeded } from '../unit/node/helpers/seeded.ts'


export interface OpenedBlobStore {
  store: BlobStore
  /** Replaces the stored bytes of `id` behind the store's back (damage on disk, in memory). */
  tamper: (id: BlobId, bytes: Uint8Array) => Promise<void>
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

export function assertBytes (actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.equal(actual.length, expected.length, message ?? 'length')
  assert.ok(equalBytes(actual, expected), message ?? 'bytes differ')
}

export function digestOf (data: Uint8Array): BlobDigest {
  const hasher = new BlobHasher(nobleProvider)
  hasher.update(data)
  return hasher.digest()
}

export async function put (store: BlobStore, data: Uint8Array, pieces: Uint8Array[] = [data]): Promise<BlobDigest> {
  const writer = await store.create()
  for (const piece of pieces) await writer.write(piece)
  return await writer.commit()
}

export async function readAll (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Buffer[] = []
  for await (const part of source) parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength))
  return new Uint8Array(Buffer.concat(parts))
}

export async function listAll (store: BlobStore): Promise<BlobId[]> {
  const out: BlobId[] = []
  for await (const id of store.list()) out.push(id)
  return out
}

/** The acceptance suite every BlobStore implementation passes. */
export function runBlobStoreTests (name: string, open: (t: TestContext) => Promise<OpenedBlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    test('write in pieces and commit: the digest is BlobHasher\'s over the same bytes', async (t) => {
      const { store } = await open(t)
      const rng = seeded(31)
      for (const length of [1, 100, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 2 * BLOCK_SIZE + 12345]) {
        const data = rng.bytes(length)
        const digest = await put(store, data, randomPieces(data, rng, Math.max(1, Math.floor(length / 3))))
        assert.deepEqual(digest, digestOf(data), `${length} bytes`)
        assert.equal(digest.size, length)
        assert.equal(await store.size(digest.id), length)
        assertBytes(await readAll(store.read(digest.id)), data, `read back ${length} bytes`)
      }
    })

    test('an empty object commits, has size 0 and reads as nothing', async (t) => {
      const { store } = await open(t)
      const digest = await put(store, new Uint8Array(0), [])
      assert.deepEqual(digest, digestOf(new Uint8Array(0)))
      assert.equal(await store.size(digest.id), 0)
      assert.equal((await readAll(store.read(digest.id))).length, 0)
      assert.deepEqual(await listAll(store), [digest.id])
    })

    test('size of a missing blob is undefined; reading it throws BlobMissingError', async (t) => {
      const { store } = await open(t)
      const missing = digestOf(new Uint8Array([1, 2, 3])).id
      assert.equal(await store.size(missing), undefined)
      await assert.rejects(readAll(store.read(missing)), (error: unknown) => {
        assert.ok(error instanceof BlobMissingError)
        assert.equal(error.code, 'BLOB_MISSING')
        assert.ok(error.message.includes(missing), 'the message names the blob')
        return true
      })
      await assert.rejects(readAll(store.read(missing, { start: 1, end: 2 })), BlobMissingError)
    })

    test('ranges read exactly [start, end), clipped to the object', async (t) => {
      const { store } = await open(t)
      const data = seeded(32).bytes(BLOCK_SIZE + 70_000)
      const { id } = await put(store, data)
      const ranges: Array<[ReadRange, number, number]> = [
        [{}, 0, data.length],
        [{ start: 0 }, 0, data.length],
        [{ start: 5 }, 5, data.length],
        [{ end: 7 }, 0, 7],
        [{ start: 100, end: 200 }, 100, 200],
        [{ start: 65_530, end: 65_542 }, 65_530, 65_542],
        [{ start: BLOCK_SIZE - 3, end: BLOCK_SIZE + 3 }, BLOCK_SIZE - 3, BLOCK_SIZE + 3],
        [{ start: data.length - 1 }, data.length - 1, data.length],
        [{ start: 10, end: 10 }, 10, 10],
        [{ start: 10, end: 5 }, 10, 10],
        [{ start: data.length }, data.length, data.length],
        [{ start: data.length + 10 }, data.length, data.length],
        [{ start: 3, end: data.length + 1000 }, 3, data.length]
      ]
      for (const [range, from, to] of ranges) {
        assertBytes(await readAll(store.read(id, range)), data.subarray(from, to), JSON.stringify(range))
      }
    })

    test('delete removes the blob; deleting again is fine', async (t) => {
      const { store } = await open(t)
      const a = await put(store, new Uint8Array([1]))
      const b = await put(store, new Uint8Array([2]))
      await store.delete(a.id)
      assert.equal(await store.size(a.id), undefined)
      await assert.rejects(readAll(store.read(a.id)), BlobMissingError)
      assert.deepEqual(await listAll(store), [b.id])
      await store.delete(a.id)
      assert.equal(await store.size(b.id), 1)
    })

    test('list yields every stored id once, sorted', async (t) => {
      const { store } = await open(t)
      const rng = seeded(33)
      const ids = new Set<BlobId>()
      for (let i = 0; i < 25; i++) ids.add((await put(store, rng.bytes(rng.int(0, 300)))).id)
      assert.deepEqual(await listAll(store), [...ids].sort())
    })

    test('abort leaves nothing behind, even after writes', async (t) => {
      const { store } = await open(t)
      const writer = await store.create()
      await writer.write(seeded(34).bytes(BLOCK_SIZE + 10))
      await writer.write(new Uint8Array([1, 2, 3]))
      await writer.abort()
      assert.deepEqual(await listAll(store), [])
      await writer.abort() // twice is harmless
      await assert.rejects(writer.write(new Uint8Array([1])))
      await assert.rejects(writer.commit())
      // A writer never written to, aborted.
      const idle = await store.create()
      await idle.abort()
      assert.deepEqual(await listAll(store), [])
    })

    test('abort after commit keeps the committed blob', async (t) => {
      const { store } = await open(t)
      const writer = await store.create()
      await writer.write(new Uint8Array([9, 9]))
      const digest = await writer.commit()
      await writer.abort()
      assert.equal(await store.size(digest.id), 2)
    })

    test('write or commit after commit is refused', async (t) => {
      const { store } = await open(t)
      const writer = await store.create()
      await writer.write(new Uint8Array([1]))
      await writer.commit()
      await assert.rejects(writer.write(new Uint8Array([2])))
      await assert.rejects(writer.commit())
    })

    test('committing the same content twice is fine: one blob, same id', async (t) => {
      const { store } = await open(t)
      const data = seeded(35).bytes(5000)
      const first = await put(store, data)
      const second = await put(store, data, randomPieces(data, seeded(36), 700))
      assert.deepEqual(second, first)
      assert.deepEqual(await listAll(store), [first.id])
      assertBytes(await readAll(store.read(first.id)), data)
    })

    test('two writers interleaved each store their own bytes', async (t) => {
      const { store } = await open(t)
      const rng = seeded(37)
      const a = rng.bytes(3000)
      const b = rng.bytes(4000)
      const wa = await store.create()
      const wb = await store.create()
      for (let i = 0; i < 4; i++) {
        await wa.write(a.subarray(i * 750, (i + 1) * 750))
        await wb.write(b.subarray(i * 1000, (i + 1) * 1000))
      }
      const [da, db] = await Promise.all([wa.commit(), wb.commit()])
      assert.deepEqual(da, digestOf(a))
      assert.deepEqual(db, digestOf(b))
      assertBytes(await readAll(store.read(da.id)), a)
      assertBytes(await readAll(store.read(db.id)), b)
    })

    describe('readVerified', () => {
      const threeBlocks = (seed: number): Uint8Array => seeded(seed).bytes(2 * BLOCK_SIZE + 4321)

      async function verifiedBlocks (store: BlobStore, digest: BlobDigest): Promise<{ blocks: Uint8Array[], error: unknown }> {
        const blocks: Uint8Array[] = []
        try {
          for await (const block of readVerified(store, provider, digest)) blocks.push(new Uint8Array(block))
          return { blocks, error: undefined }
        } catch (error) {
          return { blocks, error }
        }
      }

      test('an intact blob yields exactly its bytes, block by block', async (t) => {
        const { store } = await open(t)
        for (const data of [threeBlocks(40), seeded(41).bytes(10), new Uint8Array(0), seeded(42).bytes(BLOCK_SIZE)]) {
          const digest = await put(store, data, randomPieces(data, seeded(43), 300_000))
          const { blocks, error } = await verifiedBlocks(store, digest)
          assert.equal(error, undefined)
          assert.equal(blocks.length, Math.ceil(data.length / BLOCK_SIZE))
          assertBytes(new Uint8Array(Buffer.concat(blocks)), data)
        }
      })

      test('a flipped byte in block k → IntegrityError naming block k, after only the good blocks', async (t) => {
        const { store, tamper } = await open(t)
        const data = threeBlocks(44)
        const digest = await put(store, data)
        for (const [k, at] of [[0, 0], [0, 777], [1, BLOCK_SIZE], [1, 2 * BLOCK_SIZE - 1], [2, data.length - 1]] as const) {
          const damaged = data.slice()
          damaged[at] = damaged[at]! ^ 0x01
          await tamper(digest.id, damaged)
          const { blocks, error } = await verifiedBlocks(store, digest)
          assert.ok(error instanceof IntegrityError, `byte ${at}: ${String(error)}`)
          assert.equal(error.code, 'INTEGRITY')
          assert.match(error.message, new RegExp(`block ${k} of 3`))
          assert.ok(error.message.includes(digest.id))
          assert.equal(blocks.length, k, 'only the blocks before the damaged one were handed out')
          blocks.forEach((block, i) => assertBytes(block, data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)))
        }
      })

      test('a truncated or extended blob → IntegrityError before any byte is handed out', async (t) => {
        const { store, tamper } = await open(t)
        const data = threeBlocks(45)
        const digest = await put(store, data)
        for (const wrong of [data.subarray(0, data.length - 1), data.subarray(0, BLOCK_SIZE), new Uint8Array(0), new Uint8Array([...data.subarray(0, 10), 0])]) {
          await tamper(digest.id, wrong)
          const { blocks, error } = await verifiedBlocks(store, digest)
          assert.ok(error instanceof IntegrityError)
          assert.match(error.message, new RegExp(`has ${wrong.length} bytes, expected ${data.length}`))
          assert.equal(blocks.length, 0)
        }
        const longer = new Uint8Array(data.length + 1)
        longer.set(data)
        await tamper(digest.id, longer)
        await assert.rejects(readAll(readVerified(store, provider, digest)), IntegrityError)
      })

      test('another blob\'s bytes in its place → IntegrityError', async (t) => {
        const { store, tamper } = await open(t)
        const rng = seeded(46)
        const a = rng.bytes(5000)
        const b = rng.bytes(5000)
        const da = await put(store, a)
        await put(store, b)
        await tamper(da.id, b)
        await assert.rejects(readAll(readVerified(store, provider, da)), /block 0 of 1 does not match/)
      })

      test('a missing blob → IntegrityError (not BlobMissingError)', async (t) => {
        const { store } = await open(t)
        const digest = digestOf(seeded(47).bytes(100))
        await assert.rejects(readAll(readVerified(store, provider, digest)), (error: unknown) => {
          assert.ok(error instanceof IntegrityError)
          assert.match(error.message, /missing/)
          return true
        })
      })

      test('a digest whose block list, size or id was altered → IntegrityError, whatever is stored', async (t) => {
        const { store } = await open(t)
        const data = threeBlocks(48)
        const digest = await put(store, data)
        const hashes = digest.blockHashes.slice()
        hashes[40] = hashes[40]! ^ 0x80
        const altered: BlobDigest[] = [
          { ...digest, blockHashes: hashes },
          { ...digest, size: digest.size - 1 },
          { ...digest, id: digestOf(new Uint8Array([1])).id }
        ]
        for (const bad of altered) {
          const { blocks, error } = await verifiedBlocks(store, bad)
          assert.ok(error instanceof IntegrityError, String(error))
          assert.match(error.message, /block list does not hash to its id/)
          assert.equal(blocks.length, 0)
        }
      })

      test('a digest whose block list has the wrong length for its size, or a zero block size → IntegrityError', {
      }, async (t) => {
        const { store } = await open(t)
        const digest = await put(store, threeBlocks(49))
        const malformed: BlobDigest[] = [
          { ...digest, blockHashes: digest.blockHashes.subarray(0, 64) },
          { ...digest, blockHashes: new Uint8Array(0) },
          { ...digest, size: digest.size + BLOCK_SIZE },
          { ...digest, blockSize: 0 }
        ]
        for (const bad of malformed) {
          await assert.rejects(readAll(readVerified(store, provider, bad)), IntegrityError)
        }
      })
    })

    describe('partial objects (beginPartial)', () => {
      const MiB = BLOCK_SIZE
      const infoOf = (data: Uint8Array): BlobInfo => {
        const { id, size, blockSize, blockHashes } = digestOf(data)
        return { id, size, blockSize, blockHashes }
      }
      const block = (data: Uint8Array, i: number): Uint8Array => data.subarray(i * MiB, Math.min(data.length, (i + 1) * MiB))

      test('blocks in any order, then commit: the blob reads back verified', async (t) => {
        const { store } = await open(t)
        const data = seeded(60).bytes(2 * MiB + 999)
        const info = infoOf(data)
        const partial = await store.beginPartial(info)
        assert.deepEqual(partial.missing(), [0, 1, 2])
        await partial.writeBlock(2, block(data, 2))
        await partial.writeBlock(0, block(data, 0))
        assert.equal(partial.heldBytes, MiB + 999)
        await assert.rejects(partial.commit(), { code: 'INVALID_ARGUMENT', message: /2 of 3 blocks held \(first missing: 1\)/ })
        assert.equal(await store.size(info.id), undefined, 'nothing in the store before commit')
        await partial.writeBlock(1, block(data, 1))
        await partial.commit()
        assert.equal(partial.state, 'committed')
        assertBytes(await readAll(readVerified(store, provider, digestOf(data))), data)
      })

      test('a block that does not match its hash throws BlockMismatchError and is not held', async (t) => {
        const { store } = await open(t)
        const data = seeded(61).bytes(MiB + 10)
        const partial = await store.beginPartial(infoOf(data))
        const bad = block(data, 0).slice()
        bad[5]! ^= 1
        await assert.rejects(partial.writeBlock(0, bad), BlockMismatchError)
        await assert.rejects(partial.writeBlock(1, block(data, 1).subarray(1)), BlockMismatchError)
        assert.deepEqual(partial.missing(), [0, 1])
        await partial.close()
      })

      test('one per id; after the last close a new begin resumes the held blocks; abort starts over', async (t) => {
        const { store } = await open(t)
        const data = seeded(62).bytes(MiB + 1)
        const info = infoOf(data)
        const [p1, p2] = await Promise.all([store.beginPartial(info), store.beginPartial(info)])
        assert.equal(p1, p2)
        await p1.writeBlock(0, block(data, 0))
        await p1.close()
        assert.equal(p2.state, 'open')
        await p2.close()
        const p3 = await store.beginPartial(info)
        assert.notEqual(p3, p1)
        assert.deepEqual(p3.missing(), [1], 'resumed')
        await p3.abort()
        const p4 = await store.beginPartial(info)
        assert.deepEqual(p4.missing(), [0, 1], 'after abort it starts over')
        await p4.close()
      })

      test('an empty blob commits with no block; an info whose parts do not hash to its id is refused', async (t) => {
        const { store } = await open(t)
        const empty = infoOf(new Uint8Array(0))
        const partial = await store.beginPartial(empty)
        assert.ok(partial.complete)
        await partial.commit()
        assert.equal(await store.size(empty.id), 0)
        const info = infoOf(seeded(63).bytes(100))
        await assert.rejects(store.beginPartial({ ...info, size: 99 }), { code: 'INVALID_ARGUMENT', message: /do not hash to its id/ })
      })
    })
  })
}
