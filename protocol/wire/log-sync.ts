/**
 * `/peerpacs/log/1.1.0` messages (docs/protocol.md "Log sync"). Each message is one
 * length-prefixed frame (unsigned varint length, then the bytes) holding a canonical CBOR map
 * with a kind `t`:
 *
 *   hello  { t: 'hello', org: text, vector: { <author public key hex>: seq, ... } }
 *          the sender's version vector: for each author, the highest seq n such that it holds
 *          every op 1..n of that author.
 *          1.1.0 adds tips: { <author public key hex>: op id (32 bytes), ... }, for each author
 *          of the vector the id of the op the sender holds at that seq (the lowest id if it holds
 *          several). Equal seqs with different tips mean the two sides hold different ops at one
 *          (author, seq): a fork the vector alone cannot show. The receiver then sends every op
 *          of that author, so both sides end up holding the fork's evidence. 1.0.0 (still
 *          spoken with older nodes) is the same without tips.
 *   ops    { t: 'ops', ops: [ op bytes, ... ] }     signed ops, parents before children
 *   done   { t: 'done' }                            the sender has nothing more on this stream
 *   push   { t: 'push', ops: [ op bytes, ... ] }    new ops, sent unasked on a fresh stream
 *
 * A sync stream: the dialer sends hello; the listener answers hello, then ops the dialer lacks,
 * then done; the dialer then sends the ops the listener lacks, then done. One round trip, and
 * the bytes sent are the ops the other side lacks (plus the vectors). A push stream carries one
 * push frame. Every op is validated by the receiver as any op is (signature, authority, ...).
 *
 * 1.2.0 adds flow control: the receiver of ops or push frames answers each one, once it has
 * handled it, with
 *   ack    { t: 'ack', n: count }                   how many ops/push frames of this stream it has handled
 * and a sender never has more than WINDOW_FRAMES frames unacknowledged: before writing the next
 * it reads acks. A receiver that is slow to verify a catch-up thus holds its sender up instead of
 * buffering without bound. An ack arriving while a side is itself receiving (one left over from
 * its own sending phase) is passed over. 1.1.0 and 1.0.0 streams carry no acks.
 *
 * Limits: a frame is at most MAX_FRAME_BYTES; an ops or push frame holds at most MAX_OPS_PER_FRAME
 * ops; a vector names at most MAX_AUTHORS authors. Anything else is a protocol violation.
 */
import { isBytes } from '../bytes.ts'
import { decodeCanonical, encodeCanonical, type CanonicalMap, type CanonicalValue } from '../canonical.ts'
import { PeerpacsError } from '../errors.ts'
import { MAX_OP_BYTES } from '../log/op.ts'

export const LOG_PROTOCOL = '/peerpacs/log/1.2.0'
/** Without acks (still spoken with older nodes). */
export const LOG_PROTOCOL_1_1 = '/peerpacs/log/1.1.0'
/** The first version: the same messages as 1.1.0, hello without tips (still spoken with older nodes). */
export const LOG_PROTOCOL_1_0 = '/peerpacs/log/1.0.0'
/** Most ops or push frames a 1.2.0 sender has written and not had acknowledged (~6 MiB). */
export const WINDOW_FRAMES = 8
export const MAX_FRAME_BYTES = 4 * MAX_OP_BYTES + 4096
/** Ops are packed into frames up to this many bytes (one op of MAX_OP_BYTES always fits). */
export const FRAME_TARGET_BYTES = 3 * MAX_OP_BYTES
export const MAX_OPS_PER_FRAME = 4096
export const MAX_AUTHORS = 10_000

export class LogSyncProtocolError extends PeerpacsError {
  static readonly code = 'LOG_SYNC_PROTOCOL'
  constructor (message: string) { super(LogSyncProtocolError.code, message) }
}

export type LogSyncMessage =
  | { readonly t: 'hello', readonly org: string, readonly vector: ReadonlyMap<string, number>, readonly tips?: ReadonlyMap<string, Uint8Array> }
  | { readonly t: 'ops', readonly ops: readonly Uint8Array[] }
  | { readonly t: 'push', readonly ops: readonly Uint8Array[] }
  | { readonly t: 'done' }
  | { readonly t: 'ack', readonly n: number }

const HEX64 = /^[0-9a-f]{64}$/

export function encodeLogSync (message: LogSyncMessage): Uint8Array {
  switch (message.t) {
    case 'hello': {
      const vector: Record<string, CanonicalValue> = {}
      for (const [author, seq] of message.vector) vector[author] = seq
      if (message.tips === undefined) return encodeCanonical({ t: 'hello', org: message.org, vector })
      const tips: Record<string, CanonicalValue> = {}
      for (const [author, id] of message.tips) tips[author] = id
      return encodeCanonical({ t: 'hello', org: message.org, vector, tips })
    }
    case 'ops':
    case 'push':
      return encodeCanonical({ t: message.t, ops: [...message.ops] })
    case 'done':
      return encodeCanonical({ t: 'done' })
    case 'ack':
      return encodeCanonical({ t: 'ack', n: message.n })
  }
}

