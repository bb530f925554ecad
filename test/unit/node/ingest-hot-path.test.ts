/**
 * The ingest hot path's shortcuts against what they replace: chachaSealParts (ciphertext and tag
 * not copied together) equals noble's chachaSeal byte for byte; a STREAM sealed through the parts
 * equals the same stream sealed whole (and the frozen format); single-use keys (no cached
 * KeyObject) still seal and open as noble does; an ingest whose claim waits on the index keeps
 * reading and still stores exactly the bytes sent, and a claim that fails aborts cleanly; the
 * file blob store's held-open shard folders close.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nativeProvider } from '../../../node/crypto/native-provider.ts'
import { Ingester } from '../../../node/archive/ingest.ts'
import { readInstance } from '../../../node/archive/read-instance.ts'
import { instancesOf, listStudies } from '../../../node/archive/catalogue.ts'
import { FsBlobStore } from '../../../node/store/blob-store-fs.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'
import type { KvKey } from '../../../node/store/kv.ts'
import { sealBytes, StreamSealer } from '../../../protocol/aead-stream.ts'
import { concatBytes } from '../../../protocol/bytes.ts'
import { nobleProvider, type CryptoProvider } from '../../../protocol/crypto-provider.ts'
import { KNOWN_PATIENTS, syntheticStudy } from '../../synthetic/study.ts'
import { memoryArchive, pieces } from './helpers/archive.ts'
import { randomPieces, seeded, toHexString } from './helpers/seeded.ts'
import { listFiles, tempDir } from './helpers/temp.ts'

const hex = toHexString

test('chachaSealParts: ciphertext ‖ tag equals noble chachaSeal for many lengths, keys, nonces and AADs', () => {
  const rng = seeded(31)
  for (const length of [0, 1, 15, 16, 17, 64, 1000, 65535, 65536, 65537, 1 << 20]) {
    for (let round = 0; round < 3; round++) {
      const key = rng.bytes(32)
      const nonce = rng.bytes(12)
      const aad = rng.bytes(rng.pick([0, 1, 24, 300]))
      const plaintext = rng.bytes(length)
      const [ciphertext, tag] = nativeProvider.chachaSealParts!(key, nonce, plaintext, aad)
      assert.equal(ciphertext.length, length)
      assert.equal(tag.length, 16)
      assert.equal(hex(concatBytes(ciphertext, tag)), hex(nobleProvider.chachaSeal(key, nonce, plaintext, aad)), `${length} bytes`)
    }
  }
})

test('single-use and reused keys: native seal and open equal noble on the first, second and later use of a key array', () => {
  const rng = seeded(32)
  const key = rng.bytes(32)
  for (let use = 0; use < 4; use++) {
    const nonce = rng.bytes(12)
    const plaintext = rng.bytes(100 + use)
    const sealed = nativeProvider.chachaSeal(key, nonce, plaintext, new Uint8Array(0))
    assert.equal(hex(sealed), hex(nobleProvider.chachaSeal(key, nonce, plaintext, new Uint8Array(0))), `use ${use}`)
    assert.equal(hex(nativeProvider.chachaOpen(key, nonce, sealed, new Uint8Array(0))), hex(plaintext))
  }
  // The same array rewritten in place must not keep its old key.
  const nonce = rng.bytes(12)
  key.set(rng.bytes(32))
  const plaintext = rng.bytes(50)
  assert.equal(hex(nativeProvider.chachaSeal(key, nonce, plaintext, new Uint8Array(0))), hex(nobleProvider.chachaSeal(key, nonce, plaintext, new Uint8Array(0))))
})

function sealedThrough (provider: CryptoProvider, dataKey: Uint8Array, salt: Uint8Array, pieces: Uint8Array[], chunkSize: number): Uint8Array {
  const sealer = new StreamSealer({ dataKey, provider, random: () => salt.slice(), chunkSize })
  const out: Uint8Array[] = [sealer.header]
  for (const piece of pieces) out.push(...sealer.push(piece))
  out.push(...sealer.finishParts())
  return concatBytes(...out)
}

test('StreamSealer: pieces from chachaSealParts form exactly the stream sealBytes makes with noble', () => {
  const rng = seeded(33)
  for (const length of [0, 1, 1023, 1024, 1025, 4096, 70_000, 300_000]) {
    for (const chunkSize of [1024, 65536]) {
      const dataKey = rng.bytes(32)
      const salt = rng.bytes(16)
      const plaintext = rng.bytes(length)
      const want = sealBytes({ dataKey, provider: nobleProvider, random: () => salt.slice(), chunkSize }, plaintext)
      const got = sealedThrough(nativeProvider, dataKey, salt, randomPieces(plaintext, rng, 5000), chunkSize)
      assert.equal(hex(got), hex(want), `${length} bytes, chunks of ${chunkSize}`)
      // finishParts of a provider without parts is the one final chunk.
      assert.equal(hex(sealedThrough(nobleProvider, dataKey, salt, [plaintext], chunkSize)), hex(want))
    }
  }
})

const study = syntheticStudy({ seed: 91, patient: KNOWN_PATIENTS[2]!, profile: 'mixed' })

/** A KvStore whose gets wait until `open()` is called, so the ingest's claim stalls. */
class GatedKv extends MemoryKvStore {
  gate: Promise<void> | undefined
  release: (() => void) | undefined
  failNext = false
  override close (): Promise<void> { return Promise.resolve() }
  hold (): void { this.gate = new Promise((resolve) => { this.release = resolve }) }
  override async get (key: KvKey): Promise<Uint8Array | undefined> {
    if (this.gate !== undefined) await this.gate
    if (this.failNext) { this.failNext = false; throw new Error('injected: index read failed') }
    return await super.get(key)
  }
}

