/**
 * `/peerpacs/blocks/1.0.0`: fetching the blocks of a stored object (DESIGN "Blobs",
 * "Replication"). Pure functions over bytes; this comment is the spec (docs/protocol.md "/peerpacs/blocks/1.0.0" says
 * the same at more length).
 *
 * A blob is cut into blocks of BLOCK_SIZE = 2^20 bytes (the last may be short; an empty blob has
 * none). The receiver already knows, from the signed log, the blob's size and the SHA-256 of
 * every block, so it checks each block on arrival and needs no key; the server needs no digest.
 *
 * Framing. The client opens a stream and sends requests; the server answers them in the order
 * they came, and within a request in the order of its indexes. Every message is one frame:
 *
 *   frame = varint(length) ‖ body        unsigned LEB128, minimal (a receiver refuses any other)
 *   body  = kind (1 byte) ‖ fields       integers unsigned big-endian
 *
 * Client → server (at most MAX_REQUEST_FRAME = 291 bytes):
 *   0x01 RANGE  blob (32) ‖ first (u32) ‖ count (u16)          exactly 39 bytes
 *               blocks first … first+count-1; 1 ≤ count ≤ 64; first+count-1 ≤ 2^32-1
 *   0x02 LIST   blob (32) ‖ n (u16) ‖ n × index (u32)          exactly 35 + 4n bytes
 *               1 ≤ n ≤ 64, indexes strictly increasing
 *
 * Server → client (at most MAX_ANSWER_FRAME = 5 + 2^20 bytes):
 *   0x81 BLOCK     index (u32) ‖ the block's bytes (1 … 2^20)   one per requested index
 *   0x82 NOT_HELD  blob (32)                  the whole request: the server has no such blob
 *   0x83 REFUSED   blob (32)                  the whole request: this peer may not have it
 *   0x84 ERROR     code (u8) ‖ UTF-8 message (≤ 256 bytes); the server then ends the stream
 *                  1 bad-request (it also resets the stream), 2 out-of-range (an index at or
 *                  beyond the stored blob's block count), 3 unavailable (reading failed)
 *
 * NOT_HELD and REFUSED replace all the blocks of a request and only come before its first block;
 * a server may answer a later request on the same stream normally.
 *
 * Limits. A receiver resets the stream on a frame announced longer than its direction's maximum,
 * before buffering it. A server waits at most REQUEST_IDLE_TIMEOUT_MS for the next request (then
 * closes), at most SEND_TIMEOUT_MS for the client to take a frame (then resets), and may reset a
 * stream with more than MAX_UNREAD_REQUEST_BYTES of requests waiting unread. A client gives up on
 * a peer that sends no frame for ANSWER_TIMEOUT_MS while it has requests outstanding. Every
 * decoder here is strict: an unknown kind or error code, a wrong length, an index out of range
 * or out of order is a BlocksProtocolError naming what arrived.
 */
import { blobIdBytes, BLOCK_SIZE, parseBlobId, type BlobId } from '../blob-id.ts'
import { expectBytes } from '../bytes.ts'
import { toHex } from '../encoding.ts'
import { PeerpacsError, type ErrorOptions } from '../errors.ts'

export const BLOCKS_PROTOCOL = '/peerpacs/blocks/1.0.0'

export const MAX_REQUEST_BLOCKS = 64
export const MAX_BLOCK_INDEX = 0xffffffff
export const MAX_ERROR_MESSAGE_BYTES = 256
export const MAX_REQUEST_FRAME = 1 + 32 + 2 + 4 * MAX_REQUEST_BLOCKS
export const MAX_ANSWER_FRAME = 1 + 4 + BLOCK_SIZE
export const MAX_UNREAD_REQUEST_BYTES = 64 * 1024
export const REQUEST_IDLE_TIMEOUT_MS = 30_000
export const SEND_TIMEOUT_MS = 60_000
export const ANSWER_TIMEOUT_MS = 30_000

export const KIND = {
  range: 0x01,
  list: 0x02,
  block: 0x81,
  notHeld: 0x82,
  refused: 0x83,
  error: 0x84
} as const

const RANGE_LENGTH = 1 + 32 + 4 + 2
const LIST_HEADER = 1 + 32 + 2
const BLOCK_HEADER = 1 + 4
const ID_ANSWER_LENGTH = 1 + 32

export const ERROR_CODES = { 'bad-request': 1, 'out-of-range': 2, unavailable: 3 } as const
export type BlocksErrorCode = keyof typeof ERROR_CODES

/** A frame of /peerpacs/blocks that breaks the spec above. */
export class BlocksProtocolError extends PeerpacsError {
  static readonly code = 'BLOCKS_PROTOCOL'
  constructor (message: string, options?: ErrorOptions) { super(BlocksProtocolError.code, message, options) }
}

export interface BlocksRequest {
  readonly type: 'request'
  readonly blob: BlobId
  /** Strictly increasing, 1 … MAX_REQUEST_BLOCKS of them. */
  readonly indexes: readonly number[]
}

