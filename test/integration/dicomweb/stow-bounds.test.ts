/**
 * What one STOW-RS request may cost, and which multipart boundaries it may use (issue 12 items 5
 * and 11). A body of thousands of tiny parts is cut at MAX_STOW_PARTS with a 413 that says so,
 * the response lists the first MAX_LISTED_FAILURES failures and counts the rest, and the log holds
 * one line per request, not one per part. Boundaries longer than RFC 2046's 70 characters, as
 * Orthanc's DICOMweb plugin sends them (two UUIDs joined by "-": 73), quoted ones and ones with
 * RFC 2046's special characters are read; one past MAX_BOUNDARY is a 400 that names the limit.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { MAX_STOW_PARTS, MAX_LISTED_FAILURES } from '../../../node/dicomweb/stow.ts'
import { MAX_BOUNDARY } from '../../../node/dicomweb/multipart.ts'
import { multipartBody, startDicomweb } from '../../helpers/dicomweb-server.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

type Json = Record<string, { vr: string, Value?: any[] }>

function tinyParts (count: number, boundary: string): Buffer {
  const one = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\nX\r\n`)
  return Buffer.concat([...Array.from({ length: count }, () => one), Buffer.from(`--${boundary}--\r\n`)])
}

describe('STOW-RS bounds', () => {
  test(`a body of more than ${MAX_STOW_PARTS} tiny parts is cut there with a 413, one log line, and the node keeps serving`, async (t) => {
    const server = await startDicomweb(t)
    const boundary = 'tiny-parts'
    const body = tinyParts(MAX_STOW_PARTS + 2000, boundary)
    const before = server.logs.length
    const response = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` }, body })
    const answer = await response.json() as { error: string, message: string }
    assert.equal(response.status, 413, JSON.stringify(answer).slice(0, 300))
    assert.equal(answer.error, 'too-many-parts')
    assert.match(answer.message, new RegExp(`more than ${MAX_STOW_PARTS} parts`))
    const lines = server.logs.slice(before).filter((l) => l.includes('stow'))
    assert.equal(lines.length, 1, `one log line for the request, got ${lines.length}: ${lines.slice(0, 3).join('\n')}`)
    assert.match(lines[0]!, /too-many-parts/)
    const ok = await fetch(`${server.root}/studies`, { headers: { accept: 'application/dicom+json' } })
    assert.equal(ok.status, 200)
    await ok.arrayBuffer()
  })

  test(`failed parts: the first ${MAX_LISTED_FAILURES} are listed, the rest counted in one item; the good part is stored`, async (t) => {
    const server = await startDicomweb(t)
    const boundary = 'mixed-parts'
    const good = syntheticStudy({ seed: 511, profile: 'ct', slices: 1 })[0]!
    const bad = Array.from({ length: 500 }, (_, i) => Buffer.from(`not dicom ${i}`))
    const { body, contentType } = multipartBody([...bad.slice(0, 250), good.bytes, ...bad.slice(250)], boundary)
    const before = server.logs.length
    const response = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'content-type': contentType }, body })
    const answer = await response.json() as Json
    assert.equal(response.status, 202)
    assert.equal(answer['00081199']?.Value?.length, 1, 'the good instance is stored')
    assert.equal(answer['00081199']!.Value![0]['00081155'].Value[0], good.sopInstanceUid)
    const failed = answer['00081198']!.Value!
    assert.equal(failed.length, MAX_LISTED_FAILURES + 1)
    const summary = String(failed.at(-1)['00000902'].Value[0])
    assert.match(summary, new RegExp(`^${500 - MAX_LISTED_FAILURES} further part\\(s\\) failed .*500 failures in all`))
    assert.match(response.headers.get('warning') ?? '', /500 parts failed; the first 100 are listed/)
    const lines = server.logs.slice(before).filter((l) => l.includes('stow'))
    assert.equal(lines.length, 1, `one log line for the request: ${lines.slice(0, 3).join('\n')}`)
    assert.match(lines[0]!, /"failed":500/)
    assert.ok(await server.pacs.findInstance(good.sopInstanceUid) !== undefined)
  })

  test('an Orthanc-style request (73-character boundary, unquoted type, Content-Length parts, no final CRLF) is stored', async (t) => {
    const server = await startDicomweb(t)
    const instances = syntheticStudy({ seed: 1101, profile: 'ct', slices: 2 })
    // Orthanc's DICOMweb plugin: boundary = GenerateUuid() + "-" + GenerateUuid().
    const boundary = `${randomUUID()}-${randomUUID()}`
    assert.equal(boundary.length, 73)
    const chunks: Buffer[] = []
    for (const i of instances) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${i.bytes.length}\r\n\r\n`), Buffer.from(i.bytes), Buffer.from('\r\n'))
    }
    chunks.push(Buffer.from(`--${boundary}--`))
    const response = await fetch(`${server.root}/studies`, {
      method: 'POST',
      headers: { 'content-type': `multipart/related; type=application/dicom; boundary=${boundary}`, accept: 'application/dicom+json' },
      body: Buffer.concat(chunks)
    })
    const answer = await response.json() as Json
    assert.equal(response.status, 200, JSON.stringify(answer).slice(0, 400))
    assert.equal(answer['00081199']?.Value?.length, instances.length)
    for (const i of instances) assert.ok(await server.pacs.findInstance(i.sopInstanceUid) !== undefined)
  })

  test(`quoted boundaries with RFC 2046 special characters, up to ${MAX_BOUNDARY}, are read; longer is a 400 that names the limit`, async (t) => {
    const server = await startDicomweb(t)
    const instances = syntheticStudy({ seed: 1102, profile: 'ct', slices: 3 })
    const special = "'()+_,-./:=? "
    const boundaries = [
      `${special}${'b'.repeat(MAX_BOUNDARY - special.length)}`,
      'a',
      `=_Part_${'7'.repeat(90)}`
    ]
    for (const [n, boundary] of boundaries.entries()) {
      const { body } = multipartBody([instances[n]!.bytes], boundary)
      const response = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary="${boundary}"` }, body })
      const text = await response.text()
      assert.equal(response.status, 200, `boundary of ${boundary.length}: ${text.slice(0, 300)}`)
    }
    const long = 'x'.repeat(MAX_BOUNDARY + 1)
    const { body } = multipartBody([instances[0]!.bytes], long)
    const response = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${long}` }, body })
    const answer = await response.json() as { error: string, message: string }
    assert.equal(response.status, 400)
    assert.match(answer.message, new RegExp(`boundary is ${MAX_BOUNDARY + 1} characters long; peerpacs accepts up to ${MAX_BOUNDARY}`))
  })
})
