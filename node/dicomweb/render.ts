/**
 * Rendered and thumbnail images (PS3.18 §8.3.5, §9.5): one frame of native pixel data to 8-bit
 * PNG. Greyscale applies Modality LUT rescale, then the window (the request's `window`, else the
 * first stored window, else the frame's min/max), MONOCHROME1 inverted; RGB is passed through.
 * Compressed pixel data would need a decoder peerpacs does not ship: that is a 406 saying so.
 */
import { frameOf, NATIVE_SYNTAXES, num, nums, pixelLayout, str, type OpenedInstance } from './instance-data.ts'
import { badRequest, notAcceptable } from './http-util.ts'
import { encodePng } from './png.ts'

export interface RenderOptions {
  /** `window=center,width[,function]` from the query string. */
  readonly window?: string
  /** `viewport=width,height` (fit inside, aspect kept). */
  readonly viewport?: string
  /** Thumbnails fit inside this square unless a viewport is given. */
  readonly fit?: number
}

interface Image { pixels: Uint8Array, columns: number, rows: number, channels: 1 | 3 }

function windowOf (text: string | undefined): { center: number, width: number } | undefined {
  if (text === undefined) return undefined
  const m = /^\s*(-?[\d.]+)\s*,\s*([\d.]+)\s*(,\s*(linear|sigmoid|linear_exact)\s*)?$/i.exec(text)
  if (m === null || !(Number(m[2]) > 0)) throw badRequest('window must be "center,width[,linear|linear_exact|sigmoid]" with a positive width')
  return { center: Number(m[1]), width: Number(m[2]) }
}

function grey (opened: OpenedInstance, frame: Uint8Array, options: RenderOptions): Image {
  const ds = opened.dataset
  const { rows, columns, bitsAllocated } = pixelLayout(ds)
  const signed = num(ds, '00280103') === 1
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
  const invert = str(ds, '00280004') === 'MONOCHROME1'
  const span = high - low
  const out = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const v = values[i]!
    let g = span <= 0 ? (v > low ? 255 : 0) : v <= low ? 0 : v > high ? 255 : Math.round((v - low) / span * 255)
    if (invert) g = 255 - g
    out[i] = g
  }
  return { pixels: out, columns, rows, channels: 1 }
}

function rgb (opened: OpenedInstance, frame: Uint8Array): Image {
  const ds = opened.dataset
  const { rows, columns } = pixelLayout(ds)
  const count = rows * columns
  if (num(ds, '00280006') !== 1) return { pixels: frame.slice(0, count * 3), columns, rows, channels: 3 }
  const out = new Uint8Array(count * 3)
  for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = frame[c * count + i]!
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

/** Frame `n` (1-based) of an opened instance as PNG bytes. */
export function renderPng (opened: OpenedInstance, n: number, options: RenderOptions = {}): Uint8Array {
  if (!NATIVE_SYNTAXES.has(opened.transferSyntaxUid)) {
    throw notAcceptable(`this instance's pixel data is compressed (transfer syntax ${opened.transferSyntaxUid}); peerpacs renders uncompressed pixel data only. Retrieve the frames or the instance and decode them in the viewer`)
  }
  const ds = opened.dataset
  const { samples, bitsAllocated, rows, columns } = pixelLayout(ds)
  if (rows === 0 || columns === 0) throw notAcceptable('the instance has no image (no rows and columns) to render')
  const photometric = str(ds, '00280004') ?? ''
  const frame = frameOf(opened, n).bytes
  let image: Image
  if ((photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2') && samples === 1 && (bitsAllocated === 8 || bitsAllocated === 16)) {
    image = grey(opened, frame, options)
  } else if (photometric === 'RGB' && samples === 3 && bitsAllocated === 8) {
    image = rgb(opened, frame)
  } else {
    throw notAcceptable(`peerpacs renders 8/16-bit MONOCHROME1/2 and 8-bit RGB; this instance is ${photometric || 'unknown'} with ${samples} sample(s) of ${bitsAllocated} bits`)
  }
  if (options.viewport !== undefined) {
    const m = /^\s*(\d{1,5})\s*,\s*(\d{1,5})/.exec(options.viewport)
    if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) throw badRequest('viewport must be "width,height" in pixels')
    image = fitInside(image, Number(m[1]), Number(m[2]))
  } else if (options.fit !== undefined && (image.columns > options.fit || image.rows > options.fit)) {
    image = fitInside(image, options.fit, options.fit)
  }
  return encodePng(image.pixels, image.columns, image.rows, image.channels)
}
