/**
 * The ingest's `accept` hook (what the DIMSE edge checks a C-STORE dataset's UIDs with, on the
 * ingest's own inspection instead of a second parse of the stream): it sees the header exactly
 * once, whether the header is read mid-stream or only at the end (no Pixel Data); a refusal
 * stores nothing, leaves no blob and frees the instance for a later copy.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { InstanceHeader } from '../../../node/dicom/instance-header.ts'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import { Pacs } from '../../../node/pacs/pacs.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { memoryArchive, pieces } from './helpers/archive.ts'

const EXPLICIT_LE = '1.2.840.10008.1.2.1'
const IMPLICIT_LE = '1.2.840.10008.1.2'

function bareDataset (file: Uint8Array): { transferSyntaxUid: string, dataset: Uint8Array } {
  const meta = parseFileMeta(file, file.length)!
  return { transferSyntaxUid: meta.transferSyntaxUid, dataset: file.subarray(meta.metaEnd) }
}

/** The dataset cut just before its top-level Pixel Data (7FE0,0010), little endian. */
function withoutPixelData (dataset: Uint8Array): Uint8Array {
  for (let i = dataset.length - 4; i >= 0; i--) {
    if (dataset[i] === 0xe0 && dataset[i + 1] === 0x7f && dataset[i + 2] === 0x10 && dataset[i + 3] === 0x00) return dataset.slice(0, i)
  }
  throw new Error('no Pixel Data in the test dataset')
}

const study = syntheticStudy({ seed: 57 }).filter((i) => [EXPLICIT_LE, IMPLICIT_LE].includes(bareDataset(i.bytes).transferSyntaxUid))

test('accept sees the header once, before the instance is stored, with or without Pixel Data', async (t) => {
  const { archive } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const [first, second] = study
  assert.ok(first !== undefined && second !== undefined, 'two little endian instances')
  for (const [instance, cut] of [[first, false], [second, true]] as const) {
    const { transferSyntaxUid, dataset } = bareDataset(instance.bytes)
    const seen: InstanceHeader[] = []
    const sent = cut ? withoutPixelData(dataset) : dataset
    const result = await pacs.ingestDataset(pieces(sent, 700), { transferSyntaxUid, sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid },
      (header) => { seen.push(header) })
    assert.equal(result.status, 'imported')
    assert.equal(seen.length, 1, cut ? 'header read only at the end' : 'header read mid-stream')
    assert.equal(seen[0]!.sopInstanceUid, instance.sopInstanceUid)
    assert.equal(seen[0]!.sopClassUid, instance.sopClassUid)
  }
})

test('a header refused by accept stores nothing and frees the instance', async (t) => {
  const { archive, blobs, kv } = await memoryArchive(t)
  const pacs = await Pacs.load(archive)
  const instance = study[0]!
  const { transferSyntaxUid, dataset } = bareDataset(instance.bytes)
  const fields = { transferSyntaxUid, sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid }
  let pulled = 0
  async function * source (): AsyncIterable<Uint8Array> {
    for await (const piece of pieces(dataset, 500)) { pulled += piece.length; yield piece }
  }
  await assert.rejects(pacs.ingestDataset(source(), fields, () => { throw new Error('refused by the test') }), /refused by the test/)
  assert.ok(pulled < dataset.length, 'refused as soon as the header was read, not at the end')
  for await (const id of blobs.list()) assert.fail(`blob ${id} left behind`)
  for await (const [key] of kv.entries([])) assert.ok(!['instance', 'sop', 'blob'].includes(key[0]!), `index entry ${key.join('/')} written`)
  assert.equal(await pacs.findInstance(instance.sopInstanceUid), undefined)
  assert.equal((await pacs.ingestDataset(pieces(dataset, 500), fields)).status, 'imported')
})
