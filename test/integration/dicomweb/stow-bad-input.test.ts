/**
 * STOW-RS and every other DICOMweb route meeting bad input: broken parts fail one by one with a
 * reason while good parts of the same request are stored; malformed bodies and wrong content
 * types are refused as a whole; an instance of another study is refused for /studies/{study};
 * path traversal and malformed UIDs in any parameter are 400 or 404, with a JSON body.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, test } from 'node:test'
import { multipartBody, startDicomweb } from '../../helpers/dicomweb-server.ts'
import { writePart10 } from '../../synthetic/part10-writer.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

type Item = Record<string, { vr: string, Value?: unknown[] }>
type StowJson = Record<string, { vr: string, Value?: Item[] }>

async function stow (url: string, parts: Parameters<typeof multipartBody>[0]): Promise<{ status: number, json: StowJson }> {
  const { body, contentType } = multipartBody(parts)
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType, Accept: 'application/dicom+json' }, body })
  return { status: r.status, json: await r.json() as StowJson }
}

function failures (json: StowJson): Array<{ reason: number, comment: string, sop?: string }> {
  return (json['00081198']?.Value ?? []).map((i) => ({
    reason: i['00081197']!.Value![0] as number,
    comment: i['00000902']!.Value![0] as string,
    ...(i['00081155'] === undefined ? {} : { sop: i['00081155'].Value![0] as string })
  }))
}

function stored (json: StowJson): string[] {
  return (json['00081199']?.Value ?? []).map((i) => i['00081155']!.Value![0] as string)
}

/** The same file with the length of PatientName (explicit VR LE) made to overrun the file. */
function wrongLength (file: Uint8Array): Uint8Array {
  const out = Uint8Array.from(file)
  const at = Buffer.from(out).indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e]))
  assert.ok(at > 0, 'PatientName in an explicit VR file')
  out[at + 6] = 0xf0
  out[at + 7] = 0xff
  return out
}