export type BlocksAnswer =
  | { readonly type: 'block', readonly index: number, readonly bytes: Uint8Array }
  | { readonly type: 'not-held', readonly blob: BlobId }
  | { readonly type: 'refused', readonly blob: BlobId }
  | { readonly type: 'error', readonly code: BlocksErrorCode, readonly message: string }

export function isBlockAnswer (a: BlocksAnswer): a is Extract<BlocksAnswer, { type: 'block' }> { return a.type === 'block' }

function kindName (kind: number): string { return `0x${kind.toString(16).padStart(2, '0')}` }

function view (bytes: Uint8Array): DataView { return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) }

function checkIndexes (indexes: readonly number[], what: string): void {
  if (!Array.isArray(indexes)) throw new BlocksProtocolError(`${what}: expected an array of block indexes`)
  if (indexes.length < 1 || indexes.length > MAX_REQUEST_BLOCKS) {
    throw new BlocksProtocolError(`${what}: a request names 1 to ${MAX_REQUEST_BLOCKS} blocks, got ${indexes.length}`)
  }
  let previous = -1
  for (const [i, index] of indexes.entries()) {
    if (!Number.isInteger(index) || index < 0 || index > MAX_BLOCK_INDEX) {
      throw new BlocksProtocolError(`${what}: index ${i} is ${String(index)}, expected an integer in 0 … ${MAX_BLOCK_INDEX}`)
    }
    if (index <= previous) throw new BlocksProtocolError(`${what}: indexes must be strictly increasing, got ${index} after ${previous}`)
    previous = index
  }
}

/** One request for `indexes` of `blob`: a RANGE when they are consecutive, else a LIST. */
export function encodeRequest (blob: BlobId, indexes: readonly number[]): Uint8Array {
  const id = blobIdBytes(blob)
  checkIndexes(indexes, 'encodeRequest')
  const first = indexes[0]!
  const consecutive = indexes[indexes.length - 1] === first + indexes.length - 1
  const out = new Uint8Array(consecutive ? RANGE_LENGTH : LIST_HEADER + 4 * indexes.length)
  const v = view(out)
  out.set(id, 1)
  if (consecutive) {
    out[0] = KIND.range
    v.setUint32(33, first)
    v.setUint16(37, indexes.length)
  } else {
    out[0] = KIND.list
    v.setUint16(33, indexes.length)
    indexes.forEach((index, i) => v.setUint32(LIST_HEADER + 4 * i, index))
  }
  return out
}

export function decodeRequest (frame: Uint8Array): BlocksRequest {
  expectBytes(frame, 'decodeRequest(frame)')
  if (frame.length === 0) throw new BlocksProtocolError('request: empty frame (expected a kind byte)')
  if (frame.length > MAX_REQUEST_FRAME) throw new BlocksProtocolError(`request: ${frame.length} bytes, more than the ${MAX_REQUEST_FRAME} a request may have`)
  const kind = frame[0]!
  const v = view(frame)
  if (kind === KIND.range) {
    if (frame.length !== RANGE_LENGTH) throw new BlocksProtocolError(`range request: expected ${RANGE_LENGTH} bytes, got ${frame.length}`)
    const first = v.getUint32(33)
    const count = v.getUint16(37)
    if (count < 1 || count > MAX_REQUEST_BLOCKS) throw new BlocksProtocolError(`range request: count ${count}, expected 1 … ${MAX_REQUEST_BLOCKS}`)
    if (first + count - 1 > MAX_BLOCK_INDEX) throw new BlocksProtocolError(`range request: blocks ${first} … ${first + count - 1} run past index ${MAX_BLOCK_INDEX}`)
    return { type: 'request', blob: toHex(frame.subarray(1, 33)) as BlobId, indexes: Array.from({ length: count }, (_, i) => first + i) }
  }
  if (kind === KIND.list) {
    if (frame.length < LIST_HEADER) throw new BlocksProtocolError(`list request: ${frame.length} bytes, shorter than its ${LIST_HEADER}-byte header`)
    const n = v.getUint16(33)
    if (n < 1 || n > MAX_REQUEST_BLOCKS) throw new BlocksProtocolError(`list request: ${n} indexes, expected 1 … ${MAX_REQUEST_BLOCKS}`)
    if (frame.length !== LIST_HEADER + 4 * n) throw new BlocksProtocolError(`list request of ${n} indexes: expected ${LIST_HEADER + 4 * n} bytes, got ${frame.length}`)
    const indexes = Array.from({ length: n }, (_, i) => v.getUint32(LIST_HEADER + 4 * i))
    checkIndexes(indexes, 'list request')
    return { type: 'request', blob: toHex(frame.subarray(1, 33)) as BlobId, indexes }
  }
  throw new BlocksProtocolError(`request: unknown kind ${kindName(kind)} (expected 0x01 range or 0x02 list)`)
}

