/**
 * Rendered images of compressed instances: every transfer syntax peerpacs decodes (JPEG baseline
 * and extended 8-bit, JPEG lossless, JPEG-LS, JPEG 2000, RLE), made from uncompressed synthetic
 * instances by dcmtk and GDCM, stored over STOW-RS, then fetched rendered as PNG and as JPEG and
 * compared with the rendering of the uncompressed original: exactly for lossless syntaxes, within
 * a tolerance for lossy ones (and the tolerance is shown to tell different pictures apart).
 * Frames of multi-frame instances, Accept negotiation and corrupt codestreams are covered too.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { inflateSync } from 'node:zlib'
import jpeg from 'jpeg-js'
import { multipartBody, startDicomweb, type DicomwebServer } from '../../helpers/dicomweb-server.ts'
import { suiteDir } from '../../helpers/files.ts'
import { Prng } from '../../synthetic/prng.ts'
import { makeCompressedSet, type CompressedCase, type SourceName } from '../../unit/node/imaging/compressed-fixtures.ts'

interface Picture { width: number, height: number, channels: number, pixels: Uint8Array }

/** PNG as png.ts writes it (8-bit grey or RGB, filter 0 on every row), undone with node:zlib. */
function readPng (bytes: Uint8Array): Picture {
  const b = Buffer.from(bytes)
  assert.ok(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature')
  const width = b.readUInt32BE(16)
  const height = b.readUInt32BE(20)
  const channels = b[25] === 0 ? 1 : 3
  const idat: Buffer[] = []
  for (let at = 8; at < b.length;) {
    const length = b.readUInt32BE(at)
    if (b.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(b.subarray(at + 8, at + 8 + length))
    at += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const pixels = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (stride + 1)], 0, 'filter type 0')
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride)
  }
  return { width, height, channels, pixels }
}

function readJpeg (bytes: Uint8Array): Picture {
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], 'JPEG SOI')
  // Baseline sequential (SOF0), as PS3.18 8.7.4 requires of image/jpeg.
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0xff, 0xc0])), 'a SOF0 (baseline) frame header')
  const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false })
  return { width: d.width, height: d.height, channels: 3, pixels: d.data }
}

/** Mean absolute difference per sample, comparing grey with the first channel of colour. */
function meanDifference (a: Picture, b: Picture): number {
  assert.equal(a.width, b.width)
  assert.equal(a.height, b.height)
  let sum = 0
  let n = 0
  const channels = Math.min(a.channels, b.channels)
  for (let i = 0; i < a.width * a.height; i++) {
    for (let c = 0; c < channels; c++) { sum += Math.abs(a.pixels[i * a.channels + c]! - b.pixels[i * b.channels + c]!); n++ }
  }
  return sum / n
}

function uidOf (file: Uint8Array, tagBytes: number[]): string {
  // (0008,0018) SOP Instance UID in explicit VR little endian: tag, "UI", length, value.
  const b = Buffer.from(file)
  const at = b.indexOf(Buffer.from([...tagBytes, 0x55, 0x49]), 132)
  assert.ok(at > 0)
  return b.toString('latin1', at + 8, at + 8 + b.readUInt16LE(at + 6)).replace(/\0+$/, '')
}

/** Where the SOFn (or JPEG-LS SOF55) marker of the codestream at `start` is, walking its marker segments. */
function sofOffset (b: Buffer, start: number): number {
  assert.equal(b.readUInt16BE(start), 0xffd8)
  for (let at = start + 2; ;) {
    const marker = b[at + 1]!
    if ([0xc0, 0xc1, 0xc3, 0xf7].includes(marker)) return at
    at += 2 + b.readUInt16BE(at + 2)
  }
}

const ids = (file: Uint8Array): { study: string, series: string, sop: string } => ({
  study: uidOf(file, [0x20, 0x00, 0x0d, 0x00]),
  series: uidOf(file, [0x20, 0x00, 0x0e, 0x00]),
  sop: uidOf(file, [0x08, 0x00, 0x18, 0x00])
})

