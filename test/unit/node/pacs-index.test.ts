/**
 * The node's query index (node/pacs/pacs.ts, query/study-index.ts, pacs/study-summary.ts): memory
 * holds one compact entry per study; a start reads each study's sealed summary instead of opening
 * every instance record, and makes the summary again when it is missing or does not cover the
 * study's records (an import made without the node); series and instance answers are read from
 * the index on disk; C-GET's syntax counts and the DICOM StudyID come out right.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Archive } from '../../../node/archive/archive.ts'
import { keys } from '../../../node/store/key-space.ts'
import { Pacs } from '../../../node/pacs/pacs.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { ingest, memoryArchive, pieces } from './helpers/archive.ts'

/** Counts the instance records opened through `archive` (a counting wrapper around the real method). */
function countOpens (archive: Archive): { instances: number } {
  const counted = { instances: 0 }
  const open = archive.openRecord.bind(archive)
  archive.openRecord = (study, key, sealed) => {
    if (key[0] === 'instance') counted.instances++
    return open(study, key, sealed)
  }
  return counted
}

async function summaries (archive: Archive): Promise<number> {
  let n = 0
  for await (const _ of archive.kv.entries(keys.studySummaries)) n++
  return n
}

/** Counts the studies opened (keys unwrapped) through `archive`. */
function countStudies (archive: Archive): { studies: number } {
  const counted = { studies: 0 }
  const study = archive.study.bind(archive)
  archive.study = async (id) => { counted.studies++; return await study(id) }
  return counted
}

test('a start opens no instance record, and no study when the index snapshot covers it; what is missing or stale is made again', async (t) => {
  const { archive, restart } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const a = syntheticStudy({ seed: 11 })
  const [extra, ...b] = syntheticStudy({ seed: 12 })
  for (const inst of [...a, ...b]) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  await pacs.drain()
  assert.equal(await summaries(archive), 2, 'each study has its summary once ingest is drained')
  const expected = await pacs.query('STUDY', {})

  // A restart opens the studies but no instance record: the summaries answer.
  const second = restart()
  const opened = countOpens(second)
  const reloaded = await Pacs.load(second)
  assert.equal(opened.instances, 0)
  assert.deepEqual(await reloaded.query('STUDY', {}), expected)
  assert.equal(reloaded.instanceCount, a.length + b.length)
  // It wrote the snapshot: the next start opens no study at all.
  const third = restart()
  const studiesOpened = countStudies(third)
  assert.deepEqual(await (await Pacs.load(third)).query('STUDY', {}), expected)
  assert.equal(studiesOpened.studies, 0)

  // Study a's summary is lost, and an instance is added to study b without the node (offline
  // import): a still comes from the snapshot; b, whose records outnumber both, is summarised again.
  const studyA = reloaded.study(a[0]!.studyInstanceUid)!
  await third.kv.batch([{ type: 'del', key: keys.studySummary(studyA.storedIn) }])
  assert.equal((await ingest(third, extra!.bytes)).status, 'imported')
  const fourth = restart()
  const reopened = countOpens(fourth)
  const again = await Pacs.load(fourth)
  assert.equal(reopened.instances, b.length + 1, 'only study b was summarised again from its records')
  const rows = (await again.query('STUDY', {})).rows
  const byUid = new Map(rows.map((r) => [r.StudyInstanceUID, r]))
  assert.equal(byUid.get(a[0]!.studyInstanceUid)!.NumberOfStudyRelatedInstances, a.length)
  assert.equal(byUid.get(b[0]!.studyInstanceUid)!.NumberOfStudyRelatedInstances, b.length + 1)
  assert.equal(byUid.get(b[0]!.studyInstanceUid)!.NumberOfStudyRelatedSeries, new Set([...b, extra!].map((i) => i.seriesInstanceUid)).size)

  // Without the snapshot, study a (no summary) is summarised from its records, then stored again.
  for await (const [key] of fourth.kv.entries(keys.indexSnapshots)) await fourth.kv.batch([{ type: 'del', key }])
  const fifth = restart()
  const fromRecords = countOpens(fifth)
  assert.deepEqual((await (await Pacs.load(fifth)).query('STUDY', {})).rows, rows)
  assert.equal(fromRecords.instances, a.length)
  const sixth = restart()
  const last = countOpens(sixth)
  const lastStudies = countStudies(sixth)
  await Pacs.load(sixth)
  assert.equal(last.instances, 0)
  assert.equal(lastStudies.studies, 0)
})

test('a snapshot part that does not open is ignored: every study is loaded from its own records', async (t) => {
  const { archive, restart } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const study = syntheticStudy({ seed: 14 })
  for (const inst of study) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  await pacs.drain()
  await Pacs.load(restart())
  let parts = 0
  for await (const [key, value] of archive.kv.entries(keys.indexSnapshots)) {
    parts++
    const text = Buffer.from(value).toString('latin1')
    assert.ok(!text.includes(study[0]!.studyInstanceUid) && !text.includes('1.2.840.10008'), 'the snapshot rests sealed')
    const flipped = Uint8Array.from(value)
    flipped[flipped.length - 1]! ^= 1
    await archive.kv.batch([{ type: 'put', key, value: flipped }])
  }
  assert.equal(parts, 1)
  const again = restart()
  const opened = countStudies(again)
  const reloaded = await Pacs.load(again)
  assert.equal(opened.studies, 1)
  assert.equal(reloaded.instanceCount, study.length)
})