/** The 5 bytes before a block's bytes in a BLOCK frame (so a server sends the block without copying it). */
export function encodeBlockHeader (index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > MAX_BLOCK_INDEX) throw new BlocksProtocolError(`block: index ${String(index)} is not in 0 … ${MAX_BLOCK_INDEX}`)
  const out = new Uint8Array(BLOCK_HEADER)
  out[0] = KIND.block
  view(out).setUint32(1, index)
  return out
}

export function encodeBlock (index: number, bytes: Uint8Array): Uint8Array {
  expectBytes(bytes, 'encodeBlock(bytes)')
  if (bytes.length < 1 || bytes.length > BLOCK_SIZE) throw new BlocksProtocolError(`block: ${bytes.length} bytes, expected 1 … ${BLOCK_SIZE}`)
  const out = new Uint8Array(BLOCK_HEADER + bytes.length)
  out.set(encodeBlockHeader(index))
  out.set(bytes, BLOCK_HEADER)
  return out
}

export function encodeNotHeld (blob: BlobId): Uint8Array { return idAnswer(KIND.notHeld, blob) }
export function encodeRefused (blob: BlobId): Uint8Array { return idAnswer(KIND.refused, blob) }

function idAnswer (kind: number, blob: BlobId): Uint8Array {
  const out = new Uint8Array(ID_ANSWER_LENGTH)
  out[0] = kind
  out.set(blobIdBytes(parseBlobId(blob)), 1)
  return out
}

/** An ERROR frame; a message longer than 256 bytes is cut (on a character boundary). */
export function encodeError (code: BlocksErrorCode, message: string): Uint8Array {
  const value = ERROR_CODES[code]
  if (value === undefined) throw new BlocksProtocolError(`error: unknown code ${JSON.stringify(code)}`)
  let text = new TextEncoder().encode(message)
  if (text.length > MAX_ERROR_MESSAGE_BYTES) {
    let end = MAX_ERROR_MESSAGE_BYTES
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--
    text = text.subarray(0, end)
  }
  const out = new Uint8Array(2 + text.length)
  out[0] = KIND.error
  out[1] = value
  out.set(text, 2)
  return out
}

const CODE_NAMES = new Map<number, BlocksErrorCode>(Object.entries(ERROR_CODES).map(([name, value]) => [value, name as BlocksErrorCode]))
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function decodeAnswer (frame: Uint8Array): BlocksAnswer {
  expectBytes(frame, 'decodeAnswer(frame)')
  if (frame.length === 0) throw new BlocksProtocolError('answer: empty frame (expected a kind byte)')
  if (frame.length > MAX_ANSWER_FRAME) throw new BlocksProtocolError(`answer: ${frame.length} bytes, more than the ${MAX_ANSWER_FRAME} an answer may have`)
  const kind = frame[0]!
  switch (kind) {
    case KIND.block: {
      if (frame.length < BLOCK_HEADER + 1) throw new BlocksProtocolError(`block: ${frame.length} bytes, expected a ${BLOCK_HEADER}-byte header and at least one byte of block`)
      return { type: 'block', index: view(frame).getUint32(1), bytes: frame.subarray(BLOCK_HEADER) }
    }
    case KIND.notHeld:
    case KIND.refused: {
      const name = kind === KIND.notHeld ? 'not-held' : 'refused'
      if (frame.length !== ID_ANSWER_LENGTH) throw new BlocksProtocolError(`${name}: expected ${ID_ANSWER_LENGTH} bytes, got ${frame.length}`)
      return { type: name, blob: toHex(frame.subarray(1)) as BlobId }
    }
    case KIND.error: {
      if (frame.length < 2) throw new BlocksProtocolError('error: expected a code byte after the kind')
      const code = CODE_NAMES.get(frame[1]!)
      if (code === undefined) throw new BlocksProtocolError(`error: unknown code ${frame[1]} (expected 1 bad-request, 2 out-of-range or 3 unavailable)`)
      if (frame.length - 2 > MAX_ERROR_MESSAGE_BYTES) throw new BlocksProtocolError(`error: a ${frame.length - 2}-byte message, more than ${MAX_ERROR_MESSAGE_BYTES}`)
      let message: string
      try {
        message = strictUtf8.decode(frame.subarray(2))
      } catch (cause) {
        throw new BlocksProtocolError('error: the message is not valid UTF-8', { cause })
      }
      return { type: 'error', code, message }
    }
    default:
      throw new BlocksProtocolError(`answer: unknown kind ${kindName(kind)} (expected 0x81 block, 0x82 not-held, 0x83 refused or 0x84 error)`)
  }
}

/** Unsigned LEB128, minimal: the length prefix of every frame. */
export function encodeVarint (value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new BlocksProtocolError(`varint: ${String(value)} is not a non-negative safe integer`)
  const out: number[] = []
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    out.push(byte)
  } while (value > 0)
  return Uint8Array.from(out)
}
