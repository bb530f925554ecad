/**
 * WADO-RS (PS3.18 §10.4): instances streamed as multipart/related, one stored instance read at a
 * time straight through to the socket; metadata, frames, bulk data, rendered and thumbnail
 * images from an instance opened whole (one at a time); every multipart answer is streamed part
 * by part so no response is ever built whole in memory. Uncompressed frames named in order, and
 * uncompressed Pixel Data bulk data, are cut from the stored stream without opening the instance
 * (native-frames.ts), so a large multi-frame passes in the memory of one frame. A stored
 * instance that fails verification while it is being streamed aborts the response (the socket is
 * destroyed before the closing delimiter), so a client can never take a cut-short part for a
 * whole one.
 */
import type { Context } from 'hono'
import type { Logger } from '../logging/logger.ts'
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { CatalogInstance } from '../query/attributes.ts'
import { acceptsMultipart, acceptsSingle, parseAccept } from './accept.ts'
import { notAcceptable, notFound } from './http-errors.ts'
import { codeOf, instancePath, serviceRoot } from './http-util.ts'
import { frameList, frameOf, NATIVE_SYNTAXES, openInstance, pixelLayout, type Frame } from './instance-data.ts'
import { elementAt, metadataOf } from './metadata.ts'
import { ascending, locatePixels, readFrames } from './native-frames.ts'
import { closing, newBoundary, partHeader, partSeparator } from './multipart.ts'
import { renderedMediaType, renderFrame, type RenderOptions } from './render.ts'

export interface Target { readonly study: string, readonly series?: string, readonly instance?: string }

/** The instances a path names, or a 404 that says which level was not found. */
export async function resolve (pacs: Pacs, target: Target): Promise<CatalogInstance[]> {
  if (target.instance !== undefined) {
    const one = await pacs.findInstance(target.instance)
    if (one === undefined || one.studyInstanceUid !== target.study || (target.series !== undefined && one.seriesInstanceUid !== target.series)) {
      throw notFound('no such instance in that study and series on this node')
    }
    return [one]
  }
  const list = await pacs.instancesOf(target.study, target.series)
  if (list.length === 0) throw notFound(target.series === undefined ? 'no such study on this node' : 'no such series in that study on this node')
  return list
}

/** A response body from an async generator, pulled as the socket drains; a failure aborts it. */
export function streamed (source: AsyncGenerator<Uint8Array>, log: Logger, what: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      try {
        const next = await source.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      } catch (error) {
        log.error('wado.stream.aborted', { what, code: codeOf(error) })
        controller.error(new Error('a stored instance failed verification while it was sent; the response was aborted'))
      }
    },
    async cancel () { await source.return(undefined) }
  }, { highWaterMark: 1 })
}

function dicomPartType (ts: string): string { return `application/dicom; transfer-syntax=${ts}` }

