/**
 * The log sync wire format: every message round-trips, ops are packed under the frame target,
 * and a table of malformed frames is refused with LogSyncProtocolError naming what was wrong.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeCanonical } from '../../../../protocol/canonical.ts'
import { MAX_OP_BYTES } from '../../../../protocol/log/index.ts'
import {
  decodeLogSync, encodeLogSync, FRAME_TARGET_BYTES, LogSyncProtocolError, MAX_AUTHORS, MAX_FRAME_BYTES, MAX_OPS_PER_FRAME, packOps
} from '../../../../protocol/wire/log-sync.ts'

const ORG = 'ab'.repeat(32)
const AUTHOR = 'cd'.repeat(32)

test('hello, ops, push and done round-trip', () => {
  const hello = { t: 'hello' as const, org: ORG, vector: new Map([[AUTHOR, 7], ['ef'.repeat(32), 0]]) }
  const back = decodeLogSync(encodeLogSync(hello))
  assert.equal(back.t, 'hello')
  assert.deepEqual(back.t === 'hello' ? [...back.vector] : [], [...hello.vector])
  for (const t of ['ops', 'push'] as const) {
    const ops = [new Uint8Array([1, 2, 3]), new Uint8Array(1000).fill(9)]
    const m = decodeLogSync(encodeLogSync({ t, ops }))
    assert.equal(m.t, t)
    assert.deepEqual(m.t === t ? m.ops.map((o) => [...o]) : [], ops.map((o) => [...o]))
  }
  assert.deepEqual(decodeLogSync(encodeLogSync({ t: 'done' })), { t: 'done' })
  assert.deepEqual(decodeLogSync(encodeLogSync({ t: 'ack', n: 17 })), { t: 'ack', n: 17 })
})

test('1.1.0 hello carries tips (author → op id at its vector seq); bad tips are refused', () => {
  const id = new Uint8Array(32).fill(7)
  const hello = { t: 'hello' as const, org: ORG, vector: new Map([[AUTHOR, 7]]), tips: new Map([[AUTHOR, id]]) }
  const back = decodeLogSync(encodeLogSync(hello))
  assert.ok(back.t === 'hello' && back.tips !== undefined)
  assert.deepEqual([...back.tips.get(AUTHOR)!], [...id])
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ [AUTHOR]: new Uint8Array(31) }, /expected an op id \(32 bytes\)/],
    [{ ['ef'.repeat(32)]: id }, /is not in the vector/],
    [{ [AUTHOR]: 'x' }, /expected an op id/]
  ]
  for (const [tips, reason] of bad) {
    assert.throws(() => decodeLogSync(encodeCanonical({ t: 'hello', org: ORG, vector: { [AUTHOR]: 7 }, tips } as never)), (e: unknown) => e instanceof LogSyncProtocolError && reason.test(e.message))
  }
  assert.throws(() => decodeLogSync(encodeCanonical({ t: 'hello', org: ORG, vector: { [AUTHOR]: 7 }, tips: [1] } as never)), /hello.tips: expected a map/)
})

test('packOps keeps each frame under the target and every op in order', () => {
  const ops = Array.from({ length: 40 }, (_, i) => new Uint8Array(50_000 + i).fill(i))
  const frames = packOps(ops)
  assert.ok(frames.length > 1)
  const flat = frames.flatMap((f) => f.t === 'ops' ? [...f.ops] : [])
  assert.deepEqual(flat.map((o) => o.length), ops.map((o) => o.length))
  for (const f of frames) {
    const bytes = encodeLogSync(f)
    assert.ok(bytes.length <= MAX_FRAME_BYTES)
    if (f.t === 'ops' && f.ops.length > 1) assert.ok(f.ops.reduce((n, o) => n + o.length, 0) <= FRAME_TARGET_BYTES)
  }
  const big = packOps([new Uint8Array(MAX_OP_BYTES), new Uint8Array(MAX_OP_BYTES), new Uint8Array(MAX_OP_BYTES), new Uint8Array(MAX_OP_BYTES)])
  for (const f of big) assert.ok(encodeLogSync(f).length <= MAX_FRAME_BYTES, 'largest ops still fit a frame')
})

test('malformed frames are refused with a precise reason', () => {
  const vector = (entries: Record<string, unknown>): Uint8Array => encodeCanonical({ t: 'hello', org: ORG, vector: entries as never })
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['not CBOR', new Uint8Array([0xff, 0x00, 0x13]), /not canonical CBOR/],
    ['a list', encodeCanonical([1, 2]), /expected a map/],
    ['unknown kind', encodeCanonical({ t: 'gimme' }), /unknown kind "gimme"/],
    ['no kind', encodeCanonical({ x: 1 }), /unknown kind/],
    ['extra field', encodeCanonical({ t: 'done', x: 1 }), /expected the fields t/],
    ['hello without vector', encodeCanonical({ t: 'hello', org: ORG }), /expected the fields/],
    ['bad org', encodeCanonical({ t: 'hello', org: 'nope', vector: {} }), /hello.org/],
    ['vector key not hex', vector({ zz: 1 }), /author public keys/],
    ['negative seq', vector({ [AUTHOR]: -1 }), /non-negative integer/],
    ['seq as text', vector({ [AUTHOR]: '5' }), /non-negative integer/],
    ['ops not a list', encodeCanonical({ t: 'ops', ops: 5 }), /ops.ops: expected a list/],
    ['op not bytes', encodeCanonical({ t: 'push', ops: ['text'] }), /byte string/],
    ['op too large', encodeCanonical({ t: 'ops', ops: [new Uint8Array(MAX_OP_BYTES + 1)] }), /over the limit/],
    ['too many ops', encodeCanonical({ t: 'ops', ops: Array.from({ length: MAX_OPS_PER_FRAME + 1 }, () => new Uint8Array(1)) }), /over the limit of 4096/],
    ['frame too large', new Uint8Array(MAX_FRAME_BYTES + 1), /over the limit/],
    ['ack of zero frames', encodeCanonical({ t: 'ack', n: 0 }), /ack.n: expected a count/],
    ['ack count as text', encodeCanonical({ t: 'ack', n: '3' }), /ack.n: expected a count/],
    ['ack without a count', encodeCanonical({ t: 'ack' }), /expected the fields/]
  ]
  for (const [label, frame, reason] of cases) {
    assert.throws(() => decodeLogSync(frame), (error: unknown) => error instanceof LogSyncProtocolError && reason.test(error.message), label)
  }
  const many: Record<string, number> = {}
  for (let i = 0; i <= MAX_AUTHORS; i++) many[i.toString(16).padStart(64, '0')] = 1
  assert.throws(() => decodeLogSync(vector(many)), /authors, over the limit/)
})
