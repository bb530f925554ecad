/**
 * fsck streaming the index (node/archive/fsck.ts) and the compact set of referenced blob ids it
 * keeps instead of every record (node/archive/blob-id-set.ts): one archive with every kind of
 * damage at once gives every finding, in order, with and without keys, and --repair mends what
 * it should; the set agrees with a Set of strings.
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import type { BlobId } from '../../../protocol/blob-id.ts'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { BlobIdSet } from '../../../node/archive/blob-id-set.ts'
import { fsck, type FsckReport } from '../../../node/archive/fsck.ts'
import { decodeInstanceRecord, encodeBlobRecord, keys } from '../../../node/archive/index-layout.ts'
import type { Archive } from '../../../node/archive/archive.ts'
import type { MemoryBlobStore } from '../../../node/store/blob-store-memory.ts'
import type { KvKey, KvStore } from '../../../node/store/kv.ts'
import { KNOWN_PATIENTS, syntheticStudy } from '../../synthetic/study.ts'
import { ingest, memoryArchive } from './helpers/archive.ts'

const study = syntheticStudy({ seed: 91, patient: KNOWN_PATIENTS[0]!, profile: 'mixed' })
const other = syntheticStudy({ seed: 92, patient: KNOWN_PATIENTS[1]!, profile: 'mixed' })

async function all (kv: KvStore, prefix: KvKey): Promise<Array<[KvKey, Uint8Array]>> {
  const out: Array<[KvKey, Uint8Array]> = []
  for await (const entry of kv.entries(prefix)) out.push(entry)
  return out
}

async function storeBlob (blobs: MemoryBlobStore, bytes: Uint8Array): Promise<{ id: BlobId, record: Uint8Array }> {
  const writer = await blobs.create()
  await writer.write(bytes)
  const digest = await writer.commit()
  return { id: digest.id, record: encodeBlobRecord(digest) }
}

/** Two studies, then one of each kind of damage fsck knows (but stray files, which only a file store has). */
async function damagedArchive (t: Pick<TestContext, 'after'>): Promise<{ archive: Archive, names: Record<string, string> }> {
  const { archive, kv, blobs: store } = await memoryArchive(t)
  const blobs = store as MemoryBlobStore
  for (const i of [...study, ...other]) await ingest(archive, i.bytes)
  const instances = await all(kv, keys.instances)
  const [studyA, studyB] = [...new Set(instances.map(([key]) => key[1]!))] as [string, string]
  const ofA = instances.filter(([key]) => key[1] === studyA)
  const ofB = instances.filter(([key]) => key[1] === studyB)
  const blobOf = (entry: [KvKey, Uint8Array]): BlobId => decodeInstanceRecord(entry[1]).blob
  // An unreadable blob record (an instance of B names it).
  const badRecord = blobOf(ofB[0]!)
  // An instance whose blob has neither record nor file.
  const gone = blobOf(ofA[0]!)
  // An instance whose SOPInstanceUID lookup is lost.
  const lostLookup = ofA[1]![0]
  // An instance whose blob is damaged on disk.
  const damaged = blobOf(ofA[2]!)
  const bytes = (await blobs.read(damaged)[Symbol.asyncIterator]().next()).value as Uint8Array
  const flipped = new Uint8Array(bytes)
  flipped[flipped.length >> 1]! ^= 1
  blobs.tamper(damaged, flipped)
  // A blob file no record names, and an intact blob with a record no instance names.
  const orphan = await storeBlob(blobs, utf8Encode('left by an interrupted import'))
  const unreferenced = await storeBlob(blobs, utf8Encode('recorded, never named'))
  const noStudy = 'f'.repeat(43)
  await kv.batch([
    { type: 'put', key: keys.blob(badRecord), value: new Uint8Array([0xa1, 0x61]) },
    { type: 'del', key: keys.blob(gone) },
    { type: 'del', key: keys.sop(lostLookup[2]!) },
    { type: 'put', key: keys.blob(unreferenced.id), value: unreferenced.record },
    // Lookups pointing at nothing.
    { type: 'put', key: keys.sop('d'.repeat(43)), value: utf8Encode(studyA) },
    { type: 'put', key: keys.studyUid('e'.repeat(43)), value: utf8Encode('not a study id') },
    // Instance records of a study that has no record (one of them unreadable).
    { type: 'put', key: ['instance', noStudy, 'a'.repeat(43)], value: ofB[1]![1] },
    { type: 'put', key: ['instance', noStudy, 'b'.repeat(43)], value: new Uint8Array([1, 2, 3]) }
  ])
  await blobs.delete(gone)
  return { archive, names: { badRecord, gone, lostLookup: lostLookup[2]!, damaged, orphan: orphan.id, unreferenced: unreferenced.id, noStudy, studyA } }
}

const kinds = (report: FsckReport): string[] => report.problems.map((p) => `${p.severity} ${p.kind}`)