test('a summary rests sealed: no UID or count of the study appears in clear in the index', async (t) => {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const study = syntheticStudy({ seed: 13, slices: 2 })
  for (const inst of study) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  await pacs.drain()
  for await (const [, value] of archive.kv.entries(keys.studySummaries)) {
    const text = Buffer.from(value).toString('latin1')
    for (const inst of study) assert.ok(!text.includes(inst.seriesInstanceUid), 'series UID in clear')
    assert.ok(!text.includes('1.2.840.10008'), 'SOP class or transfer syntax in clear')
  }
})

test('series and instance queries read the study from disk; instances are found by SOP Instance UID alone', async (t) => {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const a = syntheticStudy({ seed: 21, slices: 3 })
  const b = syntheticStudy({ seed: 22, slices: 2 })
  for (const inst of [...a, ...b]) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  const opened = countOpens(archive)
  const series = await pacs.query('SERIES', { StudyInstanceUID: a[0]!.studyInstanceUid })
  assert.equal(series.rows.length, new Set(a.map((i) => i.seriesInstanceUid)).size)
  assert.equal(opened.instances, a.length, 'only the records of the study asked for were opened')

  const target = b[1]!
  const images = await pacs.query('IMAGE', { SOPInstanceUID: target.sopInstanceUid })
  assert.deepEqual(images.rows.map((r) => r.SOPInstanceUID), [target.sopInstanceUid])
  assert.equal((await pacs.findInstance(target.sopInstanceUid))?.seriesInstanceUid, target.seriesInstanceUid)
  assert.equal(await pacs.findInstance('1.2.3.4.5.6.7'), undefined)
  // A key below the study level that the study index does not list is answered from the records.
  const description = (await pacs.findInstance(target.sopInstanceUid))!.seriesDescription
  if (description !== undefined) {
    const found = await pacs.query('STUDY', { SeriesDescription: description })
    assert.ok(found.rows.some((r) => r.StudyInstanceUID === target.studyInstanceUid))
  }
  // A study-level key with a series key the study index lists: decided in memory.
  const withSeries = await pacs.query('STUDY', { SeriesInstanceUID: target.seriesInstanceUid })
  assert.deepEqual(withSeries.rows.map((r) => r.StudyInstanceUID), [target.studyInstanceUid])
  const list = await pacs.instancesOf(a[0]!.studyInstanceUid, a[0]!.seriesInstanceUid)
  assert.deepEqual(list.map((i) => i.sopInstanceUid).sort(), a.filter((i) => i.seriesInstanceUid === a[0]!.seriesInstanceUid).map((i) => i.sopInstanceUid).sort())
})

test('StudyID is the DICOM Study ID, not the id the study is stored under', async (t) => {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const study = syntheticStudy({ seed: 31 })
  for (const inst of study) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  const held = (await pacs.findInstance(study[0]!.sopInstanceUid))!
  assert.match(String(held.studyId), /^S\d+$/)
  const [row] = (await pacs.query('STUDY', {})).rows
  assert.equal(row!.StudyID, held.studyId)
  const [image] = (await pacs.query('IMAGE', { StudyInstanceUID: study[0]!.studyInstanceUid }, { limit: 1 })).rows
  assert.equal(image!.StudyID, held.studyId)
})

test('stored transfer syntaxes per SOP class are counted by ingest and after a restart', async (t) => {
  const { archive, restart } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const study = syntheticStudy({ seed: 41, slices: 3 })
  for (const inst of study) await pacs.ingest(pieces(inst.bytes), inst.bytes.length)
  const expected = new Map<string, Map<string, number>>()
  for (const inst of study) {
    const held = (await pacs.findInstance(inst.sopInstanceUid))!
    const m = expected.get(held.sopClassUid) ?? new Map<string, number>()
    m.set(held.transferSyntaxUid, (m.get(held.transferSyntaxUid) ?? 0) + 1)
    expected.set(held.sopClassUid, m)
  }
  for (const [sopClass, counts] of expected) assert.deepEqual(new Map(pacs.storedSyntaxCounts(sopClass)), counts)
  // The same instance again is a duplicate: counted once.
  await pacs.ingest(pieces(study[0]!.bytes), study[0]!.bytes.length)
  await pacs.drain()
  const reloaded = await Pacs.load(restart())
  for (const [sopClass, counts] of expected) assert.deepEqual(new Map(reloaded.storedSyntaxCounts(sopClass)), counts)
  assert.equal(reloaded.storedSyntaxCounts('1.2.3').size, 0)
})

test('an instance adopted from the mesh joins the study index and its summary', async (t) => {
  const { archive, restart } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const [first, second] = syntheticStudy({ seed: 51, slices: 2 })
  await pacs.ingest(pieces(first!.bytes), first!.bytes.length)
  // Indexed by someone else (as the materializer does), then handed to the node.
  const result = await ingest(archive, second!.bytes)
  pacs.adopt(result.studyId, result.entry!)
  assert.equal((await pacs.query('STUDY', {})).rows[0]!.NumberOfStudyRelatedInstances, 2)
  await pacs.drain()
  const again = restart()
  const opened = countOpens(again)
  const reloaded = await Pacs.load(again)
  assert.equal(opened.instances, 0, 'the summary covered the adopted instance')
  assert.equal((await reloaded.query('STUDY', {})).rows[0]!.NumberOfStudyRelatedInstances, 2)
})
