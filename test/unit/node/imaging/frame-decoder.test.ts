/**
 * FrameDecoder, the worker thread the node decodes compressed frames in: nothing runs before the
 * first frame, results match the in-process decoder, a frame over the time limit is stopped and
 * the next one decodes on a fresh thread, a full queue is refused at once, stop() refuses what
 * waits. Importing the DICOMweb routes starts no thread and loads no codec.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeRle } from '../../../../node/imaging/rle.ts'
import { CorruptPixelDataError, DecoderBusyError } from '../../../../node/imaging/errors.ts'
import { FrameDecoder } from '../../../../node/imaging/frame-decoder.ts'
import type { FrameGeometry } from '../../../../node/imaging/geometry.ts'
import { encodeRleFrame } from '../../../synthetic/rle.ts'

const RLE = '1.2.840.10008.1.2.5'
const geometry: FrameGeometry = { rows: 48, columns: 40, samples: 1, bitsAllocated: 16, signed: false, photometric: 'MONOCHROME2' }
// Runs of four equal values (test/synthetic/rle.ts under-sizes its buffer for noise-like rows).
const pixels = new Uint8Array(new Uint16Array(48 * 40).map((_, i) => Math.floor(i / 40) * 300 + (i % 40 >> 2) * 7).buffer)
const frame = encodeRleFrame({ rows: 48, columns: 40, samplesPerPixel: 1, bitsAllocated: 16, pixels })

test('decodes in a worker thread started by the first frame, to the same pixels as in process', async () => {
  const decoder = new FrameDecoder()
  try {
    assert.equal(decoder.running, false)
    const decoded = await decoder.decode(RLE, frame, geometry)
    assert.equal(decoder.running, true)
    assert.ok(Buffer.from(decoded.bytes).equals(Buffer.from(pixels)))
    assert.ok(Buffer.from(decoded.bytes).equals(Buffer.from(decodeRle(frame, geometry).bytes)))
    await assert.rejects(decoder.decode(RLE, frame.subarray(0, 40), geometry), CorruptPixelDataError)
    assert.ok(Buffer.from((await decoder.decode(RLE, frame, geometry)).bytes).equals(Buffer.from(pixels)), 'an error leaves the thread working')
  } finally {
    await decoder.stop()
  }
  assert.equal(decoder.running, false)
})

test('a frame over the time limit is stopped with a clear error; the next frame decodes on a fresh thread', async () => {
  // 1 ms: starting the thread alone takes longer, so the first frame is over the limit.
  const decoder = new FrameDecoder({ timeoutMs: 1 })
  try {
    await assert.rejects(decoder.decode(RLE, frame, geometry), (e: unknown) => e instanceof CorruptPixelDataError && /longer than 0.001 s and was stopped/.test(e.message))
    assert.equal(decoder.timeouts, 1)
    assert.equal(decoder.running, false, 'the thread that ran over was terminated')
    decoder.timeoutMs = 10_000
    assert.ok(Buffer.from((await decoder.decode(RLE, frame, geometry)).bytes).equals(Buffer.from(pixels)))
  } finally {
    await decoder.stop()
  }
})

test('more frames than the queue holds are refused at once; stop() refuses what waits', async () => {
  const decoder = new FrameDecoder({ maxQueued: 2 })
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, async () => await decoder.decode(RLE, frame, geometry)))
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'])
  for (const o of outcomes.slice(3)) assert.ok(o.status === 'rejected' && o.reason instanceof DecoderBusyError && o.reason.code === 'DECODER_BUSY')
  const waiting = [decoder.decode(RLE, frame, geometry), decoder.decode(RLE, frame, geometry)].map(async (w) => { await assert.rejects(w, CorruptPixelDataError) })
  await decoder.stop()
  await Promise.all(waiting)
})

test('importing the DICOMweb routes starts no decoder thread and loads no codec', () => {
  const root = fileURLToPath(new URL('../../../../', import.meta.url))
  const script = `
    const before = process.memoryUsage().rss
    await import('./node/dicomweb/routes.ts')
    const { frameDecoder } = await import('./node/imaging/frame-decoder.ts')
    const { libjpegTurbo } = await import('./node/imaging/libjpeg-turbo.ts')
    console.log(JSON.stringify({ running: frameDecoder.running, libjpegLoaded: libjpegTurbo.loaded, threads: process.getActiveResourcesInfo().filter((r) => r === 'Worker' || r === 'MessagePort').length }))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { running: false, libjpegLoaded: false, threads: 0 })
})
