/**
 * Rendered and thumbnail images (PS3.18 §8.3.5, §9.5, Table 8.7.4-1): one frame to an 8-bit
 * picture, as image/jpeg (baseline, the standard's default) or image/png. Compressed frames are
 * decoded first, in a worker thread with a time limit (node/imaging: JPEG baseline/extended
 * 8-bit, JPEG lossless, JPEG-LS, JPEG 2000, RLE; each codec loaded on first use). Greyscale applies the Modality LUT rescale, then the
 * window (the request's `window`, else the first stored window, else the frame's min/max),
 * MONOCHROME1 inverted; RGB is passed through and YBR_FULL converted to RGB.
 * What cannot be rendered (another colour model or bit depth, a syntax without a decoder) is a
 * 406 saying so; a frame that does not decode (or not in time) is a 500 naming the codec's
 * complaint; a full decoder queue is a 503.
 */
import { covers, parseAccept } from './accept.ts'
import { badRequest, notAcceptable } from './http-errors.ts'
import { frameOf, NATIVE_SYNTAXES, num, nums, pixelLayout, str, type Dataset, type OpenedInstance } from './instance-data.ts'
import { encodePng } from './png.ts'
import { CorruptPixelDataError } from '../imaging/errors.ts'
import { frameDecoder } from '../imaging/frame-decoder.ts'
import type { FrameGeometry } from '../imaging/geometry.ts'
import { encodeJpeg } from '../imaging/jpeg-encode.ts'

export interface RenderOptions {
  /** `window=center,width[,function]` from the query string. */
  readonly window?: string
  /** `viewport=width,height` (fit inside, aspect kept). */
  readonly viewport?: string
  /** Thumbnails fit inside this square unless a viewport is given. */
  readonly fit?: number
  /** `quality=1..100` for image/jpeg (PS3.18 §8.3.5.1.3); 90 when absent. */
  readonly quality?: string
}

/** What rendered and thumbnail resources offer, the default first (Table 8.7.4-1). */
export const RENDERED_MEDIA_TYPES = ['image/jpeg', 'image/png'] as const
export type RenderedMediaType = typeof RENDERED_MEDIA_TYPES[number]

/** Frames above this many pixels are not rendered server side (the work and memory grow with it). */
export const MAX_RENDERED_PIXELS = 64 * 1024 * 1024

/**
 * The media type to render for an Accept header: the first acceptable entry by quality, where a
 * wildcard (or no header) means image/jpeg, the standard's default. Nothing acceptable is a 406.
 */
export function renderedMediaType (accept: string | undefined): RenderedMediaType {
  for (const entry of parseAccept(accept)) {
    const type = entry.type.toLowerCase()
    const exact = RENDERED_MEDIA_TYPES.find((t) => t === type)
    if (exact !== undefined) return exact
    if (covers(type, 'image/jpeg')) return 'image/jpeg'
  }
  throw notAcceptable(`rendered images are ${RENDERED_MEDIA_TYPES.join(' or ')}; the Accept header allows neither`)
}

interface Image { pixels: Uint8Array, columns: number, rows: number, channels: 1 | 3 }

function windowOf (text: string | undefined): { center: number, width: number } | undefined {
  if (text === undefined) return undefined
  const m = /^\s*(-?[\d.]+)\s*,\s*([\d.]+)\s*(,\s*(linear|sigmoid|linear_exact)\s*)?$/i.exec(text)
  if (m === null || !(Number(m[2]) > 0)) throw badRequest('window must be "center,width[,linear|linear_exact|sigmoid]" with a positive width')
  return { center: Number(m[1]), width: Number(m[2]) }
}

function qualityOf (text: string | undefined): number {
  if (text === undefined) return 90
  if (!/^\d{1,3}$/.test(text.trim()) || Number(text) < 1 || Number(text) > 100) throw badRequest('quality must be a whole number from 1 to 100')
  return Number(text)
}

