/**
 * A log op: the signed, canonical record of one change (docs/protocol.md "Op").
 *
 *   payload  = canonical {org, author, seq, parents, type, body, time}
 *   op bytes = encodeEnvelope(signEnvelope(node key, "peerpacs/op/v1", payload))
 *   op id    = SHA-256(op bytes)
 *
 * decodeOp is validation step 1 (the op alone): size, envelope, domain, signature, canonical
 * payload, field types and bounds, parents sorted and unique, the body per its type. Anything
 * else throws OpRejectedError with a reason; nothing about the set is assumed here.
 *
 * `{ signature: 'trusted' }` is for bytes this node verified before and whose identity it can
 * prove (its own journal under a MACed checkpoint, node/log/journal-checkpoint.ts): it skips the
 * Ed25519 check (with the small-order key check that belongs to it) and the canonical-encoding
 * check by re-encoding (the two costs that dominate a journal load: both were passed by these
 * exact bytes); every other check runs. Bytes from anywhere else are always fully checked.
 */
import { describe, equalBytes, expectBytes, expectInteger, expectObject, isBytes } from '../bytes.ts'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../canonical.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import { toHex } from '../encoding.ts'
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope } from '../envelope.ts'
import { DecodeError, InvalidArgumentError, NotCanonicalError, PeerpacsError } from '../errors.ts'
import { isOrgId } from '../genesis.ts'
import { nodeIdFromPublicKey, type NodeId, type NodeKeyPair } from '../identity.ts'
import { BODY_CODECS, isOpType, type OpBodies, type OpType } from './bodies.ts'
import { OpRejectedError } from './errors.ts'
import { expectAscending } from './fields.ts'

export const OP_DOMAIN = 'peerpacs/op/v1'
export const MAX_OP_BYTES = 256 * 1024
export const MAX_PARENTS = 32
export const MAX_TYPE_LENGTH = 64

export type OpIdHex = string & { readonly __brand: 'OpId' }

export interface OpFields<T extends OpType = OpType> {
  /** The org id, or "" for the genesis op. */
  org: string
  seq: number
  parents: readonly Uint8Array[]
  type: T
  body: OpBodies[T]
  /** Author's clock, ms since 1970; informative only. */
  time: number
}

interface SignedOpBase {
  readonly id: Uint8Array
  readonly idHex: OpIdHex
  readonly bytes: Uint8Array
  readonly org: string
  readonly author: Uint8Array
  readonly authorId: NodeId
  readonly seq: number
  /** Sorted ascending, unique. */
  readonly parents: readonly Uint8Array[]
  readonly time: number
}

/** A decoded, signature-checked op; a union on `type`, so `body` is typed by it. */
export type SignedOp = { [T in OpType]: SignedOpBase & { readonly type: T, readonly body: OpBodies[T] } }[OpType]
export type SignedOpOf<T extends OpType> = SignedOpBase & { readonly type: T, readonly body: OpBodies[T] }

const PAYLOAD_KEYS = ['author', 'body', 'org', 'parents', 'seq', 'time', 'type']

function checkShape (org: unknown, seq: unknown, parents: readonly unknown[], type: string): string | undefined {
  const genesis = type === 'org.genesis'
  if (genesis) {
    if (org !== '') return 'the genesis op has org ""'
    if (seq !== 1) return 'the genesis op has seq 1'
    if (parents.length !== 0) return 'the genesis op has no parents'
    return undefined
  }
  if (!isOrgId(org)) return 'org: expected 64 lowercase hex digits'
  if (parents.length < 1 || parents.length > MAX_PARENTS) return `parents: expected 1 to ${MAX_PARENTS}, got ${parents.length}`
  return undefined
}

/** Signs a new op. Throws InvalidArgumentError for fields a decoder would refuse. */
export function createOp<T extends OpType> (provider: CryptoProvider, key: NodeKeyPair, fields: OpFields<T>): SignedOpOf<T> {
  expectProvider(provider, 'createOp(provider)')
  expectObject(key, 'createOp(key)')
  expectObject(fields, 'createOp(fields)')
  if (!isOpType(fields.type)) throw new InvalidArgumentError(`createOp(type): unknown op type ${describe(fields.type)}`)
  expectInteger(fields.seq, 'createOp(seq)', 1)
  expectInteger(fields.time, 'createOp(time)')
  if (!Array.isArray(fields.parents)) throw new InvalidArgumentError('createOp(parents): expected an array')
  fields.parents.forEach((p, i) => expectBytes(p, `createOp(parents[${i}])`, 32))
  const parents = [...fields.parents].sort(compareParents)
  const shape = checkShape(fields.org, fields.seq, parents, fields.type)
  if (shape !== undefined) throw new InvalidArgumentError(`createOp: ${shape}`)
  try { expectAscending(parents, 'parents') } catch { throw new InvalidArgumentError('createOp(parents): a parent is listed twice') }
  const codec = BODY_CODECS[fields.type] as { encode (b: OpBodies[T]): CanonicalValue }
  const payload = encodeCanonical({
    org: fields.org,
    author: expectBytes(key.publicKey, 'createOp(key.publicKey)', 32),
    seq: fields.seq,
    parents,
    type: fields.type,
    body: codec.encode(fields.body),
    time: fields.time
  })
  const bytes = encodeEnvelope(signEnvelope(key, OP_DOMAIN, payload, provider))
  if (bytes.length > MAX_OP_BYTES) throw new InvalidArgumentError(`createOp: the op is ${bytes.length} bytes, over the limit of ${MAX_OP_BYTES}; split the body over several ops`)
  try {
    return decodeOp(provider, bytes) as SignedOpOf<T>
  } catch (cause) {
    throw new InvalidArgumentError(`createOp: the op would be refused: ${(cause as Error).message}`, { cause })
  }
}

