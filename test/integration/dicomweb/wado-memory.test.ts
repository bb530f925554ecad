/**
 * Issue 12 item 4: WADO-RS answers stream, so what one authenticated client asks for cannot grow
 * the node with the response. A real `peerpacs start` process holds a ~100 MB multi-frame
 * instance; its peak resident memory (VmHWM, reset through /proc/PID/clear_refs before each
 * request) is measured while the study, all its frames and its Pixel Data bulk data are
 * retrieved and read by the client as they come. A frame list that names a frame twice is refused with 400 before anything is
 * built, as is one of more than MAX_FRAMES frames. Figures are printed.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { MAX_FRAMES } from '../../../node/dicomweb/instance-data.ts'
import { runCli, show } from '../../helpers/cli.ts'
import { splitMultipart } from '../../helpers/dicomweb-server.ts'
import { tempDir } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'
import { writePart10, type DicomElement } from '../../synthetic/part10-writer.ts'

const ROWS = 512
const COLUMNS = 512
const FRAMES = 200
const FRAME_BYTES = ROWS * COLUMNS * 2
const MB = 1024 * 1024

function multiFrame (): { bytes: Uint8Array, study: string, series: string, sop: string } {
  const study = '2.25.4120000000000000000000000001'
  const series = '2.25.4120000000000000000000000002'
  const sop = '2.25.4120000000000000000000000003'
  const sopClass = '1.2.840.10008.5.1.4.1.1.3.1'
  const pixels = new Uint8Array(FRAME_BYTES * FRAMES)
  for (let f = 0; f < FRAMES; f++) pixels.fill(f & 0xff, f * FRAME_BYTES, f * FRAME_BYTES + 64)
  const elements: DicomElement[] = [
    { tag: 0x0008_0016, vr: 'UI', value: sopClass },
    { tag: 0x0008_0018, vr: 'UI', value: sop },
    { tag: 0x0008_0020, vr: 'DA', value: '20240101' },
    { tag: 0x0008_0060, vr: 'CS', value: 'US' },
    { tag: 0x0010_0010, vr: 'PN', value: 'ZZMEMORY^TEST' },
    { tag: 0x0010_0020, vr: 'LO', value: 'MEM412' },
    { tag: 0x0020_000d, vr: 'UI', value: study },
    { tag: 0x0020_000e, vr: 'UI', value: series },
    { tag: 0x0020_0013, vr: 'IS', value: '1' },
    { tag: 0x0028_0002, vr: 'US', value: [1] },
    { tag: 0x0028_0004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x0028_0008, vr: 'IS', value: String(FRAMES) },
    { tag: 0x0028_0010, vr: 'US', value: [ROWS] },
    { tag: 0x0028_0011, vr: 'US', value: [COLUMNS] },
    { tag: 0x0028_0100, vr: 'US', value: [16] },
    { tag: 0x0028_0101, vr: 'US', value: [16] },
    { tag: 0x0028_0102, vr: 'US', value: [15] },
    { tag: 0x0028_0103, vr: 'US', value: [0] },
    { tag: 0x7fe0_0010, vr: 'OW', value: pixels }
  ]
  return { bytes: writePart10({ sopClassUid: sopClass, sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1', elements }), study, series, sop }
}

async function status (pid: number): Promise<{ rss: number, hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? Number.NaN) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** Peak RSS growth of `pid` while `work` runs: VmHWM is reset to the current RSS first. */
async function peakGrowth (pid: number, work: () => Promise<number>): Promise<{ growth: number, bytes: number }> {
  await writeFile(`/proc/${pid}/clear_refs`, '5')
  const before = await status(pid)
  const bytes = await work()
  const after = await status(pid)
  return { growth: after.hwm - before.rss, bytes }
}

/** Reads a response as it comes, keeping nothing but the count. */
async function drain (response: Response): Promise<number> {
  let n = 0
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) n += chunk.length
  return n
}

const canMeasure = await writeFile(`/proc/${process.pid}/clear_refs`, '5').then(() => true, () => false)

