/**
 * The BlobStore acceptance suite (test/acceptance/blob-store.ts) run against MemoryBlobStore and
 * FsBlobStore; then what only the file store has: shard layout and modes, clearing tmp/ on open,
 * strays and quarantine.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { nativeProvider } from '../../../node/crypto/native-provider.ts'
import { FsBlobStore } from '../../../node/store/blob-store-fs.ts'
import { MemoryBlobStore } from '../../../node/store/blob-store-memory.ts'
import { assertBytes, digestOf, listAll, put, runBlobStoreTests } from '../../acceptance/blob-store.ts'
import { seeded } from './helpers/seeded.ts'
import { listFiles, tempDir } from './helpers/temp.ts'

const provider = nativeProvider

runBlobStoreTests('memory', async () => {
  const store = new MemoryBlobStore(provider)
  return { store, tamper: async (id, bytes) => { store.tamper(id, bytes.slice()) } }
})

runBlobStoreTests('fs', async (t) => {
  const root = join(await tempDir(t, 'peerpacs-blobs-'), 'blobs')
  const store = await FsBlobStore.open(root, provider)
  return { store, tamper: async (id, bytes) => { await writeFile(store.pathOf(id), bytes) } }
})

describe('FsBlobStore only', () => {
  test('a committed blob lands at root/ab/<id>, mode 0600, nothing left in tmp/', async (t) => {
    const root = join(await tempDir(t, 'peerpacs-blobs-'), 'blobs')
    const store = await FsBlobStore.open(root, provider)
    const data = seeded(50).bytes(3000)
    const digest = await put(store, data)
    const path = join(root, digest.id.slice(0, 2), digest.id)
    assert.equal(store.pathOf(digest.id), path)
    assertBytes(new Uint8Array(await readFile(path)), data)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await readdir(join(root, 'tmp')), [])
    assert.deepEqual(await listFiles(root), [path])
    assert.equal((await stat(join(root, 'tmp'))).mode & 0o077, 0, 'tmp/ is private to its owner')
  })

  test('a writer in progress is a .part file in tmp/; abort removes it', async (t) => {
    const root = join(await tempDir(t, 'peerpacs-blobs-'), 'blobs')
    const store = await FsBlobStore.open(root, provider)
    const writer = await store.create()
    await writer.write(new Uint8Array(10))
    const parts = await readdir(join(root, 'tmp'))
    assert.equal(parts.length, 1)
    assert.match(parts[0]!, /\.part$/)
    await writer.abort()
    assert.deepEqual(await readdir(join(root, 'tmp')), [])
  })

  test('tmp/ is emptied on open: a partial write left by a killed process is gone', async (t) => {
    const root = join(await tempDir(t, 'peerpacs-blobs-'), 'blobs')
    const first = await FsBlobStore.open(root, provider)
    const kept = await put(first, new Uint8Array([1, 2, 3]))
    await writeFile(join(root, 'tmp', '0123456789abcdef01234567.part'), new Uint8Array(4096))
    await mkdir(join(root, 'tmp', 'odd-dir'))
    await writeFile(join(root, 'tmp', 'odd-dir', 'x'), 'x')
    const second = await FsBlobStore.open(root, provider)
    assert.deepEqual(await readdir(join(root, 'tmp')), [])
    assert.deepEqual(await listAll(second), [kept.id])
    assert.equal(await second.size(kept.id), 3)
  })

  test('strays() reports files that are not blobs at their right place; list() ignores them', async (t) => {
    const root = join(await tempDir(t, 'peerpacs-blobs-'), 'blobs')
    const store = await FsBlobStore.open(root, provider)
    const good = await put(store, new Uint8Array([7]))
    const shard = join(root, good.id.slice(0, 2))
    const misplacedId = digestOf(new Uint8Array([8])).id
    const strays = [
      join(shard, 'notes.txt'),
      join(shard, `${good.id}.bak`),
      join(shard, misplacedId.startsWith(good.id.slice(0, 4)) ? 'f'.repeat(64) : misplacedId), // a valid id in the wrong shard
      join(root, 'README'),
      join(root, 'zz'),
      join(root, good.id.slice(0, 2), 'loose-file')
    ]
    for (const path of strays) await writeFile(path, 'stray')
    assert.deepEqual((await store.strays()).sort(), [...strays].sort())
    assert.deepEqual(await listAll(store), [good.id])
  })

  test('quarantine moves the blob aside, keeping its bytes; a missing blob gives undefined', async (t) => {
    const dir = await tempDir(t, 'peerpacs-blobs-')
    const root = join(dir, 'blobs')
    const quarantine = join(dir, 'quarantine')
    const store = await FsBlobStore.open(root, provider, quarantine)
    const data = seeded(51).bytes(2000)
    const digest = await put(store, data)
    const target = await store.quarantine(digest.id)
    assert.ok(target !== undefined)
    assert.ok(target.startsWith(quarantine), target)
    assert.ok(target.includes(digest.id))
    assertBytes(new Uint8Array(await readFile(target)), data)
    assert.equal(await store.size(digest.id), undefined)
    assert.deepEqual(await listAll(store), [])
    assert.equal(await store.quarantine(digest.id), undefined)
  })
})