function compareParents (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

function reject (cause: unknown, fallback: 'malformed' | 'bad-body'): never {
  if (cause instanceof OpRejectedError) throw cause
  const message = (cause as Error).message
  if (cause instanceof NotCanonicalError) throw new OpRejectedError('not-canonical', message, { cause })
  if (cause instanceof PeerpacsError && cause.code === 'BAD_SIGNATURE') throw new OpRejectedError('signature', message, { cause })
  throw new OpRejectedError(fallback, message, { cause })
}

export interface DecodeOpOptions {
  /** 'verify' (default): the signature is checked; 'trusted': it was, earlier, by this node (see the header). */
  readonly signature?: 'verify' | 'trusted'
}

/** Node ids of recent authors: an org has few, and base58 costs more than the rest of a trusted decode. */
const AUTHOR_IDS = new Map<string, NodeId>()
const MAX_AUTHOR_IDS = 4096

function authorIdOf (publicKey: Uint8Array): NodeId {
  const hex = toHex(publicKey)
  let id = AUTHOR_IDS.get(hex)
  if (id === undefined) {
    if (AUTHOR_IDS.size >= MAX_AUTHOR_IDS) AUTHOR_IDS.clear()
    id = nodeIdFromPublicKey(publicKey)
    AUTHOR_IDS.set(hex, id)
  }
  return id
}

/** Validation step 1: the op alone. Throws OpRejectedError. */
export function decodeOp (provider: CryptoProvider, bytes: Uint8Array, options: DecodeOpOptions = {}): SignedOp {
  expectProvider(provider, 'decodeOp(provider)')
  expectBytes(bytes, 'decodeOp(bytes)')
  const signature = options.signature ?? 'verify'
  if (signature !== 'verify' && signature !== 'trusted') throw new InvalidArgumentError(`decodeOp(options.signature): expected 'verify' or 'trusted', got ${describe(signature)}`)
  const trusted = signature === 'trusted'
  if (bytes.length > MAX_OP_BYTES) throw new OpRejectedError('too-large', `op of ${bytes.length} bytes exceeds the limit of ${MAX_OP_BYTES}`)
  let envelope
  let value: CanonicalValue
  try {
    envelope = decodeEnvelope(bytes, MAX_OP_BYTES, { knownCanonical: trusted })
    if (envelope.domain !== OP_DOMAIN) throw new OpRejectedError('malformed', `envelope is for "${envelope.domain.slice(0, 64)}", expected "${OP_DOMAIN}"`)
    if (!trusted) verifyEnvelope(provider, envelope, OP_DOMAIN)
    value = decodeCanonical(envelope.payload, MAX_OP_BYTES, { knownCanonical: trusted })
  } catch (cause) {
    reject(cause, 'malformed')
  }
  let map: { [key: string]: CanonicalValue }
  let type: string
  try {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || isBytes(value)) throw new DecodeError('payload: expected a map')
    map = value
    const keys = Object.keys(map).sort()
    if (keys.join() !== PAYLOAD_KEYS.join()) throw new DecodeError(`payload: expected keys ${PAYLOAD_KEYS.join(', ')}; got ${keys.map((k) => k.slice(0, 40)).join(', ')}`)
    const t = map.type
    if (typeof t !== 'string' || t.length < 1 || t.length > MAX_TYPE_LENGTH) throw new DecodeError(`type: expected 1 to ${MAX_TYPE_LENGTH} characters`)
    type = t
    if (!isBytes(map.author) || !equalBytes(map.author, envelope.signer)) throw new DecodeError('author: expected the signer\'s 32-byte public key')
    if (typeof map.seq !== 'number' || map.seq < 1) throw new DecodeError('seq: expected an integer ≥ 1')
    if (typeof map.time !== 'number' || map.time < 0) throw new DecodeError('time: expected an integer ≥ 0')
    if (typeof map.org !== 'string') throw new DecodeError('org: expected text')
    const parents = map.parents
    if (!Array.isArray(parents) || !parents.every((p) => isBytes(p) && p.length === 32)) throw new DecodeError('parents: expected an array of 32-byte ids')
    expectAscending(parents as Uint8Array[], 'parents')
    if (!isOpType(type)) throw new OpRejectedError('unknown-type', `op type ${JSON.stringify(type)} is not known`)
    const shape = checkShape(map.org, map.seq, parents, type)
    if (shape !== undefined) throw new DecodeError(shape)
  } catch (cause) {
    reject(cause, 'malformed')
  }
  let body: unknown
  try {
    body = (BODY_CODECS[type as OpType] as { decode (v: CanonicalValue, p: CryptoProvider): unknown }).decode(map.body!, provider)
  } catch (cause) {
    reject(cause, 'bad-body')
  }
  const id = provider.sha256(bytes)
  return {
    id,
    idHex: toHex(id) as OpIdHex,
    bytes,
    org: map.org as string,
    author: envelope.signer,
    authorId: authorIdOf(envelope.signer),
    seq: map.seq as number,
    parents: map.parents as Uint8Array[],
    type,
    body,
    time: map.time as number
  } as SignedOp
}
