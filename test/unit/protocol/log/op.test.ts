/**
 * protocol/log/op.ts and the body codecs: frozen bytes for one op of each type (vectors/ops.json,
 * produced by this file from fixed keys and a seeded RandomSource: PEERPACS_UPDATE_VECTORS=1
 * rewrites it), round trips, and every step-1 rejection with its reason.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { encode } from 'cborg'
import { encodeCanonical } from '../../../../protocol/canonical.ts'
import { encodeEnvelope, signEnvelope } from '../../../../protocol/envelope.ts'
import { nodeKeyFromSecret } from '../../../../protocol/identity.ts'
import { blobIdOf } from '../../../../protocol/blob-id.ts'
import type { StudyId } from '../../../../protocol/study-id.ts'
import {
  BODY_CODECS, createEpoch, createOp, createOrg, decodeOp, MAX_OP_BYTES, OP_DOMAIN, OP_TYPES, OpLog, OpRejectedError,
  MAX_BATCH_INSTANCES, type BlobInfo, type OpBodies, type OpType, type RejectReason, type SignedOp
} from '../../../../protocol/log/index.ts'
import { flipBit, h, hx, Rng, sequence } from '../helpers.ts'
import { p } from './fixtures.ts'

const VECTORS = new URL('./vectors/ops.json', import.meta.url)
const founder = nodeKeyFromSecret(sequence(1, 32))
const member = nodeKeyFromSecret(sequence(100, 32))
const recovery = nodeKeyFromSecret(sequence(200, 32))
const STUDY = '00112233445566778899aabbccddeeff' as StudyId

function listed (provider: typeof p, size: number, blockHashes: Uint8Array): BlobInfo {
  return { id: blobIdOf(provider, size, 1 << 20, blockHashes), size, blockSize: 1 << 20, blockHashes }
}

function buildOps (): SignedOp[] {
  const rng = new Rng(7)
  const { op: genesis } = createOrg(p, rng.random, founder, { name: 'Vector Clinic', recoveryPublicKey: recovery.publicKey, time: 1_700_000_000_000 })
  const org = genesis.idHex
  const blockHashes = rng.bytes(64)
  const size = (1 << 20) + 5
  const bodies: { [T in OpType]?: OpBodies[T] } = {
    'member.add': { member: member.publicKey, role: 'site', level: 'write', scope: 'org' },
    'member.set-level': { member: member.publicKey, level: 'read', scope: 'org' },
    'member.addresses': { addresses: ['/ip4/192.0.2.1/tcp/4001', '/dns4/clinic.example/tcp/4001'] },
    'epoch.start': createEpoch(p, rng.random, { org, members: [{ member: founder.publicKey }, { member: member.publicKey }], recoveryPublicKey: recovery.publicKey }).body,
    'study.register': { study: STUDY, epoch: genesis.id, wrappedKey: rng.bytes(72), sealed: rng.bytes(50) },
    'study.instance': { study: STUDY, blob: { id: blobIdOf(p, size, 1 << 20, blockHashes), size, blockSize: 1 << 20, blockHashes }, sealed: rng.bytes(60) },
    'audit.event': { epoch: genesis.id, sealed: rng.bytes(80) },
    'case.update': { study: STUDY, sealed: rng.bytes(30) },
    'member.remove': { member: member.publicKey, scope: 'org', epoch: createEpoch(p, rng.random, { org, members: [{ member: founder.publicKey }], recoveryPublicKey: recovery.publicKey }).body },
    // Added after the others (format 2): the earlier vectors keep their seqs and ids.
    'study.instances': { study: STUDY, blobs: [listed(p, 0, rng.bytes(0)), listed(p, 1000, rng.bytes(32)), listed(p, (2 << 20) + 1, rng.bytes(96))], sealed: rng.bytes(90) }
  }
  // Added with people's accounts (format 3), after the others for the same reason.
  const user = rng.bytes(16)
  for (const type of ['user.add', 'user.update', 'user.disable', 'user.enable'] as const) bodies[type] = { user, epoch: genesis.id, sealed: rng.bytes(48) }
  const ops: SignedOp[] = [genesis]
  let seq = 2
  for (const [type, body] of Object.entries(bodies)) {
    ops.push(createOp(p, founder, { org, seq: seq++, parents: [ops.at(-1)!.id], type: type as OpType, body: body as never, time: 1_700_000_000_000 + seq }) as SignedOp)
  }
  return ops
}

test('frozen vector: one op of each type, bytes and ids; all apply in one log', () => {
  const ops = buildOps()
  assert.deepEqual(new Set(ops.map((o) => o.type)), new Set(OP_TYPES))
  const vector = ops.map((o) => ({ type: o.type, id: o.idHex, bytes: hx(o.bytes) }))
  if (process.env.PEERPACS_UPDATE_VECTORS === '1') {
    writeFileSync(VECTORS, JSON.stringify({ source: 'test/unit/protocol/log/op.test.ts buildOps(): founder seed 01..20, member seed 64..83, recovery seed c8..e7, Rng(7)', ops: vector }, null, 2) + '\n')
  }
  const frozen = JSON.parse(readFileSync(VECTORS, 'utf8')) as { source: string, ops: typeof vector }
  assert.deepEqual(vector, frozen.ops)
  for (const v of frozen.ops) {
    const op = decodeOp(p, h(v.bytes))
    assert.equal(op.idHex, v.id)
    assert.equal(op.type, v.type)
    assert.equal(hx(p.sha256(h(v.bytes))), v.id)
  }
  const log = new OpLog(p, ops[0]!)
  const results = log.addMany(ops.slice(1))
  assert.deepEqual(results.map((r) => r.status), ops.slice(1).map(() => 'applied'))
})

test('round trips: decodeOp(createOp(...).bytes) and every body codec', () => {
  for (const op of buildOps()) {
    const again = decodeOp(p, op.bytes)
    assert.deepEqual(again, op)
    const codec = BODY_CODECS[op.type] as { encode (b: unknown): never, decode (v: never, p: unknown): unknown }
    assert.deepEqual(codec.decode(codec.encode(op.body), p), op.body)
  }
})

function rejects (bytes: Uint8Array, reason: RejectReason): void {
  try {
    decodeOp(p, bytes)
  } catch (error) {
    assert.ok(error instanceof OpRejectedError, String(error))
    assert.equal(error.code, 'OP_REJECTED')
    assert.equal(error.reason, reason, error.message)
    return
  }
  assert.fail(`expected a rejection (${reason})`)
}

function signed (payload: Record<string, unknown>, key = founder, domain = OP_DOMAIN): Uint8Array {
  return encodeEnvelope(signEnvelope(key, domain, encodeCanonical(payload as never)))
}

test('step-1 rejections, each with its reason', () => {
  const ops = buildOps()
  const add = ops[1]!
  const base = { org: ops[0]!.idHex, author: founder.publicKey, seq: 2, parents: [ops[0]!.id], type: 'member.add', body: BODY_CODECS['member.add'].encode(add.body as OpBodies['member.add']), time: 5 }
  assert.equal(decodeOp(p, signed(base)).type, 'member.add')
  // forged signature: a bit of the signature, or of the payload, flipped
  rejects(flipBit(add.bytes, (add.bytes.length - 10) * 8), 'signature')
  rejects(encodeEnvelope({ domain: OP_DOMAIN, payload: encodeCanonical(base as never), signer: founder.publicKey, signature: new Uint8Array(64).fill(7) }), 'signature')
  // signed by another key than the author named
  rejects(signed(base, member), 'malformed')
  rejects(signed(base, founder, 'peerpacs/other/v1'), 'malformed')
  // oversized
  rejects(new Uint8Array(MAX_OP_BYTES + 1), 'too-large')
  // non-canonical: map keys out of canonical order (cborg's default encoder with mapSorter off)
  const loose = encode({ time: 5, type: 'member.add', org: base.org, author: base.author, seq: 2, parents: base.parents, body: base.body }, { mapSorter: () => 0 })
  rejects(encodeEnvelope(signEnvelope(founder, OP_DOMAIN, loose)), 'not-canonical')
  // unknown type; bad bodies
  rejects(signed({ ...base, type: 'member.promote' }), 'unknown-type')
  rejects(signed({ ...base, body: { ...(base.body as object), extra: 1 } }), 'bad-body')
  rejects(signed({ ...base, body: { ...(base.body as object), level: 'owner' } }), 'bad-body')
  rejects(signed({ ...base, type: 'member.addresses', body: { addresses: ['not-a-multiaddr'] } }), 'bad-body')
  // study.instances: a list of 1..MAX_BATCH_INSTANCES distinct blobs, each [size, its block hashes]
  const hashes = new Uint8Array(32).fill(9)
  const instances = (blobs: unknown[]): Record<string, unknown> => ({ ...base, type: 'study.instances', body: { study: STUDY, blockSize: 1 << 20, blobs, sealed: new Uint8Array(40) } })
  assert.equal(decodeOp(p, signed(instances([[10, hashes]]))).type, 'study.instances')
  rejects(signed(instances([])), 'bad-body')
  rejects(signed(instances([[10, hashes], [10, hashes]])), 'bad-body')
  rejects(signed(instances([[10, hashes.subarray(1)]])), 'bad-body')
  rejects(signed(instances([[(1 << 20) + 1, hashes]])), 'bad-body')
  rejects(signed(instances([[-1, new Uint8Array(0)]])), 'bad-body')
  rejects(signed(instances([[10]])), 'bad-body')
  rejects(signed(instances(Array.from({ length: MAX_BATCH_INSTANCES + 1 }, () => [0, new Uint8Array(0)]))), 'bad-body')
  // field types and bounds
  rejects(signed({ ...base, seq: 0 }), 'malformed')
  rejects(signed({ ...base, parents: [] }), 'malformed')
  rejects(signed({ ...base, parents: [ops[2]!.id, ops[1]!.id].sort((a, b) => b[0]! - a[0]!) }), 'malformed')
  rejects(signed({ ...base, parents: [ops[1]!.id, ops[1]!.id] }), 'malformed')
  rejects(signed({ ...base, org: 'ACME' }), 'malformed')
  rejects(signed({ ...base, extra: true }), 'malformed')
  // wrong org: a well-formed op of another org is refused by the log, not stored
  const log = new OpLog(p, ops[0]!)
  const other = signed({ ...base, org: 'ab'.repeat(32) })
  assert.equal(log.add(other).reason, 'wrong-org')
  assert.equal(log.size, 1)
})
