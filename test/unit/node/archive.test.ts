/**
 * The archive on memory stores and an error-injecting index: the crash window between a blob
 * and its index batch, concurrent ingests of one instance and one new study, healing a damaged
 * copy by re-import, and fsck facing a damaged or missing index — where --repair must never
 * destroy data.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IndexDamagedError, InstanceConflictError } from '../../../node/archive/errors.ts'
import { listStudies, instancesOf } from '../../../node/archive/catalogue.ts'
import { fsck } from '../../../node/archive/fsck.ts'
import { decodeInstanceRecord, encodeInstanceRecord, keys } from '../../../node/archive/index-layout.ts'
import { readInstance } from '../../../node/archive/read-instance.ts'
import type { Archive } from '../../../node/archive/archive.ts'
import { MemoryBlobStore } from '../../../node/store/blob-store-memory.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'
import type { KvKey, KvOperation, KvStore } from '../../../node/store/kv.ts'
import { KNOWN_PATIENTS, syntheticStudy } from '../../synthetic/study.ts'
import { ingest, memoryArchive } from './helpers/archive.ts'

const study = syntheticStudy({ seed: 81, patient: KNOWN_PATIENTS[0]!, profile: 'mixed' })
const other = syntheticStudy({ seed: 82, patient: KNOWN_PATIENTS[1]!, profile: 'mixed' })

/** A KvStore whose next `failures` batches throw, as a crash or a full disk would. */
class FailingKv implements KvStore {
  failures = 0
  readonly inner: KvStore
  constructor (inner: KvStore) { this.inner = inner }
  get (key: KvKey) { return this.inner.get(key) }
  entries (prefix: KvKey) { return this.inner.entries(prefix) }
  close () { return this.inner.close() }
  async batch (operations: readonly KvOperation[]): Promise<void> {
    if (this.failures > 0) { this.failures--; throw new Error('injected: the index write did not happen') }
    await this.inner.batch(operations)
  }
}

async function exportBytes (archive: Archive): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>()
  const { studies } = await listStudies(archive)
  for (const s of studies) {
    const context = await archive.study(s.studyId)
    for await (const entry of instancesOf(archive, context)) {
      const parts: Uint8Array[] = []
      for await (const piece of readInstance(archive, context, entry)) parts.push(piece)
      out.set(entry.attributes.sopInstanceUid, new Uint8Array(Buffer.concat(parts)))
    }
  }
  return out
}

async function mutate (kv: KvStore, key: KvKey, change: (bytes: Uint8Array) => Uint8Array): Promise<void> {
  await kv.batch([{ type: 'put', key, value: change((await kv.get(key))!) }])
}

async function firstKey (kv: KvStore, prefix: KvKey): Promise<KvKey> {
  for await (const [key] of kv.entries(prefix)) return key
  throw new Error(`nothing under ${prefix.join('/')}`)
}

describe('crash between the blob and its index batch', () => {
  test('the instance is not acknowledged; after a restart fsck finds only an orphan, and a re-import stores it', async (t) => {
    const kv = new FailingKv(new MemoryKvStore())
    const blobs = new MemoryBlobStore((await import('../../../node/runtime.ts')).provider)
    const { archive, restart } = await memoryArchive(t, { kv, blobs })
    const instance = study[0]!
    kv.failures = 1
    await assert.rejects(ingest(archive, instance.bytes), /injected/)
    const after = restart()
    const report = await fsck(after, { keyless: false, repair: false })
    assert.equal(report.errors, 0, JSON.stringify(report.problems))
    assert.deepEqual(report.problems.map((p) => p.kind), ['blob-orphan'])
    assert.equal((await listStudies(after)).studies.length, 0, 'nothing unacknowledged is shown')
    assert.equal((await ingest(after, instance.bytes)).status, 'imported')
    const repaired = await fsck(after, { keyless: false, repair: true })
    assert.match(repaired.problems[0]!.repaired!, /blob kept at memory quarantine/)
    assert.equal(blobs.quarantined.size, 1, 'the orphan is set aside, not deleted')
    assert.deepEqual((await exportBytes(after)).get(instance.sopInstanceUid), instance.bytes)
    assert.equal((await fsck(after, { keyless: false, repair: false })).problems.length, 0)
  })
})

describe('concurrency', () => {
  test('five copies of one instance at once: one stored, four duplicates, one study', async (t) => {
    const { archive, kv } = await memoryArchive(t)
    const results = await Promise.all(Array.from({ length: 5 }, () => ingest(archive, study[0]!.bytes)))
    assert.deepEqual(results.map((r) => r.status).sort(), ['duplicate', 'duplicate', 'duplicate', 'duplicate', 'imported'])
    let studies = 0
    for await (const _ of kv.entries(keys.studies)) studies++
    assert.equal(studies, 1)
  })

  test('every instance of two new studies at once: two studies, each with all its instances', async (t) => {
    const { archive } = await memoryArchive(t)
    const all = [...study, ...other]
    const results = await Promise.all(all.map((i) => ingest(archive, i.bytes)))
    assert.ok(results.every((r) => r.status === 'imported'))
    const { studies } = await listStudies(archive)
    assert.deepEqual(studies.map((s) => s.instances).sort(), [other.length, study.length].sort())
    const exported = await exportBytes(archive)
    for (const i of all) assert.deepEqual(exported.get(i.sopInstanceUid), i.bytes)
  })
})

