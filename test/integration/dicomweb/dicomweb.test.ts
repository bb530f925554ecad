/**
 * The DICOMweb edge over a real data dir, driven by dicomweb-client (the library OHIF builds on):
 * a multi-series study stored with STOW-RS, found with QIDO-RS filters, retrieved with WADO-RS
 * byte for byte, its metadata matching the files, frames cut right, images rendered; WADO-URI
 * too; and the logs never carry a name, an ID or a UID.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { inflateSync } from 'node:zlib'
import dcmjs from 'dcmjs'
import dicomweb from 'dicomweb-client'
import { installXhr } from '../../helpers/dicomweb-xhr.ts'
import { startDicomweb, splitMultipart, type DicomwebServer } from '../../helpers/dicomweb-server.ts'
import { KNOWN_PATIENTS, syntheticStudy, type SyntheticInstance } from '../../synthetic/study.ts'

type Json = Record<string, { vr: string, Value?: any[], BulkDataURI?: string, InlineBinary?: string }>
type Client = {
  storeInstances: (o: object) => Promise<string>
  searchForStudies: (o?: object) => Promise<Json[]>
  searchForSeries: (o?: object) => Promise<Json[]>
  searchForInstances: (o?: object) => Promise<Json[]>
  retrieveInstance: (o: object) => Promise<ArrayBuffer>
  retrieveSeries: (o: object) => Promise<ArrayBuffer[]>
  retrieveStudy: (o: object) => Promise<ArrayBuffer[]>
  retrieveStudyMetadata: (o: object) => Promise<Json[]>
  retrieveSeriesMetadata: (o: object) => Promise<Json[]>
  retrieveInstanceMetadata: (o: object) => Promise<Json[]>
  retrieveInstanceFrames: (o: object) => Promise<ArrayBuffer[]>
  retrieveInstanceRendered: (o: object) => Promise<ArrayBuffer[]>
  retrieveInstanceThumbnail: (o: object) => Promise<ArrayBuffer[]>
  retrieveInstanceFramesRendered: (o: object) => Promise<ArrayBuffer[]>
  retrieveBulkData: (o: object) => Promise<ArrayBuffer[]>
}

const dcm = dcmjs as unknown as { data: { DicomMessage: { readFile: (b: ArrayBuffer, o?: object) => { dict: Record<string, { vr: string, Value?: any[] }> } } } }

function arrayBuffer (bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

function same (a: ArrayBuffer | Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a instanceof ArrayBuffer ? new Uint8Array(a) : a).equals(Buffer.from(b))
}

/** Single-part answers come from dicomweb-client as [ArrayBuffer]. */
function single (answer: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  return Array.isArray(answer) ? answer[0]! : answer
}

function pngSize (png: ArrayBuffer | ArrayBuffer[]): { width: number, height: number, colour: number } {
  const b = Buffer.from(single(png))
  assert.ok(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature')
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), colour: b[25]! }
}

/** The decoded scanlines of a PNG written by png.ts (one IDAT). */
function pngRows (png: ArrayBuffer | ArrayBuffer[]): Buffer {
  const b = Buffer.from(single(png))
  const length = b.readUInt32BE(33)
  return inflateSync(b.subarray(41, 41 + length))
}