describe('fsck streams the index and keeps every finding', () => {
  test('with keys: every kind of damage, in check order', async (t) => {
    const { archive, names } = await damagedArchive(t)
    const phases: string[] = []
    const report = await fsck(archive, { keyless: false, repair: false, onProgress: (p) => { if (phases.at(-1) !== p.phase) phases.push(p.phase) } })
    assert.deepEqual(phases, ['blob records', 'instance records', 'SOPInstanceUID lookups', 'StudyInstanceUID lookups', 'studies', 'blobs'], 'every walk of the index reports progress')
    assert.deepEqual(kinds(report), [
      'error blob-record',
      'error blob-missing-record',
      'error lookup-missing',
      'error lookup-missing',
      'error instance-unreadable',
      'error lookup-dangling',
      'error lookup-dangling',
      'error study-unreadable',
      'error instance-damaged',
      'error instance-damaged',
      'error instance-damaged',
      'warning blob-unreferenced',
      'warning blob-orphan'
    ])
    const about = (kind: string): string[] => report.problems.filter((p) => p.kind === kind).map((p) => p.object)
    assert.deepEqual(about('blob-record'), [`blob record ${names.badRecord}`])
    assert.deepEqual(about('blob-missing-record'), [`blob ${names.gone} of study ${names.studyA}`])
    assert.ok(about('lookup-missing').some((o) => o.startsWith(`instance ${names.lostLookup!.slice(0, 16)}…`)))
    assert.deepEqual(about('blob-unreferenced'), [`blob ${names.unreferenced}`])
    assert.deepEqual(about('blob-orphan'), [`blob file ${names.orphan}`])
    assert.equal(report.problems.find((p) => p.kind === 'study-unreadable')!.message, '2 instances belong to a study that has no record')
    assert.ok(about('instance-damaged').some((o) => o.includes(`(blob ${names.damaged})`)))
    assert.ok(about('instance-damaged').some((o) => o.includes(`(blob ${names.badRecord})`)), 'an instance whose blob record is unreadable cannot be read back')
    assert.ok(about('instance-damaged').some((o) => o.includes(`(blob ${names.gone})`)))
    assert.equal(report.errors, 11)
    assert.equal(report.warnings, 2)
    // Every blob with a readable record is checked once: read back with its instance, or verified alone.
    assert.equal(report.checked.blobs, study.length + other.length - 2 + 1)
    assert.equal(report.checked.instances, study.length + other.length - 3)
  })

  test('keyless: the same index findings, and blobs verified against their records', async (t) => {
    const { archive, names } = await damagedArchive(t)
    const report = await fsck(archive, { keyless: true, repair: false })
    // Blobs are verified in id order, so the damaged and the unreferenced one come in either order.
    const found = kinds(report)
    assert.deepEqual([...found.slice(0, 7), ...found.slice(7, 9).sort(), ...found.slice(9)], [
      'error blob-record',
      'error blob-missing-record',
      'error lookup-missing',
      'error lookup-missing',
      'error instance-unreadable',
      'error lookup-dangling',
      'error lookup-dangling',
      'error blob-damaged',
      'warning blob-unreferenced',
      'warning blob-orphan'
    ])
    assert.equal(report.problems.find((p) => p.kind === 'blob-damaged')!.object, `blob ${names.damaged}`)
  })

  test('--repair: lookups mended, but nothing an unreadable record may name is moved', async (t) => {
    const { archive, names } = await damagedArchive(t)
    const report = await fsck(archive, { keyless: false, repair: true })
    const repaired = (kind: string): Array<string | undefined> => report.problems.filter((p) => p.kind === kind).map((p) => p.repaired)
    assert.deepEqual(repaired('lookup-dangling'), ['lookup removed', 'lookup removed'])
    assert.deepEqual(repaired('blob-unreferenced'), ['not repaired: the index is damaged, so this blob may still be needed'])
    assert.deepEqual(repaired('blob-orphan'), ['not repaired: the index is damaged, so this blob may still be needed'])
    assert.deepEqual(repaired('instance-damaged').map((r) => r?.replace(/kept at .*/, 'kept at …')),
      ['removed from the index; the blob was already gone', 'removed from the index; blob kept at …', 'removed from the index; blob kept at …'])
    assert.equal(await archive.blobs.size(names.orphan as BlobId) !== undefined, true, 'the orphan stays while the index is in doubt')
    const again = await fsck(archive, { keyless: false, repair: false })
    assert.ok(!again.problems.some((p) => p.kind === 'lookup-missing' || p.kind === 'instance-damaged' || p.kind === 'blob-missing-record'), JSON.stringify(again.problems))
  })
})

describe('BlobIdSet', () => {
  const hex = (n: number): BlobId => Buffer.from(Array.from({ length: 32 }, (_, i) => (n * 2654435761 + i * 40503) >>> (i % 24) & 0xff)).toString('hex') as BlobId

  test('agrees with a Set of strings, past its first growth, with repeats and flags', () => {
    const set = new BlobIdSet()
    const reference = new Set<string>()
    for (let n = 0; n < 5000; n++) {
      const id = hex(n % 3000)
      set.add(id, n % 7 === 0 ? 1 : 0)
      reference.add(id)
    }
    set.freeze()
    assert.equal(set.size, reference.size)
    for (const id of reference) assert.ok(set.has(id as BlobId))
    for (let n = 3000; n < 4000; n++) assert.equal(set.has(hex(n)), reference.has(hex(n)))
    const flagged = new Set<string>()
    for (let n = 0; n < 5000; n += 7) flagged.add(hex(n % 3000))
    assert.equal(set.countWith(1), flagged.size, 'flags of repeated adds are merged')
    const i = set.indexOf(hex(1))
    set.setFlags(i, 2)
    assert.equal(set.flagsAt(i) & 2, 2)
    assert.equal(set.countWith(2), 1)
  })

  test('ids that differ only after their first 128 bits count as one; an empty set holds nothing', () => {
    const a = ('ab'.repeat(16) + '0'.repeat(32)) as BlobId
    const b = ('ab'.repeat(16) + 'f'.repeat(32)) as BlobId
    const set = new BlobIdSet()
    set.add(a)
    set.freeze()
    assert.ok(set.has(b), 'the prefix is the key (a 2^-128 coincidence for SHA-256 ids)')
    assert.ok(!set.has(('ac' + 'ab'.repeat(15) + '0'.repeat(32)) as BlobId))
    const empty = new BlobIdSet()
    empty.freeze()
    assert.equal(empty.size, 0)
    assert.ok(!empty.has(a))
    assert.throws(() => empty.add(a), /frozen/)
  })
})
