/**
 * The archive's main promise, through the real CLI: init, import of every encoding the
 * generator makes plus JPEG files made by dcmtk, studies listing, and export that is
 * byte-identical to what was imported and readable by dcmtk. Re-import is idempotent; a
 * different instance under a stored SOPInstanceUID is rejected and the stored one kept.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCli, show } from '../helpers/cli.ts'
import { indexSet, mixedStudies, writeStudies, type WrittenSet } from '../helpers/dataset.ts'
import { dcmtk, dumpValue, jpegCompress } from '../helpers/dcmtk.ts'
import { listFiles, suiteDir } from '../helpers/files.ts'

describe('import and export round trip', () => {
  let root: { path: string, remove: () => Promise<void> }
  let data: string
  let set: WrittenSet
  let importResult: Awaited<ReturnType<typeof runCli>>

  before(async () => {
    root = await suiteDir()
    data = join(root.path, 'data')
    const written = await writeStudies(join(root.path, 'in'), mixedStudies())
    // Two JPEG files made by dcmtk from generated ones: real compressed data from another encoder.
    const ct = written.instances.find((i) => i.modality === 'CT' && i.transferSyntaxUid === '1.2.840.10008.1.2')!
    const sc = written.instances.find((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.7' && i.datasetVerbatim)!
    const jpegDir = join(root.path, 'in', 'jpeg')
    await mkdir(jpegDir)
    const extra = []
    for (const [source, mode, name] of [[ct, 'lossless', 'ct-jpeg-lossless.dcm'], [sc, 'baseline', 'sc-jpeg-baseline.dcm']] as const) {
      const path = join(jpegDir, name)
      jpegCompress(source.path, path, mode)
      const bytes = new Uint8Array(await readFile(path))
      extra.push({ ...source, path, bytes, sopInstanceUid: dumpValue(path, '0008,0018')!, transferSyntaxUid: dumpValue(path, '0002,0010')! })
    }
    set = indexSet(written.dir, [...written.instances, ...extra])
    const init = await runCli(['init', '--data', data, '--name', 'Round Trip Clinic', '--json'])
    assert.equal(init.code, 0, show(init))
    importResult = await runCli(['import', '--data', data, '--json', set.dir])
  })
  after(async () => { await root.remove() })

  it('init printed a node id, an org id and the recovery key, and warned that the keys are unsealed', async () => {
    const again = await runCli(['init', '--data', data])
    assert.equal(again.code, 3, show(again))
    assert.match(again.stderr, /already a peerpacs data dir/)
    const meta = JSON.parse(await readFile(join(data, 'peerpacs.json'), 'utf8'))
    assert.match(meta.nodeId, /^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/)
    assert.match(meta.orgId, /^[0-9a-f]{64}$/)
  })

  it('imports every instance, whatever its encoding', () => {
    assert.equal(importResult.code, 0, show(importResult))
    const files = importResult.records.filter((r) => r.type === 'file')
    assert.equal(files.length, set.instances.length)
    for (const f of files) assert.equal(f.status, 'imported', `${f.path}: ${f.reason}`)
    const summary = importResult.records.find((r) => r.type === 'summary')!
    assert.equal(summary.imported, set.instances.length)
    assert.equal(summary.rejected, 0)
    const syntaxes = new Set(set.instances.map((i) => i.transferSyntaxUid))
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.50']) {
      assert.ok(syntaxes.has(ts), `the set covers transfer syntax ${ts}`)
    }
    assert.ok(set.instances.some((i) => i.numberOfFrames > 1), 'the set has a multi-frame instance')
  })

  it('lists each study with its patient, modalities and counts', async () => {
    const r = await runCli(['studies', '--data', data, '--json'])
    assert.equal(r.code, 0, show(r))
    const studies = r.records.filter((x) => x.type === 'study')
    assert.equal(studies.length, set.studies.size)
    for (const [uid, instances] of set.studies) {
      const s = studies.find((x) => x.studyInstanceUid === uid)
      assert.ok(s, `study ${uid} is listed`)
      assert.equal(s.instances, instances.length)
      assert.equal(s.series, new Set(instances.map((i) => i.seriesInstanceUid)).size)
      assert.deepEqual(s.modalities, [...new Set(instances.map((i) => i.modality))].sort())
      assert.match(s.patientName, /^ZZTESTPATIENT\^/)
      assert.match(s.studyDate, /^\d{8}$/)
      assert.match(s.studyId, /^[0-9a-f]{32}$/)
    }
    const human = await runCli(['studies', '--data', data])
    assert.equal(human.code, 0, show(human))
    assert.match(human.stdout, /ZZTESTPATIENT\^JANE\^Q/)
    assert.match(human.stdout, /INTEGRATION MIXED A/)
  })

  it('exports every study byte-identical to what was imported, readable by dcmtk', async () => {
    for (const [uid, instances] of set.studies) {
      const out = join(root.path, 'out', uid)
      const r = await runCli(['export', '--data', data, '--json', uid, out])
      assert.equal(r.code, 0, show(r))
      const files = await listFiles(out)
      assert.equal(files.length, instances.length)
      for (const instance of instances) {
        const path = join(out, instance.seriesInstanceUid, `${instance.sopInstanceUid}.dcm`)
        assert.deepEqual(new Uint8Array(await readFile(path)), instance.bytes, `${instance.relativePath} exports byte for byte`)
        const dump = dcmtk('dcmdump', ['-q', path])
        assert.equal(dump.status, 0, `dcmdump reads ${path}: ${dump.stderr}`)
      }
    }
  })

  it('export accepts the opaque study id too', async () => {
    const list = await runCli(['studies', '--data', data, '--json'])
    const study = list.records.find((x) => x.type === 'study')!
    const out = join(root.path, 'out-by-id')
    const r = await runCli(['export', '--data', data, study.studyId, out])
    assert.equal(r.code, 0, show(r))
    assert.equal((await listFiles(out)).length, study.instances)
  })

  it('re-importing the same files changes nothing: every file is a duplicate', async () => {
    const blobsBefore = await listFiles(join(data, 'blobs'))
    const r = await runCli(['import', '--data', data, '--json', set.dir])
    assert.equal(r.code, 0, show(r))
    const summary = r.records.find((x) => x.type === 'summary')!
    assert.equal(summary.duplicates, set.instances.length)
    assert.equal(summary.imported, 0)
    assert.deepEqual(await listFiles(join(data, 'blobs')), blobsBefore)
  })

  it('a different instance under a stored SOPInstanceUID is rejected and the stored one kept', async () => {
    const original = set.instances.find((i) => i.pixelPatternVerbatim)!
    const changed = new Uint8Array(original.bytes)
    changed[changed.length - 3] = changed[changed.length - 3]! ^ 0xff // a pixel value
    const path = join(root.path, 'changed.dcm')
    await writeFile(path, changed)
    const r = await runCli(['import', '--data', data, '--json', path])
    assert.equal(r.code, 1, show(r))
    const file = r.records.find((x) => x.type === 'file')!
    assert.equal(file.status, 'rejected')
    assert.match(file.reason, /already stored with different content; the stored instance was kept/)
    const out = join(root.path, 'out-after-conflict')
    assert.equal((await runCli(['export', '--data', data, original.studyInstanceUid, out])).code, 0)
    assert.deepEqual(new Uint8Array(await readFile(join(out, original.seriesInstanceUid, `${original.sopInstanceUid}.dcm`))), original.bytes)
  })

  it('fsck finds nothing wrong', async () => {
    const r = await runCli(['fsck', '--data', data, '--json'])
    assert.equal(r.code, 0, show(r))
    const summary = r.records.find((x) => x.type === 'summary')!
    assert.equal(summary.errors, 0)
    assert.equal(summary.warnings, 0)
    assert.equal(summary.checked.instances, set.instances.length)
  })

  it('export of an unknown study exits 5; export into the data dir is refused', async () => {
    const unknown = await runCli(['export', '--data', data, '1.2.3.4.5', join(root.path, 'x')])
    assert.equal(unknown.code, 5, show(unknown))
    assert.match(unknown.stderr, /no study with StudyInstanceUID 1\.2\.3\.4\.5/)
    const [uid] = set.studies.keys()
    const inside = await runCli(['export', '--data', data, uid!, join(data, 'exported')])
    assert.equal(inside.code, 2, show(inside))
    assert.match(inside.stderr, /refusing to export into the data dir/)
  })
})