function grey (ds: Dataset, frame: Uint8Array, g: FrameGeometry, photometric: string, options: RenderOptions): Image {
  const { rows, columns, bitsAllocated, signed } = g
  const slope = num(ds, '00281053') ?? 1
  const intercept = num(ds, '00281052') ?? 0
  const count = rows * columns
  const values = new Float64Array(count)
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const bitsStored = num(ds, '00280101') ?? bitsAllocated
  for (let i = 0; i < count; i++) {
    let v: number
    if (bitsAllocated === 8) v = signed ? view.getInt8(i) : view.getUint8(i)
    else {
      v = view.getUint16(i * 2, true) & ((1 << bitsStored) - 1 || 0xffff)
      if (signed && bitsStored < 16 && v >= 1 << (bitsStored - 1)) v -= 1 << bitsStored
      else if (signed && bitsStored === 16) v = view.getInt16(i * 2, true)
    }
    values[i] = v * slope + intercept
  }
  let win = windowOf(options.window)
  if (win === undefined) {
    const centers = nums(ds, '00281050')
    const widths = nums(ds, '00281051')
    if (centers.length > 0 && widths.length > 0 && widths[0]! > 0) win = { center: centers[0]!, width: widths[0]! }
  }
  let low: number
  let high: number
  if (win !== undefined) {
    low = win.center - 0.5 - (win.width - 1) / 2
    high = win.center - 0.5 + (win.width - 1) / 2
  } else {
    low = Infinity
    high = -Infinity
    for (const v of values) { if (v < low) low = v; if (v > high) high = v }
  }
  const invert = photometric === 'MONOCHROME1'
  const span = high - low
  const out = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const v = values[i]!
    let level = span <= 0 ? (v > low ? 255 : 0) : v <= low ? 0 : v > high ? 255 : Math.round((v - low) / span * 255)
    if (invert) level = 255 - level
    out[i] = level
  }
  return { pixels: out, columns, rows, channels: 1 }
}

function clamp (v: number): number { return v < 0 ? 0 : v > 255 ? 255 : Math.round(v) }

/** 8-bit colour, planar or interleaved, RGB or YBR_FULL (PS3.3 C.7.6.3.1.2), to interleaved RGB. */
function colour (frame: Uint8Array, g: FrameGeometry, photometric: string, planar: boolean): Image {
  const { rows, columns } = g
  const count = rows * columns
  let out = planar ? new Uint8Array(count * 3) : frame.slice(0, count * 3)
  if (planar) for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = frame[c * count + i]!
  if (photometric === 'YBR_FULL') {
    const rgb = new Uint8Array(count * 3)
    for (let i = 0; i < count; i++) {
      const y = out[i * 3]!
      const cb = out[i * 3 + 1]! - 128
      const cr = out[i * 3 + 2]! - 128
      rgb[i * 3] = clamp(y + 1.402 * cr)
      rgb[i * 3 + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr)
      rgb[i * 3 + 2] = clamp(y + 1.772 * cb)
    }
    out = rgb
  }
  return { pixels: out, columns, rows, channels: 3 }
}

function fitInside (image: Image, maxWidth: number, maxHeight: number): Image {
  const scale = Math.min(maxWidth / image.columns, maxHeight / image.rows)
  if (!(scale > 0)) return image
  const columns = Math.max(1, Math.round(image.columns * scale))
  const rows = Math.max(1, Math.round(image.rows * scale))
  if (columns === image.columns && rows === image.rows) return image
  const { channels } = image
  const out = new Uint8Array(columns * rows * channels)
  for (let y = 0; y < rows; y++) {
    const sy = Math.min(image.rows - 1, Math.floor(y / scale))
    for (let x = 0; x < columns; x++) {
      const sx = Math.min(image.columns - 1, Math.floor(x / scale))
      for (let c = 0; c < channels; c++) out[(y * columns + x) * channels + c] = image.pixels[(sy * image.columns + sx) * channels + c]!
    }
  }
  return { pixels: out, columns, rows, channels }
}