describe('WADO-RS memory stays bounded', { skip: canMeasure ? false : 'no /proc/PID/clear_refs to reset peak RSS on this system' }, () => {
  test('a ~100 MB study and all its frames stream with bounded growth; repeated or too many frames are a 400', async (t) => {
    const root = await tempDir(t, 'peerpacs-wado-memory-')
    const data = join(root, 'data')
    const init = await runCli(['init', '--data', data])
    assert.equal(init.code, 0, show(init))
    const node = await startNode(t, data)
    const created = await runCli(['token', 'create', '--name', 'memory-test', '--data', data, '--json'])
    assert.equal(created.code, 0, show(created))
    const auth = { authorization: `Bearer ${created.records[0]!.token as string}` }
    const instance = multiFrame()
    const boundary = 'memory-test-boundary'
    const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), instance.bytes, Buffer.from(`\r\n--${boundary}--\r\n`)])
    const stow = await fetch(`${node.url}/dicomweb/studies`, { method: 'POST', headers: { ...auth, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` }, body })
    assert.equal(stow.status, 200, await stow.text())
    const base = `${node.url}/dicomweb/studies/${instance.study}/series/${instance.series}/instances/${instance.sop}`

    // The review's request: frame 1 named a thousand times. Refused before anything is built.
    const repeated = await fetch(`${base}/frames/${Array.from({ length: 1000 }, () => '1').join(',')}`, { headers: auth })
    const refusal = await repeated.json() as { message: string }
    assert.equal(repeated.status, 400)
    assert.match(refusal.message, /frame 1 is named more than once/)
    const tooMany = await fetch(`${base}/frames/${Array.from({ length: MAX_FRAMES + 1 }, (_, i) => String(i + 1)).join(',')}`, { headers: auth })
    assert.equal(tooMany.status, 400)
    assert.match((await tooMany.json() as { message: string }).message, new RegExp(`at most ${MAX_FRAMES}`))

    const size = instance.bytes.length
    const study = await peakGrowth(node.pid, async () => {
      const r = await fetch(`${node.url}/dicomweb/studies/${instance.study}`, { headers: { ...auth, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } })
      assert.equal(r.status, 200)
      return await drain(r)
    })
    const all = Array.from({ length: FRAMES }, (_, i) => String(i + 1)).join(',')
    const frames = await peakGrowth(node.pid, async () => {
      const r = await fetch(`${base}/frames/${all}`, { headers: { ...auth, accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' } })
      assert.equal(r.status, 200)
      return await drain(r)
    })
    const bulk = await peakGrowth(node.pid, async () => {
      const r = await fetch(`${base}/bulkdata/7FE00010`, { headers: auth })
      assert.equal(r.status, 200)
      return await drain(r)
    })
    console.log(`instance ${(size / MB).toFixed(1)} MB; study retrieve: ${(study.bytes / MB).toFixed(1)} MB sent, node peak RSS +${(study.growth / MB).toFixed(1)} MB; ` +
      `all ${FRAMES} frames: ${(frames.bytes / MB).toFixed(1)} MB sent, node peak RSS +${(frames.growth / MB).toFixed(1)} MB; ` +
      `Pixel Data bulk data: ${(bulk.bytes / MB).toFixed(1)} MB sent, node peak RSS +${(bulk.growth / MB).toFixed(1)} MB`)
    assert.ok(study.bytes > size, 'the whole study was sent')
    assert.ok(frames.bytes > FRAMES * FRAME_BYTES, 'every frame was sent')
    // Streamed from the blob store: the node never holds the response.
    assert.ok(study.growth < study.bytes / 2, `study retrieve grew the node by ${(study.growth / MB).toFixed(1)} MB for a ${(study.bytes / MB).toFixed(1)} MB response`)
    // Uncompressed frames are cut from the stored stream one at a time: the instance is never held whole either.
    assert.ok(frames.growth < frames.bytes / 2, `frames grew the node by ${(frames.growth / MB).toFixed(1)} MB for a ${(frames.bytes / MB).toFixed(1)} MB response`)
    assert.ok(bulk.bytes > FRAMES * FRAME_BYTES && bulk.growth < bulk.bytes / 2, `bulk data grew the node by ${(bulk.growth / MB).toFixed(1)} MB for a ${(bulk.bytes / MB).toFixed(1)} MB response`)

    // In order, frames come from the stream; out of order, from the opened instance: the same parts either way.
    const firstBytes = async (list: string): Promise<number[]> => {
      const r = await fetch(`${base}/frames/${list}`, { headers: auth })
      assert.equal(r.status, 200)
      const parts = splitMultipart(new Uint8Array(await r.arrayBuffer()), r.headers.get('content-type')!)
      for (const p of parts) assert.equal(p.bytes.length, FRAME_BYTES)
      return parts.map((p) => p.bytes[0]!)
    }
    assert.deepEqual(await firstBytes('2,5,200'), [1, 4, 199])
    assert.deepEqual(await firstBytes('200,5,2'), [199, 4, 1])
    assert.equal(await node.stop(), 0)
  })
})
