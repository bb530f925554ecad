/**
 * The STOW-RS size limit: a declared Content-Length over it is refused before the body is read;
 * a chunked body that keeps coming is read only to the limit, then refused, with the instances
 * completed before it stored and reported. The client counts what the server let it send, which
 * proves the server stopped reading (a server that buffered would take it all).
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, test } from 'node:test'
import { multipartBody, startDicomweb } from '../../helpers/dicomweb-server.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

const LIMIT = 2 << 20

describe('STOW-RS size limit', () => {
  const [small] = syntheticStudy({ seed: 61, profile: 'ct', slices: 1 })

  test('a Content-Length over the limit is refused with 413 and nothing stored', async (t) => {
    const server = await startDicomweb(t, { maxStowBytes: LIMIT })
    const { body, contentType } = multipartBody([small!.bytes, new Uint8Array(LIMIT)])
    const r = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body })
    assert.equal(r.status, 413)
    assert.match(((await r.json()) as { message: string }).message, /larger than this node accepts/)
    assert.equal(server.pacs.instanceCount, 0)
  })

  test('an endless chunked body is read to the limit only, then refused; what came before is stored', async (t) => {
    const server = await startDicomweb(t, { maxStowBytes: LIMIT })
    const url = new URL(server.root)
    const boundary = 'endless-boundary'
    const head = multipartBody([small!.bytes], boundary).body
    // The first part whole, then a second part that never ends.
    const start = Buffer.concat([head.subarray(0, head.length - `--${boundary}--\r\n`.length), Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), small!.bytes.subarray(0, 1000)])
    const chunk = Buffer.alloc(64 * 1024, 0x5a)
    const cap = 1 << 30
    let sent = 0
    let peak = 0
    const baseline = process.memoryUsage().arrayBuffers
    const outcome = await new Promise<{ status?: number, body: string, error?: string }>((resolve) => {
      let settled = false
      const done = (o: { status?: number, body: string, error?: string }): void => { if (!settled) { settled = true; resolve(o) } }
      const req = request({
        host: url.hostname, port: url.port, path: '/dicomweb/studies', method: 'POST',
        headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'Transfer-Encoding': 'chunked' }
      }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => { done({ status: res.statusCode!, body }) })
          .on('error', () => { done({ status: res.statusCode!, body }) })
      })
      req.on('error', (e) => { setTimeout(() => { done({ body: '', error: e.message }) }, 200) })
      let stopped = false
      req.on('close', () => { stopped = true })
      const pump = (): void => {
        while (!stopped && sent < cap) {
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline)
          sent += chunk.length
          if (!req.write(chunk)) { req.once('drain', pump); return }
        }
        if (!stopped) req.end()
      }
      req.write(start)
      sent += start.length
      pump()
    })
    assert.ok(sent < 64 << 20, `the server stopped reading early: ${sent} bytes were sent`)
    assert.ok(peak < 256 << 20, `memory stayed bounded: ${peak} bytes of buffers at most`)
    if (outcome.status !== undefined) {
      assert.equal(outcome.status, 413)
      const json = JSON.parse(outcome.body) as { stored: Record<string, { Value: unknown[] }> }
      assert.equal(json.stored['00081199']!.Value.length, 1)
    }
    // The part completed before the limit is stored; the endless one left nothing behind.
    assert.ok(await server.pacs.findInstance(small!.sopInstanceUid), 'the first part is stored')
    assert.equal(server.pacs.instanceCount, 1)
    // And the server still answers.
    const again = await fetch(`${server.root}/studies`)
    assert.equal(again.status, 200)
    assert.ok(server.logs.some((l) => l.includes('"stow.refused"') && l.includes('too-large')))
  })
})