describe('rendered images of compressed pixel data', () => {
  let server: DicomwebServer
  let dir: { path: string, remove: () => Promise<void> }
  let sources: Record<SourceName, Uint8Array>
  let cases: CompressedCase[]
  const cleanups: Array<() => Promise<void> | void> = []
  const t = { after: (fn: () => Promise<void> | void) => { cleanups.unshift(fn) } }

  const path = (file: Uint8Array, tail: string): string => {
    const i = ids(file)
    return `${server.root}/studies/${i.study}/series/${i.series}/instances/${i.sop}${tail}`
  }
  const get = async (file: Uint8Array, tail: string, accept?: string): Promise<{ status: number, type: string | null, bytes: Uint8Array }> => {
    const r = await fetch(path(file, tail), accept === undefined ? {} : { headers: { Accept: accept } })
    return { status: r.status, type: r.headers.get('content-type'), bytes: new Uint8Array(await r.arrayBuffer()) }
  }
  const stow = async (files: Uint8Array[]): Promise<void> => {
    const { body, contentType } = multipartBody(files)
    const r = await fetch(`${server.root}/studies`, { method: 'POST', body, headers: { 'Content-Type': contentType, Accept: 'application/dicom+json' } })
    assert.equal(r.status, 200, await r.text())
  }

  before(async () => {
    dir = await suiteDir('peerpacs-rendered-codecs-')
    ;({ sources, cases } = makeCompressedSet(dir.path))
    server = await startDicomweb(t, { store: 'memory' })
    await stow([...Object.values(sources), ...cases.map((c) => c.bytes)])
  })
  after(async () => {
    for (const fn of cleanups) await fn()
    await dir.remove()
  })

  test('every compressed syntax renders as PNG like its uncompressed original: exactly when lossless', async () => {
    const measured: string[] = []
    for (const c of cases) {
      const original = readPng((await get(sources[c.source], '/rendered', 'image/png')).bytes)
      const r = await get(c.bytes, '/rendered', 'image/png')
      assert.equal(r.status, 200, `${c.name}: ${Buffer.from(r.bytes).toString()}`)
      assert.equal(r.type, 'image/png')
      const picture = readPng(r.bytes)
      assert.equal(picture.channels, original.channels, c.name)
      const difference = meanDifference(picture, original)
      measured.push(`${c.name} ${difference.toFixed(2)}`)
      if (c.lossless) assert.ok(Buffer.from(picture.pixels).equals(Buffer.from(original.pixels)), `${c.name} renders exactly like the original`)
      else assert.ok(difference < 6, `${c.name}: mean difference ${difference} from the original`)
    }
    // The tolerance tells pictures apart: the 8-bit and 16-bit sources differ by far more.
    const mono8 = readPng((await get(sources.mono8, '/rendered', 'image/png')).bytes)
    const mono16 = readPng((await get(sources.mono16, '/rendered', 'image/png')).bytes)
    assert.ok(meanDifference(mono8, mono16) > 20, `different pictures differ by ${meanDifference(mono8, mono16)}`)
    console.log(`# mean difference from the original's rendering: ${measured.join(', ')}`)
  })

  test('every compressed syntax renders as a baseline JPEG close to the original', async () => {
    for (const c of cases) {
      const original = readPng((await get(sources[c.source], '/rendered', 'image/png')).bytes)
      const r = await get(c.bytes, '/rendered', 'image/jpeg')
      assert.equal(r.status, 200, c.name)
      assert.equal(r.type, 'image/jpeg')
      const difference = meanDifference(readJpeg(r.bytes), original)
      assert.ok(difference < (c.lossless ? 5 : 8), `${c.name}: JPEG differs from the original's rendering by ${difference}`)
    }
  })

  test('frames of compressed multi-frame instances: the frame asked for; the instance-level resource is frame 1', async () => {
    const cine = sources.cine8
    for (const c of cases.filter((x) => x.source === 'cine8')) {
      for (const frame of [1, 3, 12]) {
        const want = readPng((await get(cine, `/frames/${frame}/rendered`, 'image/png')).bytes)
        const got = readPng((await get(c.bytes, `/frames/${frame}/rendered`, 'image/png')).bytes)
        assert.ok(Buffer.from(got.pixels).equals(Buffer.from(want.pixels)), `${c.name} frame ${frame}`)
      }
      const frame1 = (await get(c.bytes, '/frames/1/rendered', 'image/png')).bytes
      const instance = await get(c.bytes, '/rendered', 'image/png')
      assert.equal(instance.status, 200)
      assert.ok(Buffer.from(instance.bytes).equals(Buffer.from(frame1)), `${c.name}: instance-level rendered is frame 1`)
      const frame3 = readPng((await get(cine, '/frames/3/rendered', 'image/png')).bytes)
      assert.ok(!Buffer.from(readPng(frame1).pixels).equals(Buffer.from(frame3.pixels)), 'frames 1 and 3 differ, so the check above means something')
      const thumb = readPng((await get(c.bytes, '/frames/2/thumbnail', 'image/png')).bytes)
      assert.ok(thumb.width <= 128 && thumb.height <= 128)
      assert.equal((await get(c.bytes, '/frames/1,2/rendered', 'image/png')).status, 406)
      assert.equal((await get(c.bytes, '/frames/13/rendered', 'image/png')).status, 404)
    }
  })

  test('Accept: image/jpeg by default and for wildcards, PNG when preferred, 406 when neither', async () => {
    const c = cases.find((x) => x.name === 'jpeg-ls-mono16')!
    const expect: Array<[string | undefined, number, string | null]> = [
      [undefined, 200, 'image/jpeg'],
      ['*/*', 200, 'image/jpeg'],
      ['image/*', 200, 'image/jpeg'],
      ['image/png', 200, 'image/png'],
      ['image/jpeg;q=0.5, image/png', 200, 'image/png'],
      ['image/png;q=0.4, image/jpeg;q=0.9', 200, 'image/jpeg'],
      ['image/gif, image/png;q=0.2', 200, 'image/png'],
      ['application/dicom', 406, 'application/json'],
      ['image/gif', 406, 'application/json']
    ]
    for (const [accept, status, type] of expect) {
      for (const tail of ['/rendered', '/thumbnail', '/frames/1/rendered', '/frames/1/thumbnail']) {
        const r = await get(c.bytes, tail, accept)
        assert.equal(r.status, status, `${tail} Accept ${accept}`)
        assert.equal(r.type, type, `${tail} Accept ${accept}`)
      }
    }
    const coarse = await get(c.bytes, '/rendered?quality=5', 'image/jpeg')
    const fine = await get(c.bytes, '/rendered?quality=100', 'image/jpeg')
    assert.ok(coarse.bytes.length < fine.bytes.length, 'quality changes the JPEG')
    assert.equal((await get(c.bytes, '/rendered?quality=0', 'image/jpeg')).status, 400)
    // WADO-URI: image/jpeg without contentType, image/png when asked, on the same decoder.
    const i = ids(c.bytes)
    const q = `requestType=WADO&studyUID=${i.study}&seriesUID=${i.series}&objectUID=${i.sop}`
    const uri = await fetch(`${server.url}/wado?${q}`)
    assert.equal(uri.headers.get('content-type'), 'image/jpeg')
    readJpeg(new Uint8Array(await uri.arrayBuffer()))
    const uriPng = await fetch(`${server.url}/wado?${q}&contentType=image/png`)
    const original = readPng((await get(sources.mono16, '/rendered', 'image/png')).bytes)
    assert.ok(Buffer.from(readPng(new Uint8Array(await uriPng.arrayBuffer())).pixels).equals(Buffer.from(original.pixels)))
  })

  test('a corrupt compressed frame is a clear error, and the node goes on rendering', async () => {
    const rng = new Prng(12)
    const broken: Array<{ name: string, bytes: Uint8Array, header: boolean }> = []
    for (const c of cases.filter((x) => x.source !== 'cine8')) {
      const file = Buffer.from(c.bytes)
      // The first fragment after the offset table: (FFFE,E000) items inside the pixel data.
      const pixelTag = file.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]))
      const table = file.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]), pixelTag)
      const fragment = file.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]), table + 8 + file.readUInt32LE(table + 4)) + 8
      const length = file.readUInt32LE(fragment - 4)
      // 1. The codestream's own header disagrees with the dataset about the image size.
      const header = Buffer.from(file)
      if (c.transferSyntaxUid === '1.2.840.10008.1.2.5') header.writeUInt32LE(7, fragment) // segment count
      else if (c.transferSyntaxUid.startsWith('1.2.840.10008.1.2.4.9')) header.writeUInt32BE(4000, fragment + 8) // Xsiz
      else header.writeUInt16BE(4000, sofOffset(header, fragment) + 7) // columns
      // 2. Random bytes over the middle of the entropy-coded data.
      const noise = Buffer.from(file)
      for (let k = fragment + Math.floor(length * 0.3); k < fragment + Math.floor(length * 0.7); k++) noise[k] = rng.nextU32() & 0xff
      for (const [kind, bytes] of [['header', header], ['noise', noise]] as const) {
        const copy = Buffer.from(bytes)
        // A new SOP Instance UID of the same length (in the file meta and the dataset): the last digit changed.
        const sop = Buffer.from(ids(c.bytes).sop)
        const digit = (kind === 'header' ? '13' : '24').replace(String.fromCharCode(sop[sop.length - 1]!), '').charCodeAt(0)
        for (let at = copy.indexOf(sop); at !== -1; at = copy.indexOf(sop)) copy[at + sop.length - 1] = digit
        broken.push({ name: `${c.name} ${kind}`, bytes: new Uint8Array(copy), header: kind === 'header' })
      }
    }
    await stow(broken.map((b) => b.bytes))
    let refused = 0
    const outcomes: string[] = []
    for (const b of broken) {
      for (const accept of ['image/png', 'image/jpeg']) {
        const r = await get(b.bytes, '/rendered', accept)
        if (accept === 'image/png') outcomes.push(`${b.name} ${r.status}`)
        if (r.status === 200) {
          assert.ok(!b.header, `${b.name}: a codestream whose header disagrees with the dataset must not render`)
          assert.equal(r.type, accept)
          continue
        }
        assert.equal(r.status, 500, `${b.name}: ${r.status}`)
        assert.equal(r.type, 'application/json')
        const body = JSON.parse(Buffer.from(r.bytes).toString()) as { error: string, message: string }
        assert.equal(body.error, 'unreadable')
        assert.match(body.message, /could not be decoded/)
        if (b.header) assert.match(body.message, /dataset says|segment/, b.name)
        refused++
      }
    }
    assert.ok(refused >= broken.filter((b) => b.header).length * 2, 'every inconsistent header was refused')
    console.log(`# corrupt frames: ${outcomes.join(', ')}`)
    // Every codec still decodes a good frame afterwards (a module that failed was replaced).
    for (const c of cases) assert.equal((await get(c.bytes, '/rendered', 'image/png')).status, 200, `${c.name} after the corrupt frames`)
  })
})