/** The frame's native pixels, decoded first when the instance is compressed. */
async function pixelsOf (opened: OpenedInstance, n: number, g: FrameGeometry): Promise<{ bytes: Uint8Array, photometric: string, planar: boolean }> {
  const frame = frameOf(opened, n)
  if (NATIVE_SYNTAXES.has(opened.transferSyntaxUid)) {
    return { bytes: frame.bytes, photometric: g.photometric, planar: num(opened.dataset, '00280006') === 1 }
  }
  try {
    const decoded = await frameDecoder.decode(opened.transferSyntaxUid, frame.bytes, g)
    return { ...decoded, planar: false }
  } catch (error) {
    // Unsupported pixel data (406) and a busy decoder (503) are answered as HTTP_BY_CODE says.
    if (error instanceof CorruptPixelDataError) {
      throw new CorruptPixelDataError(`frame ${n} of this instance could not be decoded (transfer syntax ${opened.transferSyntaxUid}): ${error.message}. The instance can still be retrieved whole`, { cause: error })
    }
    throw error
  }
}

/** Frame `n` (1-based) of an opened instance as `type` (image/jpeg or image/png) bytes. */
export async function renderFrame (opened: OpenedInstance, n: number, type: RenderedMediaType, options: RenderOptions = {}): Promise<Uint8Array> {
  const ds = opened.dataset
  const quality = qualityOf(options.quality)
  const { samples, bitsAllocated, rows, columns } = pixelLayout(ds)
  if (rows === 0 || columns === 0) throw notAcceptable('the instance has no image (no rows and columns) to render')
  if (rows * columns > MAX_RENDERED_PIXELS) throw notAcceptable(`the frame is ${columns}x${rows}; peerpacs renders frames of up to ${MAX_RENDERED_PIXELS} pixels. Retrieve the frames and decode them in the viewer`)
  const stored = str(ds, '00280004') ?? ''
  const mono = (stored === 'MONOCHROME1' || stored === 'MONOCHROME2') && samples === 1 && (bitsAllocated === 8 || bitsAllocated === 16)
  const colourModels = NATIVE_SYNTAXES.has(opened.transferSyntaxUid) ? ['RGB', 'YBR_FULL'] : ['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT']
  const colourOk = colourModels.includes(stored) && samples === 3 && bitsAllocated === 8
  if (!mono && !colourOk) {
    throw notAcceptable(`peerpacs renders 8/16-bit MONOCHROME1/2 and 8-bit RGB or YBR_FULL (and, when compressed, the YBR models of JPEG and JPEG 2000); this instance is ${stored || 'unknown'} with ${samples} sample(s) of ${bitsAllocated} bits`)
  }
  const g: FrameGeometry = { rows, columns, samples: mono ? 1 : 3, bitsAllocated: bitsAllocated as 8 | 16, signed: num(ds, '00280103') === 1, photometric: stored }
  const pixels = await pixelsOf(opened, n, g)
  let image: Image
  if (mono) image = grey(ds, pixels.bytes, g, pixels.photometric, options)
  else if (pixels.photometric === 'RGB' || pixels.photometric === 'YBR_FULL') image = colour(pixels.bytes, g, pixels.photometric, pixels.planar)
  else throw notAcceptable(`frames of this transfer syntax in ${pixels.photometric} are not rendered server side; retrieve the frames and decode them in the viewer`)
  if (options.viewport !== undefined) {
    const m = /^\s*(\d{1,5})\s*,\s*(\d{1,5})/.exec(options.viewport)
    if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) throw badRequest('viewport must be "width,height" in pixels')
    image = fitInside(image, Number(m[1]), Number(m[2]))
  } else if (options.fit !== undefined && (image.columns > options.fit || image.rows > options.fit)) {
    image = fitInside(image, options.fit, options.fit)
  }
  return type === 'image/jpeg'
    ? encodeJpeg(image.pixels, image.columns, image.rows, image.channels, quality)
    : encodePng(image.pixels, image.columns, image.rows, image.channels)
}