describe('DICOMweb with dicomweb-client over a data dir', () => {
  let server: DicomwebServer
  let client: Client
  let restore: () => void
  const study = syntheticStudy({ seed: 41, studyDate: '20240315', accessionNumber: 'ACC41' })
  const other = syntheticStudy({ seed: 42, patient: KNOWN_PATIENTS[2], studyDate: '20230102', accessionNumber: 'ACC42', profile: 'ct', slices: 3 })
  const cleanups: Array<() => Promise<void> | void> = []
  const t = { after: (fn: () => Promise<void> | void) => { cleanups.unshift(fn) } }
  const byType = (ts: string): SyntheticInstance => study.find((i) => i.transferSyntaxUid === ts && i.numberOfFrames === 1)!

  before(async () => {
    restore = installXhr()
    server = await startDicomweb(t, { store: 'data-dir' })
    client = new dicomweb.api.DICOMwebClient({ url: server.root, singlepart: '', verbose: false }) as unknown as Client
  })
  after(async () => {
    restore()
    for (const fn of cleanups) await fn()
  })

  test('STOW-RS stores a multi-series study and answers with the references', async () => {
    const response = JSON.parse(await client.storeInstances({ datasets: study.map((i) => arrayBuffer(i.bytes)) }))
    const refs = response['00081199'].Value as Json[]
    assert.equal(refs.length, study.length)
    assert.equal(response['00081198'], undefined)
    assert.deepEqual(new Set(refs.map((r) => r['00081155']!.Value![0])), new Set(study.map((i) => i.sopInstanceUid)))
    for (const r of refs) assert.match(r['00081190']!.Value![0], /^http:\/\/127\.0\.0\.1:\d+\/dicomweb\/studies\/[\d.]+\/series\/[\d.]+\/instances\/[\d.]+$/)
    const again = JSON.parse(await client.storeInstances({ datasets: other.map((i) => arrayBuffer(i.bytes)), studyInstanceUID: other[0]!.studyInstanceUid }))
    assert.equal(again['00081199'].Value.length, other.length)
    // The same instances again are duplicates, reported stored.
    const dup = JSON.parse(await client.storeInstances({ datasets: [arrayBuffer(study[0]!.bytes)] }))
    assert.equal(dup['00081199'].Value.length, 1)
    assert.equal(server.pacs.instanceCount, study.length + other.length)
  })

  test('QIDO-RS finds studies, series and instances with filters, paging and includefield', async () => {
    const all = await client.searchForStudies()
    assert.equal(all.length, 2)
    const wild = await client.searchForStudies({ queryParams: { PatientName: 'ZZTEST*' } })
    assert.deepEqual(wild.map((s) => s['0020000D']!.Value![0]), [study[0]!.studyInstanceUid])
    assert.equal(wild[0]!['00100010']!.Value![0].Alphabetic, KNOWN_PATIENTS[0]!.name)
    assert.equal(wild[0]!['00201208']!.Value![0], study.length)
    assert.deepEqual(new Set(wild[0]!['00080061']!.Value), new Set(study.map((i) => i.modality)))
    const range = await client.searchForStudies({ queryParams: { StudyDate: '20230101-20231231' } })
    assert.deepEqual(range.map((s) => s['0020000D']!.Value![0]), [other[0]!.studyInstanceUid])
    const open = await client.searchForStudies({ queryParams: { StudyDate: '20240301-' } })
    assert.equal(open.length, 1)
    const byTag = await client.searchForStudies({ queryParams: { '00100020': KNOWN_PATIENTS[2]!.id } })
    assert.equal(byTag.length, 1)
    const byModality = await client.searchForStudies({ queryParams: { ModalitiesInStudy: 'US' } })
    assert.equal(byModality.length, 1)
    const page = await client.searchForStudies({ queryParams: { limit: '1', offset: '1' } })
    assert.equal(page.length, 1)
    assert.notEqual(page[0]!['0020000D']!.Value![0], (await client.searchForStudies({ queryParams: { limit: '1' } }))[0]!['0020000D']!.Value![0])

    const series = await client.searchForSeries({ studyInstanceUID: study[0]!.studyInstanceUid })
    assert.equal(series.length, new Set(study.map((i) => i.seriesInstanceUid)).size)
    assert.deepEqual(series.map((s) => s['00200011']!.Value![0]), [...series.keys()].map((k) => k + 1), 'ordered by series number')
    const mr = await client.searchForSeries({ queryParams: { Modality: 'MR', includefield: 'StudyDescription,00080020' } })
    assert.equal(mr.length, 2)
    assert.equal(mr[0]!['00081030']!.Value![0], 'SYNTHETIC MIXED STUDY')
    assert.equal(mr[0]!['00080020']!.Value![0], '20240315')
    const everything = await client.searchForSeries({ queryParams: { includefield: 'all', SeriesNumber: '1' } })
    assert.ok(everything.every((s) => s['00100010'] !== undefined && s['00081030'] !== undefined))

    const ct = study.filter((i) => i.modality === 'CT' && i.transferSyntaxUid === '1.2.840.10008.1.2')
    const instances = await client.searchForInstances({ studyInstanceUID: study[0]!.studyInstanceUid, seriesInstanceUID: ct[0]!.seriesInstanceUid })
    assert.deepEqual(instances.map((i) => i['00080018']!.Value![0]), ct.map((i) => i.sopInstanceUid))
    assert.deepEqual(instances.map((i) => i['00200013']!.Value![0]), ct.map((_, n) => n + 1))
    const inStudy = await client.searchForInstances({ studyInstanceUID: study[0]!.studyInstanceUid, queryParams: { SOPClassUID: ct[0]!.sopClassUid } })
    assert.equal(inStudy.length, study.filter((i) => i.sopClassUid === ct[0]!.sopClassUid).length)
    const everywhere = await client.searchForInstances({ queryParams: { limit: '5' } })
    assert.equal(everywhere.length, 5)

    const bad = await fetch(`${server.root}/studies?StudyDate=yesterday`)
    assert.equal(bad.status, 400)
    assert.match((await bad.json() as { message: string }).message, /StudyDate/)
    for (const q of ['NoSuchKeyword=1', 'limit=-1', 'offset=x', 'includefield=Bogus', 'fuzzymatching=maybe', 'SeriesNumber=abc', 'StudyInstanceUID=1.2.x']) {
      const r = await fetch(`${server.root}/studies?${q}`)
      assert.equal(r.status, 400, q)
      assert.ok(((await r.json()) as { message: string }).message.length > 10)
    }
    assert.equal((await fetch(`${server.root}/studies`, { headers: { Accept: 'image/png' } })).status, 406)
  })

  test('WADO-RS returns every instance byte for byte, at each level', async () => {
    for (const inst of study) {
      const bytes = await client.retrieveInstance({ studyInstanceUID: inst.studyInstanceUid, seriesInstanceUID: inst.seriesInstanceUid, sopInstanceUID: inst.sopInstanceUid })
      assert.ok(same(bytes, inst.bytes), `instance ${inst.relativePath}`)
    }
    const series = study.filter((i) => i.seriesInstanceUid === study[0]!.seriesInstanceUid)
    const parts = await client.retrieveSeries({ studyInstanceUID: study[0]!.studyInstanceUid, seriesInstanceUID: study[0]!.seriesInstanceUid })
    assert.equal(parts.length, series.length)
    for (const inst of series) assert.ok(parts.some((p) => same(p, inst.bytes)))
    const all = await client.retrieveStudy({ studyInstanceUID: study[0]!.studyInstanceUid })
    assert.equal(all.length, study.length)
    for (const inst of study) assert.ok(all.some((p) => same(p, inst.bytes)), inst.relativePath)

    // Transfer syntaxes are sent as stored: asking for another one is refused clearly.
    const rle = byType('1.2.840.10008.1.2.5')
    const url = `${server.root}/studies/${rle.studyInstanceUid}/series/${rle.seriesInstanceUid}/instances/${rle.sopInstanceUid}`
    const refused = await fetch(url, { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1' } })
    assert.equal(refused.status, 406)
    assert.match(((await refused.json()) as { message: string }).message, /does not transcode/)
    const any = await fetch(url, { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } })
    assert.equal(any.status, 200)
    const [part] = splitMultipart(new Uint8Array(await any.arrayBuffer()), any.headers.get('content-type')!)
    assert.ok(same(part!.bytes, rle.bytes))
    assert.match(part!.headers, /transfer-syntax=1\.2\.840\.10008\.1\.2\.5/)
  })

  test('WADO-RS metadata matches the stored files, with bulk data by reference', async () => {
    const meta = await client.retrieveStudyMetadata({ studyInstanceUID: study[0]!.studyInstanceUid })
    assert.equal(meta.length, study.length)
    for (const inst of study) {
      const json = meta.find((m) => m['00080018']!.Value![0] === inst.sopInstanceUid)!
      assert.ok(json, inst.relativePath)
      const original = dcm.data.DicomMessage.readFile(arrayBuffer(inst.bytes), { ignoreErrors: true }).dict
      for (const [tag, element] of Object.entries(original)) {
        if (['OB', 'OW', 'UN', 'OF', 'OD', 'OL', 'OV'].includes(element.vr)) continue
        if (element.vr === 'SQ') { assert.equal(json[tag]!.Value!.length, element.Value!.length, tag); continue }
        assert.deepEqual(json[tag]!.Value ?? [], element.Value ?? [], `${inst.relativePath} ${tag}`)
      }
      assert.equal(json['00083002']!.Value![0], inst.transferSyntaxUid)
      assert.match(json['7FE00010']!.BulkDataURI!, /\/instances\/[\d.]+\/bulkdata\/7FE00010$/)
      assert.equal(json['7FE00010']!.Value, undefined)
    }
    const seriesMeta = await client.retrieveSeriesMetadata({ studyInstanceUID: study[0]!.studyInstanceUid, seriesInstanceUID: study[0]!.seriesInstanceUid })
    assert.equal(seriesMeta.length, study.filter((i) => i.seriesInstanceUid === study[0]!.seriesInstanceUid).length)
    const ct = study[0]!
    const [one] = await client.retrieveInstanceMetadata({ studyInstanceUID: ct.studyInstanceUid, seriesInstanceUID: ct.seriesInstanceUid, sopInstanceUID: ct.sopInstanceUid })
    assert.equal(one!['00100010']!.Value![0].Alphabetic, KNOWN_PATIENTS[0]!.name)
    // The BulkDataURI answers with the pixel data.
    const original = dcm.data.DicomMessage.readFile(arrayBuffer(ct.bytes)).dict
    const bulk = await client.retrieveBulkData({ BulkDataURI: one!['7FE00010']!.BulkDataURI })
    assert.ok(same(bulk[0]!, new Uint8Array(original['7FE00010']!.Value![0])))
  })

  test('WADO-RS frames are cut from Pixel Data; compressed ones come as stored or not at all', async () => {
    const ids = (i: SyntheticInstance): object => ({ studyInstanceUID: i.studyInstanceUid, seriesInstanceUID: i.seriesInstanceUid, sopInstanceUID: i.sopInstanceUid })
    const pixels = (i: SyntheticInstance): Uint8Array => new Uint8Array(dcm.data.DicomMessage.readFile(arrayBuffer(i.bytes)).dict['7FE00010']!.Value![0])
    const cine = study.find((i) => i.numberOfFrames > 1)!
    const all = pixels(cine)
    const size = all.length / cine.numberOfFrames
    const frames = await client.retrieveInstanceFrames({ ...ids(cine), frameNumbers: [2, 5] })
    assert.equal(frames.length, 2)
    assert.ok(same(frames[0]!, all.subarray(size, 2 * size)))
    assert.ok(same(frames[1]!, all.subarray(4 * size, 5 * size)))
    const ct = byType('1.2.840.10008.1.2')
    const [ctFrame] = await client.retrieveInstanceFrames({ ...ids(ct), frameNumbers: [1] })
    assert.ok(same(ctFrame!, pixels(ct)))
    // Big endian is sent as little endian, as octet-stream frames are.
    const be = byType('1.2.840.10008.1.2.2')
    const [beFrame] = await client.retrieveInstanceFrames({ ...ids(be), frameNumbers: [1] })
    assert.ok(same(beFrame!, Buffer.from(pixels(be)).swap16()))
    const rle = byType('1.2.840.10008.1.2.5')
    await assert.rejects(client.retrieveInstanceFrames({ ...ids(rle), frameNumbers: [1] }), (e: { status: number }) => e.status === 406)
    const [rleFrame] = await client.retrieveInstanceFrames({ ...ids(rle), frameNumbers: [1], mediaTypes: [{ mediaType: 'image/x-dicom-rle', transferSyntaxUID: '1.2.840.10008.1.2.5' }] })
    assert.ok(same(rleFrame!, pixels(rle)))
    const past = await fetch(`${server.root}/studies/${cine.studyInstanceUid}/series/${cine.seriesInstanceUid}/instances/${cine.sopInstanceUid}/frames/13`)
    assert.equal(past.status, 404)
    const zero = await fetch(`${server.root}/studies/${cine.studyInstanceUid}/series/${cine.seriesInstanceUid}/instances/${cine.sopInstanceUid}/frames/0`)
    assert.equal(zero.status, 400)
  })

  test('rendered and thumbnail images are PNG or JPEG, compressed pixel data decoded', async () => {
    const ids = (i: SyntheticInstance): object => ({ studyInstanceUID: i.studyInstanceUid, seriesInstanceUID: i.seriesInstanceUid, sopInstanceUID: i.sopInstanceUid })
    const png = { mediaTypes: [{ mediaType: 'image/png' }] }
    const ct = byType('1.2.840.10008.1.2')
    const image = await client.retrieveInstanceRendered({ ...ids(ct), ...png })
    assert.deepEqual(pngSize(image), { width: 64, height: 64, colour: 0 })
    const rows = pngRows(image)
    assert.equal(rows.length, 65 * 64)
    const rgb = study.find((i) => i.modality === 'OT' && i.transferSyntaxUid === '1.2.840.10008.1.2.1')!
    assert.deepEqual(pngSize(await client.retrieveInstanceRendered({ ...ids(rgb), ...png })), { width: 64, height: 64, colour: 2 })
    const cine = study.find((i) => i.numberOfFrames > 1)!
    assert.deepEqual(pngSize(await client.retrieveInstanceFramesRendered({ ...ids(cine), frameNumbers: [3], ...png })), { width: 80, height: 64, colour: 0 })
    const thumb = await client.retrieveInstanceThumbnail({ ...ids(ct), ...png, queryParams: { viewport: '32,32' } })
    assert.deepEqual(pngSize(thumb), { width: 32, height: 32, colour: 0 })
    // A window that takes everything below its centre to black changes the picture.
    const windowed = await client.retrieveInstanceRendered({ ...ids(ct), ...png, queryParams: { window: '-2000,10' } })
    assert.ok(pngRows(windowed).every((v, i) => i % 65 === 0 || v === 255))
    const rle = byType('1.2.840.10008.1.2.5')
    // RLE is decoded server side (test/integration/dicomweb/rendered-codecs.test.ts covers every codec).
    const decoded = await client.retrieveInstanceRendered({ ...ids(rle), ...png })
    assert.deepEqual(pngSize(decoded), { width: 64, height: 64, colour: 0 })
    // Without an Accept header the standard's default, image/jpeg, comes back.
    const jpeg = await fetch(`${server.root}/studies/${ct.studyInstanceUid}/series/${ct.seriesInstanceUid}/instances/${ct.sopInstanceUid}/rendered`)
    assert.equal(jpeg.status, 200)
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg')
    assert.deepEqual([...new Uint8Array(await jpeg.arrayBuffer()).subarray(0, 2)], [0xff, 0xd8])
  })

  test('WADO-URI returns the file, a JPEG or a PNG, and checks its parameters', async () => {
    const ct = byType('1.2.840.10008.1.2')
    const q = `requestType=WADO&studyUID=${ct.studyInstanceUid}&seriesUID=${ct.seriesInstanceUid}&objectUID=${ct.sopInstanceUid}`
    const file = await fetch(`${server.url}/wado?${q}&contentType=application/dicom`)
    assert.equal(file.status, 200)
    assert.equal(file.headers.get('content-type'), 'application/dicom')
    assert.ok(same(await file.arrayBuffer(), ct.bytes))
    const image = await fetch(`${server.url}/wado?${q}&contentType=image/png&windowCenter=40&windowWidth=400`)
    assert.equal(image.status, 200)
    pngSize(await image.arrayBuffer())
    const jpeg = await fetch(`${server.url}/wado?${q}`)
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg')
    for (const bad of ['', q.replace('requestType=WADO', 'requestType=X'), q.replace(/objectUID=[\d.]+/, ''), q.replace(/studyUID=[\d.]+/, 'studyUID=../../etc'), `${q}&contentType=image/gif`]) {
      const r = await fetch(`${server.url}/wado?${bad}`)
      assert.ok(r.status === 400 || r.status === 406, `${bad}: ${r.status}`)
      assert.equal(r.headers.get('content-type'), 'application/json')
    }
    const unknown = await fetch(`${server.url}/wado?${q.replace(ct.sopInstanceUid, '1.2.3.4')}&contentType=application/dicom`)
    assert.equal(unknown.status, 404)
  })

  test('unknown resources are 404 with a JSON body', async () => {
    const s = study[0]!
    for (const path of [`/studies/1.2.3`, `/studies/1.2.3/metadata`, `/studies/${s.studyInstanceUid}/series/1.2.3`, `/studies/${s.studyInstanceUid}/series/${s.seriesInstanceUid}/instances/1.2.3`,
      `/studies/${other[0]!.studyInstanceUid}/series/${s.seriesInstanceUid}/instances/${s.sopInstanceUid}`, `/studies/${s.studyInstanceUid}/series/${s.seriesInstanceUid}/instances/${s.sopInstanceUid}/bulkdata/00291010`, '/nothing']) {
      const r = await fetch(server.root + path)
      assert.equal(r.status, 404, path)
      assert.equal(((await r.json()) as { error: string }).error, 'not-found')
    }
  })

  test('the logs carry no patient names, IDs or UIDs', () => {
    const text = server.logs.join('')
    assert.ok(text.length > 0)
    for (const p of [KNOWN_PATIENTS[0]!, KNOWN_PATIENTS[2]!]) {
      assert.ok(!text.includes(p.name.split('^')[0]!), 'no patient name')
      assert.ok(!text.includes(p.id), 'no patient id')
    }
    for (const i of [...study, ...other]) {
      assert.ok(!text.includes(i.sopInstanceUid) && !text.includes(i.studyInstanceUid) && !text.includes(i.seriesInstanceUid), 'no UID')
    }
  })
})
