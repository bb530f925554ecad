/**
 * multipart/related (RFC 2387 over RFC 2046 §5.1) as a stream, both ways. STOW-RS bodies can be
 * whole studies, so the reader hands out each part's bytes as they arrive and never holds more
 * than one network chunk plus a boundary's length; a part that its consumer abandons is skipped
 * to the next delimiter. The writer frames WADO-RS responses part by part.
 */
import { utf8Encode } from '../../protocol/bytes.ts'
import { PeerpacsError } from '../../protocol/errors.ts'

/** The body does not follow multipart framing (no delimiter, unterminated headers, cut short). */
export class MultipartError extends PeerpacsError {
  static readonly code = 'MULTIPART'
  constructor (message: string) { super(MultipartError.code, message) }
}

export interface MediaType {
  /** Lower case, without parameters: 'multipart/related'. */
  readonly type: string
  /** Parameter names lower case, values unquoted. */
  readonly params: Readonly<Record<string, string>>
}

/** Parses `type/subtype; a=b; c="d"`; undefined when it is not a media type. */
export function parseMediaType (text: string): MediaType | undefined {
  const match = /^\s*([!#$%&'*+.^_`|~\w-]+\/[!#$%&'*+.^_`|~\w-]+)\s*(.*)$/s.exec(text)
  if (match === null) return undefined
  const params: Record<string, string> = {}
  let rest = match[2]!
  const param = /^;\s*([!#$%&'*+.^_`|~\w-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]*)\s*/s
  while (rest.length > 0) {
    if (/^;\s*$/.test(rest)) break
    const p = param.exec(rest)
    if (p === null) return undefined
    params[p[1]!.toLowerCase()] = p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2]!
    rest = rest.slice(p[0].length)
  }
  return { type: match[1]!.toLowerCase(), params }
}

export interface Part {
  /** Header names lower case. */
  readonly headers: Readonly<Record<string, string>>
  /** The part's bytes; must be read to its end or abandoned (return()) before the next part. */
  readonly body: AsyncIterable<Uint8Array>
}

const latin1 = new TextDecoder('latin1')
const CRLF = utf8Encode('\r\n')
const MAX_PREAMBLE = 64 * 1024
const MAX_HEADERS = 16 * 1024

function indexOf (haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]
  const last = haystack.length - needle.length
  outer: for (let i = haystack.indexOf(first!, from); i !== -1 && i <= last; i = haystack.indexOf(first!, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/**
 * The longest boundary accepted. RFC 2046 allows 1-70 characters, but real clients send more
 * (Orthanc's DICOMweb plugin sends two UUIDs joined by "-", 73): be liberal in what is accepted.
 */
export const MAX_BOUNDARY = 200

/**
 * A boundary parameter (already unquoted) that this reader can use: 1-MAX_BOUNDARY printable
 * ASCII characters, not ending in a space. RFC 2046's bchars are a subset of that; the rest
 * (e.g. "@" or "%") is accepted too since it cannot confuse the delimiter search.
 */
export function checkBoundary (boundary: string): void {
  if (boundary.length === 0) throw new MultipartError('the Content-Type has an empty boundary parameter')
  if (boundary.length > MAX_BOUNDARY) throw new MultipartError(`the multipart boundary is ${boundary.length} characters long; peerpacs accepts up to ${MAX_BOUNDARY} (RFC 2046 allows 70)`)
  if (!/^[ -~]+$/.test(boundary)) throw new MultipartError('the multipart boundary holds characters other than printable ASCII (RFC 2046 allows letters, digits, space and \'()+_,-./:=?)')
  if (boundary.endsWith(' ')) throw new MultipartError('the multipart boundary ends with a space, which RFC 2046 does not allow (a space is read as padding)')
}

/**
 * Reads the parts of a multipart body from `source`. Throws MultipartError when the framing is
 * broken; a part cut short makes that part's body throw.
 */
export async function * readMultipart (source: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  checkBoundary(boundary)
  const delimiter = utf8Encode(`\r\n--${boundary}`)
  const iterator = source[Symbol.asyncIterator]()
  // A virtual CRLF in front lets a body that starts with the delimiter line match like the rest.
  let buffer: Uint8Array = CRLF
  let ended = false

  const more = async (): Promise<boolean> => {
    if (ended) return false
    const next = await iterator.next()
    if (next.done === true) { ended = true; return false }
    buffer = concat(buffer, next.value)
    return true
  }

  try {
    // The preamble, up to the first delimiter.
    for (;;) {
      const at = indexOf(buffer, delimiter)
      if (at !== -1) { buffer = buffer.subarray(at + delimiter.length); break }
      if (buffer.length > MAX_PREAMBLE + delimiter.length) throw new MultipartError(`no multipart delimiter "--${boundary}" in the first ${MAX_PREAMBLE} bytes of the body`)
      if (!await more()) throw new MultipartError(`the body holds no multipart delimiter "--${boundary}"`)
    }
    for (;;) {
      // After a delimiter: "--" closes the body; otherwise optional padding, then CRLF.
      while (buffer.length < 2) if (!await more()) throw new MultipartError('the body ends right after a multipart delimiter (no closing "--")')
      if (buffer[0] === 0x2d && buffer[1] === 0x2d) return
      let lineEnd: number
      for (;;) {
        lineEnd = indexOf(buffer, CRLF)
        if (lineEnd !== -1) break
        if (buffer.length > 1024 || !await more()) throw new MultipartError('a multipart delimiter line does not end with CRLF')
      }
      if (!/^[ \t]*$/.test(latin1.decode(buffer.subarray(0, lineEnd)))) throw new MultipartError('a multipart delimiter is followed by unexpected characters')
      buffer = buffer.subarray(lineEnd + 2)
      // Headers: lines up to an empty line (which may be the first).
      const headers: Record<string, string> = {}
      let headerEnd: number
      for (;;) {
        headerEnd = buffer[0] === 0x0d && buffer[1] === 0x0a ? -2 : indexOf(buffer, utf8Encode('\r\n\r\n'))
        if (headerEnd !== -1) break
        if (buffer.length > MAX_HEADERS) throw new MultipartError(`a part's headers are longer than ${MAX_HEADERS} bytes`)
        if (!await more()) throw new MultipartError('the body ends inside a part\'s headers')
      }
      if (headerEnd >= 0) {
        const text = latin1.decode(buffer.subarray(0, headerEnd))
        for (const line of text.split('\r\n')) {
          const colon = line.indexOf(':')
          if (colon <= 0) throw new MultipartError('a part header line has no "name: value" form')
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
        }
      }
      buffer = buffer.subarray(headerEnd + 4)

      // The body, up to the next delimiter.
      let done = false
      let failure: MultipartError | undefined
      async function * body (): AsyncGenerator<Uint8Array> {
        for (;;) {
          const at = indexOf(buffer, delimiter)
          if (at !== -1) {
            const piece = buffer.slice(0, at)
            buffer = buffer.subarray(at + delimiter.length)
            done = true
            if (piece.length > 0) yield piece
            return
          }
          const keep = delimiter.length - 1
          if (buffer.length > keep) {
            const piece = buffer.slice(0, buffer.length - keep)
            buffer = buffer.subarray(buffer.length - keep)
            yield piece
          }
          if (!await more()) {
            failure = new MultipartError('the body ends inside a part (no closing multipart delimiter)')
            throw failure
          }
        }
      }
      const consumer = body()
      yield { headers, body: consumer }
      if (failure !== undefined) throw failure
      // Whatever the consumer left unread is skipped.
      if (!done) {
        for await (const piece of body()) { void piece }
        if (failure !== undefined) throw failure
      }
    }
  } finally {
    if (!ended) await iterator.return?.()
  }
}

/** Frames parts for a streamed multipart/related response. */
export function partHeader (boundary: string, contentType: string, extra: Record<string, string> = {}): Uint8Array {
  const lines = [`--${boundary}`, `Content-Type: ${contentType}`, ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`)]
  return utf8Encode(lines.join('\r\n') + '\r\n\r\n')
}

export function partSeparator (): Uint8Array { return CRLF }

export function closing (boundary: string): Uint8Array { return utf8Encode(`--${boundary}--\r\n`) }

export function newBoundary (): string {
  return `peerpacs-${crypto.randomUUID()}`
}