/** No SOP Instance UID in the dataset, nor in the file meta (whose would stand in, as dcmtk's). */
function missingSopInstanceUid (): Uint8Array {
  return writePart10({
    sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    sopInstanceUid: '',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    elements: [
      { tag: 0x0008_0016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
      { tag: 0x0010_0010, vr: 'PN', value: 'ZZNOUID^PATIENT' },
      { tag: 0x0020_000d, vr: 'UI', value: '1.2.3.4.5.6.7.8.10' },
      { tag: 0x0020_000e, vr: 'UI', value: '1.2.3.4.5.6.7.8.11' }
    ]
  })
}

/** A raw GET whose path is sent exactly as written (fetch would normalise "..", "%2e%2e"). */
function rawGet (base: string, path: string): Promise<{ status: number, type: string | undefined, body: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = ''
      res.setEncoding('latin1').on('data', (d: string) => { body += d }).on('end', () => { resolve({ status: res.statusCode!, type: res.headers['content-type'], body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('STOW-RS with bad parts', () => {
  const study = syntheticStudy({ seed: 51 })
  const explicit = study.filter((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.1')
  const [good1, good2, bent] = [study[0]!, study[1]!, explicit[0]!]

  test('broken parts fail one by one with a reason; the good ones are stored', async (t) => {
    const server = await startDicomweb(t)
    const garbage = new Uint8Array(5000).map((_, i) => (i * 7919) % 251)
    const { status, json } = await stow(`${server.root}/studies`, [
      good1.bytes,
      good1.bytes.subarray(0, Math.floor(good1.bytes.length * 0.7)),
      wrongLength(bent.bytes),
      missingSopInstanceUid(),
      garbage,
      ['application/json', Buffer.from('{"not":"dicom"}')],
      good2.bytes
    ])
    assert.equal(status, 202)
    assert.deepEqual(stored(json).sort(), [good1.sopInstanceUid, good2.sopInstanceUid].sort())
    const failed = failures(json)
    assert.equal(failed.length, 5)
    for (const f of failed) {
      assert.ok(f.reason === 0xc000 || f.reason === 0x0110, `reason ${f.reason.toString(16)}`)
      assert.match(f.comment, /^part \d+: .{10,}/)
    }
    assert.match(failed[2]!.comment, /SOPInstanceUID/)
    assert.match(failed[3]!.comment, /DICM/)
    assert.match(failed[4]!.comment, /application\/json/)
    // The truncated copy of good1 names its SOP Instance UID, learnt from its header.
    assert.equal(failed[0]!.sop, good1.sopInstanceUid)
    assert.equal(server.pacs.instanceCount, 2)
  })

  test('a body arriving in pieces of a few bytes (delimiters split anywhere) is read the same', async (t) => {
    const server = await startDicomweb(t)
    const { body, contentType } = multipartBody([good1.bytes, good2.bytes, bent.bytes])
    let at = 0
    let n = 0
    const stream = new ReadableStream<Uint8Array>({
      pull (controller) {
        if (at >= body.length) { controller.close(); return }
        const size = 1 + (n++ * 7) % 13
        controller.enqueue(body.slice(at, at + size))
        at += size
      }
    })
    const r = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body: stream, duplex: 'half' } as RequestInit)
    assert.equal(r.status, 200)
    assert.equal(stored(await r.json() as StowJson).length, 3)
    for (const i of [good1, good2, bent]) {
      const back = await fetch(`${server.url}/wado?requestType=WADO&studyUID=${i.studyInstanceUid}&seriesUID=${i.seriesInstanceUid}&objectUID=${i.sopInstanceUid}&contentType=application/dicom`)
      assert.ok(Buffer.from(await back.arrayBuffer()).equals(Buffer.from(i.bytes)))
    }
  })

  test('a request in which every part fails is 409; nothing is stored', async (t) => {
    const server = await startDicomweb(t)
    const { status, json } = await stow(`${server.root}/studies`, [good1.bytes.subarray(0, 400), new Uint8Array(100)])
    assert.equal(status, 409)
    assert.equal(failures(json).length, 2)
    assert.equal(server.pacs.instanceCount, 0)
  })

  test('a conflicting copy of a stored instance fails and the stored one is kept', async (t) => {
    const server = await startDicomweb(t)
    assert.equal((await stow(`${server.root}/studies`, [bent.bytes])).status, 200)
    const changed = Uint8Array.from(bent.bytes)
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff
    const { status, json } = await stow(`${server.root}/studies`, [changed])
    assert.equal(status, 409)
    assert.equal(failures(json)[0]!.reason, 0x0111)
    const back = await fetch(`${server.root}/studies/${bent.studyInstanceUid}/series/${bent.seriesInstanceUid}/instances/${bent.sopInstanceUid}`)
    assert.ok(Buffer.from(await back.arrayBuffer()).includes(Buffer.from(bent.bytes)))
  })

  test('/studies/{study} refuses instances of another study and stores the rest', async (t) => {
    const server = await startDicomweb(t)
    const other = syntheticStudy({ seed: 52, profile: 'ct', slices: 1 })[0]!
    const { status, json } = await stow(`${server.root}/studies/${good1.studyInstanceUid}`, [good1.bytes, other.bytes])
    assert.equal(status, 202)
    assert.deepEqual(stored(json), [good1.sopInstanceUid])
    const [f] = failures(json)
    assert.equal(f!.sop, other.sopInstanceUid)
    assert.match(f!.comment, /another study/)
    assert.equal(await server.pacs.findInstance(other.sopInstanceUid), undefined)
    assert.match(String(json['00081190']!.Value![0]), new RegExp(`/studies/${good1.studyInstanceUid.replace(/\./g, '\\.')}$`))
  })

  test('bodies and content types that are not multipart/related application/dicom are refused whole', async (t) => {
    const server = await startDicomweb(t)
    const post = async (contentType: string | undefined, body: Uint8Array | string): Promise<{ status: number, message: string }> => {
      const r = await fetch(`${server.root}/studies`, { method: 'POST', headers: contentType === undefined ? {} : { 'Content-Type': contentType }, body })
      return { status: r.status, message: ((await r.json()) as { message: string }).message }
    }
    assert.equal((await post('application/dicom', good1.bytes)).status, 415)
    assert.equal((await post('multipart/related; type="application/dicom+json"; boundary=x', '--x--')).status, 415)
    assert.equal((await post(undefined, 'x')).status, 415)
    const noBoundary = await post('multipart/related; type="application/dicom"', good1.bytes)
    assert.equal(noBoundary.status, 400)
    assert.match(noBoundary.message, /boundary/)
    const noDelimiter = await post('multipart/related; type="application/dicom"; boundary=abc', good1.bytes)
    assert.equal(noDelimiter.status, 400)
    assert.match(noDelimiter.message, /delimiter/)
    const empty = await post('multipart/related; type="application/dicom"; boundary=abc', '--abc--\r\n')
    assert.equal(empty.status, 400)
    // A body cut inside its last part: the part fails, the ones before it are stored.
    const { body, contentType } = multipartBody([good1.bytes, good2.bytes])
    const cut = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body: body.subarray(0, body.length - 200) })
    assert.equal(cut.status, 202)
    const json = await cut.json() as StowJson
    assert.deepEqual(stored(json), [good1.sopInstanceUid])
    assert.match(failures(json)[0]!.comment, /ends inside a part/)
    assert.equal(await server.pacs.findInstance(good2.sopInstanceUid), undefined)
  })

  test('path traversal and malformed UIDs in any parameter are 400 or 404 with a JSON body', async (t) => {
    const server = await startDicomweb(t)
    assert.equal((await stow(`${server.root}/studies`, [good1.bytes])).status, 200)
    const s = good1.studyInstanceUid
    const se = good1.seriesInstanceUid
    const i = good1.sopInstanceUid
    const bad = ['..', '%2e%2e', '%2E%2E', '..%2F..%2Fetc%2Fpasswd', '1.2.3%2F..', '1.2.3%00', '%00', '1.2.3%5C..', 'abc', '1.2.-3', '9'.repeat(65), '1.2.3%20', '~', '%252e%252e']
    const templates = [
      (x: string) => `/dicomweb/studies/${x}`,
      (x: string) => `/dicomweb/studies/${x}/metadata`,
      (x: string) => `/dicomweb/studies/${x}/series`,
      (x: string) => `/dicomweb/studies/${x}/instances`,
      (x: string) => `/dicomweb/studies/${s}/series/${x}`,
      (x: string) => `/dicomweb/studies/${s}/series/${x}/instances`,
      (x: string) => `/dicomweb/studies/${s}/series/${se}/instances/${x}`,
      (x: string) => `/dicomweb/studies/${s}/series/${se}/instances/${x}/rendered`,
      (x: string) => `/dicomweb/studies/${s}/series/${se}/instances/${i}/frames/${x}`,
      (x: string) => `/dicomweb/studies/${s}/series/${se}/instances/${i}/frames/${x}/rendered`,
      (x: string) => `/dicomweb/studies/${s}/series/${se}/instances/${i}/bulkdata/${x}`,
      (x: string) => `/dicomweb/studies?StudyInstanceUID=${x}`,
      (x: string) => `/dicomweb/series?SeriesInstanceUID=${x}`,
      (x: string) => `/wado?requestType=WADO&studyUID=${x}&seriesUID=${se}&objectUID=${i}&contentType=application/dicom`,
      (x: string) => `/wado?requestType=WADO&studyUID=${s}&seriesUID=${x}&objectUID=${i}&contentType=application/dicom`,
      (x: string) => `/wado?requestType=WADO&studyUID=${s}&seriesUID=${se}&objectUID=${x}&contentType=application/dicom`
    ]
    for (const template of templates) {
      for (const x of bad) {
        const path = template(x)
        const r = await rawGet(server.url, path)
        assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status} ${r.body.slice(0, 200)}`)
        assert.equal(r.type, 'application/json', path)
        assert.ok(!r.body.includes('root:'), path)
      }
    }
    // Literal traversal segments and slashes, unencoded.
    for (const path of [`/dicomweb/studies/../../../../etc/passwd`, `/dicomweb/studies/${s}/series/${se}/instances/${i}/../../../../x`, '/dicomweb/studies/./..', '/wado/../etc']) {
      const r = await rawGet(server.url, path)
      assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`)
    }
    // The server is still answering, and the instance is untouched.
    const ok = await rawGet(server.url, `/dicomweb/studies/${s}/series/${se}/instances/${i}/metadata`)
    assert.equal(ok.status, 200)
  })
})
