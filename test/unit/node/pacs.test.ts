/**
 * The node's shared service (node/pacs/pacs.ts): a bare dataset (as C-STORE delivers it) is
 * stored as a Part 10 file whose dataset is byte-identical to what arrived; the in-memory
 * catalogue answers queries at every level and survives a restart; malformed datasets store nothing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { equalBytes } from '../../../protocol/bytes.ts'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import { Pacs } from '../../../node/pacs/pacs.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { memoryArchive, pieces } from './helpers/archive.ts'

async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return Buffer.concat(parts)
}

function splitMeta (file: Uint8Array): { ts: string, dataset: Uint8Array } {
  const meta = parseFileMeta(file, file.length)!
  return { ts: meta.transferSyntaxUid, dataset: file.subarray(meta.metaEnd) }
}

test('a dataset without file meta is stored with peerpacs meta and its bytes unchanged', async (t) => {
  const { archive, restart } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const study = syntheticStudy({ seed: 7 })
  for (const inst of study) {
    const { ts, dataset } = splitMeta(inst.bytes)
    const result = await pacs.ingestDataset(pieces(dataset, 1000), { transferSyntaxUid: ts, sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopInstanceUid, sourceAeTitle: 'MODALITY' })
    assert.equal(result.status, 'imported')
  }
  for (const inst of study) {
    const held = await pacs.findInstance(inst.sopInstanceUid)
    assert.ok(held, 'in the catalogue')
    const stored = await collect(pacs.read(held))
    const back = splitMeta(stored)
    const sent = splitMeta(inst.bytes)
    assert.equal(back.ts, sent.ts)
    assert.ok(equalBytes(back.dataset, sent.dataset), 'dataset bytes identical')
    assert.match(Buffer.from(stored.subarray(0, 400)).toString('latin1'), /MODALITY/)
  }
  const reloaded = await Pacs.load(restart())
  assert.equal(reloaded.instanceCount, study.length)
  // The catalogue kept from ingest (not read back) is what the index yields after a restart.
  for (const inst of study) assert.deepEqual({ ...await pacs.findInstance(inst.sopInstanceUid) }, { ...await reloaded.findInstance(inst.sopInstanceUid) })
  const studies = (await reloaded.query('STUDY', { StudyInstanceUID: '' }))
  assert.equal(studies.rows.length, 1)
  assert.equal(studies.rows[0]!.NumberOfStudyRelatedInstances, study.length)
})

test('a truncated or garbage dataset is refused and nothing is catalogued', async (t) => {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const [inst] = syntheticStudy({ seed: 8 })
  const { ts, dataset } = splitMeta(inst!.bytes)
  const fields = { transferSyntaxUid: ts, sopClassUid: inst!.sopClassUid, sopInstanceUid: inst!.sopInstanceUid }
  await assert.rejects(pacs.ingestDataset(pieces(dataset.subarray(0, dataset.length - 3)), fields), /ends|short/)
  await assert.rejects(pacs.ingestDataset(pieces(new Uint8Array(300).fill(0x41)), fields), { code: 'INVALID_DICOM' })
  await assert.rejects(pacs.ingestDataset(pieces(new Uint8Array(0)), fields))
  assert.equal(pacs.instanceCount, 0)
  for await (const blob of archive.blobs.list()) assert.fail(`blob ${blob} left behind`)
})

test('queries match at each level with wildcards, ranges, lists and computed keys', async (t) => {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const a = syntheticStudy({ seed: 1, studyDate: '20240105', accessionNumber: 'ACC1' })
  const b = syntheticStudy({ seed: 2, studyDate: '20250310', accessionNumber: 'ACC2' })
  for (const inst of [...a, ...b]) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  assert.equal((await pacs.query('STUDY', {})).rows.length, 2)
  assert.deepEqual((await pacs.query('STUDY', { StudyDate: '20240101-20241231' })).rows.map((r) => r.AccessionNumber), ['ACC1'])
  assert.deepEqual((await pacs.query('STUDY', { StudyDate: '20250310-' })).rows.map((r) => r.AccessionNumber), ['ACC2'])
  assert.deepEqual((await pacs.query('STUDY', { StudyDate: '-20240105' })).rows.map((r) => r.AccessionNumber), ['ACC1'])
  assert.deepEqual((await pacs.query('STUDY', { AccessionNumber: 'ACC?' })).rows.length, 2)
  assert.deepEqual((await pacs.query('STUDY', { StudyInstanceUID: `${a[0]!.studyInstanceUid}\\${b[0]!.studyInstanceUid}` })).rows.length, 2)
  const series = (await pacs.query('SERIES', { StudyInstanceUID: a[0]!.studyInstanceUid }))
  assert.equal(series.rows.length, new Set(a.map((i) => i.seriesInstanceUid)).size)
  const images = (await pacs.query('IMAGE', { StudyInstanceUID: a[0]!.studyInstanceUid }, { limit: 2, offset: 1 }))
  assert.equal(images.rows.length, 2)
  assert.equal(images.total, a.length)
  const modality = a[0]!.modality
  assert.ok((await pacs.query('STUDY', { ModalitiesInStudy: modality })).rows.length >= 1)
  assert.ok((await pacs.query('STUDY', { Modality: modality })).rows.length >= 1)
  await assert.rejects(async () => await pacs.query('STUDY', { StudyDate: '2024-01-01' }), { code: 'QUERY_KEY' })
  await assert.rejects(async () => await pacs.query('STUDY', { NoSuchThing: 'x' }), { code: 'QUERY_KEY' })
})