export async function retrieve (c: Context, pacs: Pacs, log: Logger, target: Target): Promise<Response> {
  const instances = await resolve(pacs, target)
  const accept = parseAccept(c.req.header('accept'))
  // peerpacs does not transcode: an entry without transfer-syntax takes instances as stored.
  const refused = instances.filter((i) => !acceptsMultipart(accept, 'application/dicom', i.transferSyntaxUid, i.transferSyntaxUid))
  if (refused.length > 0) {
    const syntaxes = [...new Set(refused.map((i) => i.transferSyntaxUid))].join(', ')
    throw notAcceptable(`peerpacs sends instances as stored (it does not transcode); ${refused.length} instance(s) here are stored as ${syntaxes}, which the Accept header does not allow. Accept multipart/related; type="application/dicom"; transfer-syntax=* to take them as they are`)
  }
  const boundary = newBoundary()
  async function * body (): AsyncGenerator<Uint8Array> {
    for (const instance of instances) {
      yield partHeader(boundary, dicomPartType(instance.transferSyntaxUid))
      yield * pacs.read(instance)
      yield partSeparator()
    }
    yield closing(boundary)
  }
  log.info('wado.retrieve', { instances: instances.length })
  return new Response(streamed(body(), log, 'instances'), {
    status: 200,
    headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` }
  })
}

function acceptJson (c: Context): void {
  if (!acceptsSingle(parseAccept(c.req.header('accept')), 'application/dicom+json', 'application/json')) {
    throw notAcceptable('metadata is sent as application/dicom+json (or application/json); the Accept header allows neither')
  }
}

export async function metadata (c: Context, pacs: Pacs, log: Logger, target: Target): Promise<Response> {
  acceptJson(c)
  const instances = await resolve(pacs, target)
  const root = serviceRoot(c)
  async function * body (): AsyncGenerator<Uint8Array> {
    yield Buffer.from('[')
    let first = true
    for (const instance of instances) {
      const opened = await openInstance(pacs, instance)
      const json = metadataOf(opened, instancePath(root, instance.studyInstanceUid, instance.seriesInstanceUid, instance.sopInstanceUid))
      yield Buffer.from((first ? '' : ',') + JSON.stringify(json))
      first = false
    }
    yield Buffer.from(']')
  }
  // A single instance is opened before answering, so its errors get a proper status.
  if (instances.length === 1) {
    const i = instances[0]!
    const opened = await openInstance(pacs, i)
    return new Response(JSON.stringify([metadataOf(opened, instancePath(root, i.studyInstanceUid, i.seriesInstanceUid, i.sopInstanceUid))]), {
      status: 200, headers: { 'Content-Type': 'application/dicom+json' }
    })
  }
  log.info('wado.metadata', { instances: instances.length })
  return new Response(streamed(body(), log, 'metadata'), { status: 200, headers: { 'Content-Type': 'application/dicom+json' } })
}

/** How a frame may be sent under this Accept header: its part Content-Type, or a 406. */
function framePartType (accept: ReturnType<typeof parseAccept>, frame: Frame): string {
  if (frame.mediaType === 'application/octet-stream') {
    if (acceptsMultipart(accept, 'application/octet-stream', frame.transferSyntaxUid, frame.transferSyntaxUid)) return `application/octet-stream; transfer-syntax=${frame.transferSyntaxUid}`
    throw notAcceptable('uncompressed frames are sent as multipart/related; type="application/octet-stream" (explicit VR little endian); the Accept header does not allow that')
  }
  const types = [frame.mediaType, frame.mediaType.replace('image/', 'image/x-'), ...(frame.mediaType === 'image/dicom-rle' ? ['image/x-dicom-rle'] : []), ...(frame.mediaType === 'image/jls' ? ['image/x-jls'] : [])]
  if (acceptsMultipart(accept.filter((e) => e.type !== '*/*' && e.params.type !== 'application/octet-stream'), types, frame.transferSyntaxUid, frame.transferSyntaxUid)) {
    return `${frame.mediaType}; transfer-syntax=${frame.transferSyntaxUid}`
  }
  if (acceptsMultipart(accept.filter((e) => e.type !== '*/*'), 'application/octet-stream', frame.transferSyntaxUid, undefined) ||
    accept.some((e) => e.type === '*/*')) return `application/octet-stream; transfer-syntax=${frame.transferSyntaxUid}`
  throw notAcceptable(`this instance's frames are compressed (transfer syntax ${frame.transferSyntaxUid}) and peerpacs does not decompress them; accept multipart/related; type="${frame.mediaType}", or type="application/octet-stream"; transfer-syntax=* to take them as stored`)
}

/**
 * Frames (PS3.18 §10.4.1.1.4) streamed one part at a time: the instance is opened once and each
 * frame is cut and sent as the socket drains, so the response never sits whole in memory. A list
 * names each frame once (a repeated number is a 400, not a second copy) and at most MAX_FRAMES.
 */
export async function frames (c: Context, pacs: Pacs, log: Logger, target: Required<Target>, list: string): Promise<Response> {
  const [instance] = await resolve(pacs, target)
  const accept = parseAccept(c.req.header('accept'))
  const location = `${instancePath(serviceRoot(c), target.study, target.series, target.instance)}/frames/`
  // Uncompressed frames asked for in order come straight from the stored stream (native-frames.ts).
  const pixels = await locatePixels(pacs, instance!)
  if (pixels !== undefined) {
    const numbers = frameList(list, pixels.layout.frames)
    if (ascending(numbers)) {
      const type = framePartType(accept, { bytes: new Uint8Array(0), mediaType: 'application/octet-stream', transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN })
      const boundary = newBoundary()
      async function * body (): AsyncGenerator<Uint8Array> {
        for await (const frame of readFrames(pacs, pixels!, numbers)) {
          yield partHeader(boundary, type, { 'Content-Location': `${location}${frame.n}` })
          yield frame.bytes
          yield partSeparator()
        }
        yield closing(boundary)
      }
      return new Response(streamed(body(), log, 'frames'), {
        status: 200,
        headers: { 'Content-Type': `multipart/related; type="${type.split(';')[0]!}"; boundary=${boundary}` }
      })
    }
  }
  const opened = await openInstance(pacs, instance!)
  const numbers = frameList(list, pixelLayout(opened.dataset).frames)
  // Everything that can refuse the request is checked before the first byte is sent: the part
  // type (all frames of an instance share it) and the frames at both ends of the range.
  const type = framePartType(accept, frameOf(opened, numbers[0]!))
  frameOf(opened, Math.max(...numbers))
  const boundary = newBoundary()
  async function * body (): AsyncGenerator<Uint8Array> {
    for (const n of numbers) {
      yield partHeader(boundary, type, { 'Content-Location': `${location}${n}` })
      yield frameOf(opened, n).bytes
      yield partSeparator()
    }
    yield closing(boundary)
  }
  return new Response(streamed(body(), log, 'frames'), {
    status: 200,
    headers: { 'Content-Type': `multipart/related; type="${type.split(';')[0]!}"; boundary=${boundary}` }
  })
}

/** Bulk data (PS3.18 §10.4.1.1.5) streamed like frames: Pixel Data frame by frame, other values one by one. */
export async function bulkdata (c: Context, pacs: Pacs, log: Logger, target: Required<Target>, path: string): Promise<Response> {
  const [instance] = await resolve(pacs, target)
  const accept = parseAccept(c.req.header('accept'))
  const boundary = newBoundary()
  // Uncompressed Pixel Data, all frames in a row as one part, comes straight from the stored stream.
  const pixels = /^7fe00010$/i.test(path) ? await locatePixels(pacs, instance!) : undefined
  if (pixels !== undefined) {
    const type = framePartType(accept, { bytes: new Uint8Array(0), mediaType: 'application/octet-stream', transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN })
    const all = Array.from({ length: pixels.layout.frames }, (_, i) => i + 1)
    async function * body (): AsyncGenerator<Uint8Array> {
      yield partHeader(boundary, type)
      for await (const frame of readFrames(pacs, pixels!, all)) yield frame.bytes
      yield partSeparator()
      yield closing(boundary)
    }
    return new Response(streamed(body(), log, 'bulkdata'), {
      status: 200,
      headers: { 'Content-Type': `multipart/related; type="${type.split(';')[0]!}"; boundary=${boundary}` }
    })
  }
  const opened = await openInstance(pacs, instance!)
  const { tag, element } = elementAt(opened.dataset, path)
  let partTypes: string[]
  let pieces: (part: number) => Iterable<Uint8Array>
  if (tag === '7FE00010' && !path.includes('/')) {
    const count = pixelLayout(opened.dataset).frames
    const type = framePartType(accept, frameOf(opened, 1))
    frameOf(opened, count)
    const frameNumbers = Array.from({ length: count }, (_, i) => i + 1)
    // Native Pixel Data is one part (all frames in a row); encapsulated, one part per frame.
    if (NATIVE_SYNTAXES.has(opened.transferSyntaxUid)) {
      partTypes = [type]
      pieces = function * () { for (const n of frameNumbers) yield frameOf(opened, n).bytes }
    } else {
      partTypes = frameNumbers.map(() => type)
      pieces = function * (part) { yield frameOf(opened, part + 1).bytes }
    }
  } else {
    if (!acceptsMultipart(accept, 'application/octet-stream', undefined)) throw notAcceptable('bulk data is sent as multipart/related; type="application/octet-stream"')
    const values = (element.Value ?? []).map((v) => v instanceof ArrayBuffer ? new Uint8Array(v) : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0))
    partTypes = ['application/octet-stream']
    pieces = () => values
  }
  async function * body (): AsyncGenerator<Uint8Array> {
    for (const [i, type] of partTypes.entries()) {
      yield partHeader(boundary, type)
      for (const piece of pieces(i)) if (piece.length > 0) yield piece
      yield partSeparator()
    }
    yield closing(boundary)
  }
  return new Response(streamed(body(), log, 'bulkdata'), {
    status: 200,
    headers: { 'Content-Type': `multipart/related; type="${partTypes[0]?.split(';')[0] ?? 'application/octet-stream'}"; boundary=${boundary}` }
  })
}

export async function rendered (c: Context, pacs: Pacs, target: Required<Target>, frameText: string | undefined, thumbnail: boolean): Promise<Response> {
  const type = renderedMediaType(c.req.header('accept'))
  const [instance] = await resolve(pacs, target)
  const opened = await openInstance(pacs, instance!)
  const count = pixelLayout(opened.dataset).frames
  // The instance-level resource of a multi-frame instance is its first frame.
  const numbers = frameText === undefined ? [1] : frameList(frameText, count)
  if (numbers.length !== 1) throw notAcceptable('peerpacs renders one frame per request; ask for the frames one at a time')
  const window = c.req.query('window')
  const viewport = c.req.query('viewport')
  const quality = c.req.query('quality')
  const options: RenderOptions = { ...(window === undefined ? {} : { window }), ...(viewport === undefined ? {} : { viewport }), ...(quality === undefined ? {} : { quality }), ...(thumbnail ? { fit: 128 } : {}) }
  const image = await renderFrame(opened, numbers[0]!, type, options)
  return new Response(image, { status: 200, headers: { 'Content-Type': type } })
}