function keysExactly (map: CanonicalMap, expected: string[], what: string): void {
  const got = Object.keys(map).sort()
  if (got.length !== expected.length || got.some((k, i) => k !== [...expected].sort()[i])) {
    throw new LogSyncProtocolError(`${what}: expected the fields ${expected.join(', ')}, got ${got.join(', ')}`)
  }
}

export function decodeLogSync (frame: Uint8Array): LogSyncMessage {
  if (frame.length > MAX_FRAME_BYTES) throw new LogSyncProtocolError(`frame of ${frame.length} bytes is over the limit of ${MAX_FRAME_BYTES}`)
  let value: CanonicalValue
  try {
    value = decodeCanonical(frame, MAX_FRAME_BYTES)
  } catch (error) {
    throw new LogSyncProtocolError(`frame is not canonical CBOR: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isBytes(value)) throw new LogSyncProtocolError('frame: expected a map')
  const map = value as CanonicalMap
  switch (map.t) {
    case 'hello': {
      keysExactly(map, map.tips === undefined ? ['t', 'org', 'vector'] : ['t', 'org', 'vector', 'tips'], 'hello')
      if (typeof map.org !== 'string' || !HEX64.test(map.org)) throw new LogSyncProtocolError('hello.org: expected an org id (64 lowercase hex digits)')
      const v = map.vector
      if (v === null || typeof v !== 'object' || Array.isArray(v) || isBytes(v)) throw new LogSyncProtocolError('hello.vector: expected a map')
      const entries = Object.entries(v as CanonicalMap)
      if (entries.length > MAX_AUTHORS) throw new LogSyncProtocolError(`hello.vector: ${entries.length} authors, over the limit of ${MAX_AUTHORS}`)
      const vector = new Map<string, number>()
      for (const [author, seq] of entries) {
        if (!HEX64.test(author)) throw new LogSyncProtocolError('hello.vector: keys must be author public keys (64 lowercase hex digits)')
        if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new LogSyncProtocolError(`hello.vector.${author.slice(0, 8)}…: expected a seq (a non-negative integer)`)
        vector.set(author, seq)
      }
      if (map.tips === undefined) return { t: 'hello', org: map.org, vector }
      const tv = map.tips
      if (tv === null || typeof tv !== 'object' || Array.isArray(tv) || isBytes(tv)) throw new LogSyncProtocolError('hello.tips: expected a map')
      const tips = new Map<string, Uint8Array>()
      for (const [author, id] of Object.entries(tv as CanonicalMap)) {
        if (!vector.has(author)) throw new LogSyncProtocolError(`hello.tips: author ${author.slice(0, 8)}… is not in the vector`)
        if (!isBytes(id) || id.length !== 32) throw new LogSyncProtocolError(`hello.tips.${author.slice(0, 8)}…: expected an op id (32 bytes)`)
        tips.set(author, id)
      }
      return { t: 'hello', org: map.org, vector, tips }
    }
    case 'ops':
    case 'push': {
      keysExactly(map, ['t', 'ops'], map.t)
      const ops = map.ops
      if (!Array.isArray(ops)) throw new LogSyncProtocolError(`${map.t}.ops: expected a list`)
      if (ops.length > MAX_OPS_PER_FRAME) throw new LogSyncProtocolError(`${map.t}.ops: ${ops.length} ops, over the limit of ${MAX_OPS_PER_FRAME}`)
      for (const op of ops) {
        if (!isBytes(op)) throw new LogSyncProtocolError(`${map.t}.ops: every op must be a byte string`)
        if (op.length > MAX_OP_BYTES) throw new LogSyncProtocolError(`${map.t}.ops: an op of ${op.length} bytes is over the limit of ${MAX_OP_BYTES}`)
      }
      return { t: map.t, ops: ops as Uint8Array[] }
    }
    case 'done':
      keysExactly(map, ['t'], 'done')
      return { t: 'done' }
    case 'ack':
      keysExactly(map, ['t', 'n'], 'ack')
      if (typeof map.n !== 'number' || !Number.isSafeInteger(map.n) || map.n < 1) throw new LogSyncProtocolError('ack.n: expected a count of frames (a positive integer)')
      return { t: 'ack', n: map.n }
    default:
      throw new LogSyncProtocolError(`frame: unknown kind ${JSON.stringify(typeof map.t === 'string' ? map.t.slice(0, 40) : map.t ?? null)}`)
  }
}

/** Packs op bytes into ops (or push) messages under FRAME_TARGET_BYTES each. */
export function packOps (ops: readonly Uint8Array[], t: 'ops' | 'push' = 'ops'): LogSyncMessage[] {
  const out: LogSyncMessage[] = []
  let current: Uint8Array[] = []
  let size = 0
  for (const op of ops) {
    if (current.length > 0 && (size + op.length > FRAME_TARGET_BYTES || current.length >= MAX_OPS_PER_FRAME)) {
      out.push({ t, ops: current })
      current = []
      size = 0
    }
    current.push(op)
    size += op.length + 4
  }
  if (current.length > 0) out.push({ t, ops: current })
  return out
}