describe('re-import heals a damaged copy; different bytes never replace one', () => {
  test('identical bytes replace a damaged stored copy, which goes to quarantine', async (t) => {
    const { archive, blobs } = await memoryArchive(t)
    const instance = study[1]!
    const first = await ingest(archive, instance.bytes)
    const store = blobs as MemoryBlobStore
    const damaged = new Uint8Array(await (async () => { const p: Uint8Array[] = []; for await (const x of store.read(first.blob)) p.push(x); return Buffer.concat(p) })())
    damaged[100] = damaged[100]! ^ 1
    store.tamper(first.blob, damaged)
    assert.equal((await fsck(archive, { keyless: false, repair: false })).errors, 1)
    const again = await ingest(archive, instance.bytes)
    assert.equal(again.status, 'imported')
    assert.equal(again.replaced, first.blob)
    assert.ok(store.quarantined.has(first.blob))
    assert.equal((await fsck(archive, { keyless: false, repair: false })).problems.length, 0)
    assert.deepEqual((await exportBytes(archive)).get(instance.sopInstanceUid), instance.bytes)
  })

  test('different bytes under the SOPInstanceUID of a damaged copy are refused, and nothing changes', async (t) => {
    const { archive, blobs } = await memoryArchive(t)
    const instance = study[2]!
    const first = await ingest(archive, instance.bytes)
    ;(blobs as MemoryBlobStore).tamper(first.blob, new Uint8Array(10))
    const changed = new Uint8Array(instance.bytes)
    changed[changed.length - 2] = changed[changed.length - 2]! ^ 0xff
    await assert.rejects(ingest(archive, changed), InstanceConflictError)
    const record = decodeInstanceRecord((await archive.kv.get(await firstKey(archive.kv, keys.instances)))!)
    assert.equal(record.blob, first.blob, 'the instance still points at its own (damaged) copy')
  })
})

describe('fsck and a damaged index: never destroys data', () => {
  test('a damaged study record: errors, the study\'s blobs are kept by --repair, other studies still list', async (t) => {
    const { archive, kv, blobs } = await memoryArchive(t)
    for (const i of [...study, ...other]) await ingest(archive, i.bytes)
    const victim = await firstKey(kv, keys.studies)
    await mutate(kv, victim, (b) => { const c = new Uint8Array(b); c[c.length - 5] = c[c.length - 5]! ^ 1; return c })
    const fresh = (await memoryArchiveRestart(archive))
    const report = await fsck(fresh, { keyless: false, repair: true })
    assert.ok(report.problems.some((p) => p.kind === 'study-unreadable'))
    assert.ok(!report.problems.some((p) => p.kind === 'blob-unreferenced' || p.kind === 'blob-orphan'), 'blobs named by the unreadable study still count as referenced')
    let count = 0
    for await (const _ of blobs.list()) count++
    assert.equal(count, study.length + other.length, 'no blob was removed')
    const { studies, unreadable } = await listStudies(fresh)
    assert.equal(studies.length, 1)
    assert.equal(unreadable.length, 1)
    assert.match(unreadable[0]!.message, /does not open/)
    // An instance of the damaged study is refused alone (a per-file problem), the other study's import goes on.
    const results = await Promise.allSettled([study[0]!, other[0]!].map((i) => ingest(fresh, i.bytes)))
    assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof IndexDamagedError), 'the damaged study\'s file is rejected with IndexDamagedError')
    assert.ok(results.some((r) => r.status === 'fulfilled' && r.value.status === 'duplicate'), 'the intact study\'s file is still recognised')
  })

  test('an instance record re-pointed at another blob of its study is caught before any plaintext', async (t) => {
    const { archive, kv } = await memoryArchive(t)
    for (const i of study.slice(0, 2)) await ingest(archive, i.bytes)
    const entries: Array<[KvKey, Uint8Array]> = []
    for await (const entry of kv.entries(keys.instances)) entries.push(entry)
    const [a, b] = entries as [[KvKey, Uint8Array], [KvKey, Uint8Array]]
    const ra = decodeInstanceRecord(a[1])
    const rb = decodeInstanceRecord(b[1])
    await kv.batch([{ type: 'put', key: a[0], value: encodeInstanceRecord({ blob: rb.blob, sealedAttributes: ra.sealedAttributes }) }])
    const context = await archive.study(a[0][1] as never)
    await assert.rejects(async () => { for await (const _ of instancesOf(archive, context)) { /* nothing may come out */ } }, (error: unknown) =>
      error instanceof IndexDamagedError && /points at blob .* but its sealed attributes name blob/.test(error.message))
    const report = await fsck(archive, { keyless: false, repair: true })
    assert.ok(report.problems.some((p) => p.kind === 'instance-unreadable'))
  })

  test('an index that lost its records: every blob is a warning, and --repair quarantines, never deletes', async (t) => {
    const { archive, blobs, restart } = await memoryArchive(t)
    for (const i of study) await ingest(archive, i.bytes)
    const lost = restart({ kv: new MemoryKvStore() })
    const report = await fsck(lost, { keyless: false, repair: true })
    assert.ok(report.problems.every((p) => p.kind === 'blob-orphan'))
    assert.equal(report.problems.length, study.length)
    assert.equal((blobs as MemoryBlobStore).quarantined.size, study.length, 'every blob kept in quarantine, none deleted')
  })
})

async function memoryArchiveRestart (archive: Archive): Promise<Archive> {
  // A new Archive over the same stores, so nothing decrypted earlier is cached.
  const { Archive: ArchiveClass } = await import('../../../node/archive/archive.ts')
  return new ArchiveClass({ layout: archive.layout, meta: archive.meta, keyring: archive.keyring, kv: archive.kv, blobs: archive.blobs, provider: archive.provider, random: archive.random, release: async () => {} })
}
