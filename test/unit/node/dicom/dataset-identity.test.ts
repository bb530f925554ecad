/**
 * An instance's identity is its dataset, not its file (issue 12 item 14): the same dataset under
 * another file meta — another Source AE Title (0002,0016), another implementation, a C-STORE
 * dataset after a STOW file — is a duplicate, and the copy stored first stays byte for byte;
 * the same values re-encoded (another transfer syntax) are a duplicate too; another dataset under
 * the same SOP Instance UID (one value changed) is a conflict whose message says what differs. Run over the archive's Ingester, with the dataset digest
 * itself checked whole and in pieces.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import dcmjs from 'dcmjs'
import { datasetDigestOf } from '../../../../node/archive/dataset-digest.ts'
import { Ingester } from '../../../../node/archive/ingest.ts'
import { readInstance } from '../../../../node/archive/read-instance.ts'
import { instancesOf, listStudies } from '../../../../node/archive/catalogue.ts'
import { buildFileMeta } from '../../../../node/dicom/file-meta-writer.ts'
import { provider } from '../../../../node/runtime.ts'
import { concatBytes } from '../../../../protocol/bytes.ts'
import { build, CT_IMAGE, metaEnd, TS, UIDS } from '../helpers/dicom.ts'
import { memoryArchive, pieces } from '../helpers/archive.ts'
import { randomPieces, seeded, toHexString } from '../helpers/seeded.ts'

/** The same dataset under a file meta naming `aeTitle` as its source (as the DIMSE edge writes it). */
function fromAe (file: Uint8Array, aeTitle: string | undefined, transferSyntaxUid: string = TS.explicitVrLittleEndian): Uint8Array {
  return concatBytes(buildFileMeta({ transferSyntaxUid, sopClassUid: CT_IMAGE, sopInstanceUid: UIDS.sopInstance, ...(aeTitle === undefined ? {} : { sourceAeTitle: aeTitle }) }), file.subarray(metaEnd(file)))
}

/** The same instance written anew by dcmjs in another transfer syntax, as a converting sender would. */
function reencoded (file: Uint8Array, transferSyntaxUid: string): Uint8Array {
  const dict = dcmjs.data.DicomMessage.readFile(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer)
  dict.meta['00020010']!.Value = [transferSyntaxUid]
  return new Uint8Array((dict as unknown as { write: () => ArrayBuffer }).write())
}

async function stored (archive: Awaited<ReturnType<typeof memoryArchive>>['archive']): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (const summary of (await listStudies(archive)).studies) {
    const study = await archive.study(summary.studyId)
    for await (const entry of instancesOf(archive, study)) {
      const parts: Uint8Array[] = []
      for await (const p of readInstance(archive, study, entry)) parts.push(p)
      out.push(concatBytes(...parts))
    }
  }
  return out
}

test('dataset digest: the bytes after the file meta, the same whole, in random pieces and byte by byte', async () => {
  const file = build()
  const whole = await datasetDigestOf(provider, pieces(file, file.length))
  assert.equal(whole.size, file.length - metaEnd(file))
  assert.equal(toHexString(whole.sha256), toHexString(provider.sha256(file.subarray(metaEnd(file)))))
  assert.equal(whole.transferSyntaxUid, TS.explicitVrLittleEndian)
  for (const size of [64, 1]) {
    async function * split (): AsyncIterable<Uint8Array> { yield * randomPieces(file, seeded(size), size) }
    assert.deepEqual(await datasetDigestOf(provider, split()), whole)
  }
  // Another meta, same dataset: same digest.
  assert.deepEqual(await datasetDigestOf(provider, pieces(fromAe(file, 'MODALITY_B'))), whole)
})

test('the same dataset from another AE, from another writer, or as a file after a C-STORE: a duplicate, the first copy kept', async (t) => {
  const { archive } = await memoryArchive(t)
  const ingester = new Ingester(archive)
  const file = build()
  const asA = fromAe(file, 'MODALITY_A')
  const first = await ingester.ingest(pieces(asA), asA.length)
  assert.equal(first.status, 'imported')
  for (const [what, copy] of [['another AE', fromAe(file, 'MODALITY_B')], ['no source AE', fromAe(file, undefined)], ['the original file (STOW, CLI)', file]] as const) {
    assert.notDeepEqual(copy, asA, `${what}: the files differ`)
    const again = await ingester.ingest(pieces(copy, 100), copy.length)
    assert.equal(again.status, 'duplicate', what)
    assert.equal(again.blob, first.blob, `${what}: points at the stored copy`)
  }
  // The identical file again: the shortcut over the recorded hash, still a duplicate.
  assert.equal((await ingester.ingest(pieces(asA), asA.length)).status, 'duplicate')
  const all = await stored(archive)
  assert.equal(all.length, 1, 'nothing duplicated in the catalogue')
  assert.deepEqual(all[0], asA, 'the copy stored first is kept byte for byte')
})

test('another dataset under the same SOP Instance UID: a conflict saying what differs, unless only its encoding differs; the stored copy kept', async (t) => {
  const { archive } = await memoryArchive(t)
  const ingester = new Ingester(archive)
  const file = build()
  await ingester.ingest(pieces(file), file.length)

  const changed = fromAe(file, 'MODALITY_B')
  changed[changed.length - 1]! ^= 0xff // a pixel value
  await assert.rejects(ingester.ingest(pieces(changed), changed.length), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'INSTANCE_CONFLICT')
    assert.match(error.message, /already stored with different content; the stored instance was kept \(the datasets differ: \d+ bytes stored, \d+ bytes in this copy, same transfer syntax 1\.2\.840\.10008\.1\.2\.1;/)
    return true
  })

  // The same instance converted to implicit VR: other bytes, the same values: a duplicate.
  const implicit = reencoded(file, TS.implicitVrLittleEndian)
  assert.notDeepEqual(implicit.subarray(metaEnd(implicit)), file.subarray(metaEnd(file)), 'other bytes')
  assert.equal((await ingester.ingest(pieces(implicit), implicit.length)).status, 'duplicate')
  // Converted and changed: a conflict that names both differences.
  const implicitChanged = implicit.slice()
  implicitChanged[implicitChanged.length - 1]! ^= 0xff
  await assert.rejects(ingester.ingest(pieces(implicitChanged), implicitChanged.length), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'INSTANCE_CONFLICT')
    assert.match(error.message, /the stored dataset is in transfer syntax 1\.2\.840\.10008\.1\.2\.1, this copy's in 1\.2\.840\.10008\.1\.2, and its values differ too/)
    return true
  })
  const all = await stored(archive)
  assert.equal(all.length, 1)
  assert.deepEqual(all[0], file)
})