test('ingest: a claim that waits on the index while the stream goes on still stores exactly the bytes sent', async (t) => {
  const kv = new GatedKv()
  const { archive } = await memoryArchive(t, { kv })
  const ingester = new Ingester(archive)
  const instance = study.find((i) => i.bytes.length > 20_000) ?? study[0]!
  kv.hold()
  let pulled = 0
  async function * source (): AsyncIterable<Uint8Array> {
    for await (const piece of pieces(instance.bytes, 1000)) { pulled += piece.length; yield piece }
  }
  const pending = ingester.ingest(source())
  // The whole stream is read while the claim is blocked (it is far below the hold limit).
  for (let i = 0; i < 200 && pulled < instance.bytes.length; i++) await new Promise((resolve) => setImmediate(resolve))
  assert.equal(pulled, instance.bytes.length)
  kv.gate = undefined
  kv.release!()
  const result = await pending
  assert.equal(result.status, 'imported')
  const { studies } = await listStudies(archive)
  const context = await archive.study(studies[0]!.studyId)
  for await (const entry of instancesOf(archive, context)) {
    const parts: Uint8Array[] = []
    for await (const piece of readInstance(archive, context, entry)) parts.push(piece)
    assert.equal(hex(concatBytes(...parts)), hex(instance.bytes))
  }
})

test('ingest: a claim that fails mid-stream fails the ingest, leaves nothing, and frees the instance for a retry', async (t) => {
  const kv = new GatedKv()
  const { archive, blobs } = await memoryArchive(t, { kv })
  const ingester = new Ingester(archive)
  const instance = study[0]!
  kv.failNext = true
  await assert.rejects(ingester.ingest(pieces(instance.bytes, 500)), /injected: index read failed/)
  const stored: string[] = []
  for await (const id of blobs.list()) stored.push(id)
  assert.deepEqual(stored, [])
  // The SOPInstanceUID lock was released: the same instance goes in now.
  assert.equal((await ingester.ingest(pieces(instance.bytes, 500))).status, 'imported')
})

test('FsBlobStore: commits through held-open shard folders, and close() releases them', async (t) => {
  const root = await tempDir(t, 'peerpacs-shards-')
  const store = await FsBlobStore.open(`${root}/blobs`, nativeProvider)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const writer = await store.create()
    await writer.write(new Uint8Array(1000 + i).fill(i))
    ids.push((await writer.commit()).id)
  }
  await store.close()
  const files = await listFiles(`${root}/blobs`)
  for (const id of ids) assert.ok(files.some((f) => f.endsWith(`/${id.slice(0, 2)}/${id}`)), id)
  // Still usable after close: a folder is opened again when needed.
  const writer = await store.create()
  await writer.write(new Uint8Array([1, 2, 3]))
  await writer.commit()
  await store.close()
})
