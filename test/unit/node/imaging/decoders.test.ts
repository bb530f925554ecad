/**
 * The frame decoders of node/imaging against codestreams made by dcmtk and GDCM: the original
 * pixels back (exactly for lossless syntaxes), a codestream whose header disagrees with the
 * dataset refused before any decoding, and a few thousand seeded mutations (truncation, flipped
 * bytes, overwritten runs) that end in a decoded frame of the right size or a pixel-data error,
 * never another exception, a hang or a codec that stops working.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { decodeFrame } from '../../../../node/imaging/decode-frame.ts'
import { FrameDecoder } from '../../../../node/imaging/frame-decoder.ts'
import { CorruptPixelDataError, UnsupportedPixelDataError } from '../../../../node/imaging/errors.ts'
import { frameByteLength, type FrameGeometry } from '../../../../node/imaging/geometry.ts'
import { suiteDir } from '../../../helpers/files.ts'
import { Prng } from '../../../synthetic/prng.ts'
import { framesOf, makeCompressedSet, type CompressedCase, type SourceName } from './compressed-fixtures.ts'

function meanDifference (a: Uint8Array, b: Uint8Array, bitsAllocated: number): number {
  let sum = 0
  if (bitsAllocated === 16) {
    const x = new Uint16Array(a.slice().buffer)
    const y = new Uint16Array(b.slice().buffer)
    for (let i = 32; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!) // past the 64-byte marker pattern
    return sum / (x.length - 32)
  }
  for (let i = 64; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!)
  return sum / (a.length - 64)
}

function mutate (rng: Prng, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  switch (rng.int(0, 3)) {
    case 0: return out.subarray(0, rng.int(0, out.length - 1))
    case 1: for (let k = rng.int(1, 8); k > 0; k--) { const at = rng.int(0, out.length - 1); out[at] = out[at]! ^ (1 << rng.int(0, 7)) } return out
    case 2: { const at = rng.int(0, out.length - 1); out.set(rng.bytes(Math.min(out.length - at, rng.int(1, 64))), at); return out }
    default: { const at = rng.int(0, out.length - 1); out.fill(rng.int(0, 1) === 0 ? 0 : 0xff, at, at + rng.int(1, 256)); return out }
  }
}

describe('frame decoders', () => {
  let dir: { path: string, remove: () => Promise<void> }
  let sources: Record<SourceName, Uint8Array>
  let cases: CompressedCase[]

  before(async () => {
    dir = await suiteDir('peerpacs-decoders-')
    ;({ sources, cases } = makeCompressedSet(dir.path))
  })
  after(async () => { await dir.remove() })

  test('every case decodes to its source pixels: exactly when lossless, closely when lossy', async () => {
    for (const c of cases) {
      const { geometry, frames } = framesOf(c.bytes)
      const native = framesOf(sources[c.source]).frames
      assert.equal(frames.length, native.length, c.name)
      for (let f = 0; f < frames.length; f++) {
        const decoded = await decodeFrame(c.transferSyntaxUid, frames[f]!, geometry)
        assert.equal(decoded.bytes.length, frameByteLength(geometry), c.name)
        if (c.transferSyntaxUid === '1.2.840.10008.1.2.4.50' && geometry.samples === 3) {
          assert.equal(decoded.photometric, 'RGB', 'libjpeg converts YBR_FULL_422 to RGB')
        } else assert.equal(decoded.photometric, geometry.photometric)
        if (c.lossless) assert.ok(Buffer.from(decoded.bytes).equals(Buffer.from(native[f]!)), `${c.name} frame ${f + 1}`)
        else assert.ok(meanDifference(decoded.bytes, native[f]!, geometry.bitsAllocated) < 8, `${c.name}: ${meanDifference(decoded.bytes, native[f]!, geometry.bitsAllocated)}`)
      }
    }
  })

  test('a codestream whose size or components disagree with the dataset is refused before decoding', async () => {
    for (const c of cases) {
      const { geometry, frames } = framesOf(c.bytes)
      for (const wrong of [{ rows: geometry.rows + 1 }, { columns: geometry.columns * 2 }, { samples: (geometry.samples === 1 ? 3 : 1) as 1 | 3 }]) {
        const g: FrameGeometry = { ...geometry, ...wrong }
        await assert.rejects(decodeFrame(c.transferSyntaxUid, frames[0]!, g), (e: unknown) => {
          assert.ok(e instanceof CorruptPixelDataError, `${c.name} ${JSON.stringify(wrong)}: ${String(e)}`)
          assert.equal(e.code, 'PIXEL_DATA_CORRUPT')
          assert.match(e.message, /dataset says|segment/)
          return true
        })
      }
    }
  })

  test('what has no decoder is an UnsupportedPixelDataError naming it', async () => {
    const g: FrameGeometry = { rows: 2, columns: 2, samples: 1, bitsAllocated: 16, signed: false, photometric: 'MONOCHROME2' }
    await assert.rejects(decodeFrame('1.2.840.10008.1.2.4.201', new Uint8Array(8), g), (e: unknown) => e instanceof UnsupportedPixelDataError && /1\.2\.840\.10008\.1\.2\.4\.201/.test(e.message))
    // A 12-bit JPEG extended frame (SOF1, precision 12): this libjpeg-turbo build decodes 8-bit samples only.
    const sof1 = Uint8Array.from([0xff, 0xd8, 0xff, 0xc1, 0x00, 0x0b, 12, 0, 2, 0, 2, 1, 1, 0x11, 0])
    await assert.rejects(decodeFrame('1.2.840.10008.1.2.4.51', sof1, g), (e: unknown) => e instanceof UnsupportedPixelDataError && /12-bit/.test(e.message))
  })

  test('seeded mutations end in a frame of the right size or a pixel-data error, off the event loop, and every codec recovers', async () => {
    // Through the worker-thread decoder the node uses: CharLS spins for seconds or for ever on
    // some damaged JPEG-LS codestreams, and only a thread that can be terminated stops that.
    const decoder = new FrameDecoder({ timeoutMs: 1000 })
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    const rng = new Prng(20261203)
    const perCase = 24
    const tally: Record<string, { decoded: number, refused: number }> = {}
    try {
      for (const c of cases.filter((x) => x.source !== 'cine8')) {
        const { geometry, frames } = framesOf(c.bytes)
        const t = (tally[c.transferSyntaxUid] ??= { decoded: 0, refused: 0 })
        for (let k = 0; k < perCase; k++) {
          try {
            const d = await decoder.decode(c.transferSyntaxUid, mutate(rng, frames[0]!), geometry)
            assert.equal(d.bytes.length, frameByteLength(geometry), `${c.name} mutation ${k}`)
            t.decoded++
          } catch (e) {
            assert.ok(e instanceof CorruptPixelDataError || e instanceof UnsupportedPixelDataError, `${c.name} mutation ${k}: ${String(e)}`)
            t.refused++
          }
        }
        // The codec still decodes the unmutated frame, to the source's pixels when lossless.
        const again = await decoder.decode(c.transferSyntaxUid, frames[0]!, geometry)
        const reference = await decodeFrame(c.transferSyntaxUid, frames[0]!, geometry)
        assert.ok(Buffer.from(again.bytes).equals(Buffer.from(reference.bytes)), c.name)
        if (c.lossless) assert.ok(Buffer.from(again.bytes).equals(Buffer.from(framesOf(sources[c.source]).frames[0]!)), `${c.name} after mutations`)
      }
    } finally {
      delay.disable()
      await decoder.stop()
    }
    // The mutations reach the error paths (the JPEG lossless decoder decodes damaged data to damaged pixels instead).
    for (const [ts, t] of Object.entries(tally)) if (!ts.endsWith('.57') && !ts.endsWith('.70')) assert.ok(t.refused > 0, `${ts}: the mutations produced refusals (${JSON.stringify(t)})`)
    // A generous bound: the event loop was never blocked for a second, whatever the codecs did.
    assert.ok(delay.max / 1e6 < 1000, `event loop blocked for ${delay.max / 1e6} ms`)
    console.log(`# mutations decoded/refused per syntax: ${Object.entries(tally).map(([ts, t]) => `${ts} ${t.decoded}/${t.refused}`).join(', ')}; decodes stopped at the time limit: ${decoder.timeouts}; longest event-loop delay ${(delay.max / 1e6).toFixed(0)} ms`)
  })
})
