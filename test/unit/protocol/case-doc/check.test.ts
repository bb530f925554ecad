/**
 * protocol/case-doc/check.ts: an update passes only with structs of the signer's client id;
 * deletions may name any client; malformed, oversized, out-of-range, subdocument and
 * forward-referencing updates are refused with a CaseUpdateRejectedError and a reason; random
 * garbage, truncations and mutations never hang and never throw anything untyped.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { admitCaseUpdate, CaseUpdateRejectedError, checkCaseUpdate, DEFAULT_CASE_UPDATE_LIMITS } from '../../../../protocol/case-doc/check.ts'
import { InvalidArgumentError, PeerpacsError } from '../../../../protocol/errors.ts'
import { Rng, throwsPeerpacs } from '../helpers.ts'
import { idOf, members, Raw } from './fixtures.ts'

const [alice, bob] = members(2)
const A = idOf(alice!)
const B = idOf(bob!)

function rejects (update: Uint8Array, client: number, reason: string, limits = DEFAULT_CASE_UPDATE_LIMITS): CaseUpdateRejectedError {
  const error = throwsPeerpacs(() => checkCaseUpdate(update, client, limits), CaseUpdateRejectedError, reason)
  assert.equal(error.code, 'CASE_UPDATE_REJECTED')
  assert.equal((error as CaseUpdateRejectedError).reason, reason, error.message)
  return error as CaseUpdateRejectedError
}

/** An update Yjs writes for `client`: text, a map key and a list entry. */
function realUpdate (client: number): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  doc.transact(() => {
    doc.getText('report').insert(0, 'hello')
    doc.getMap('labels').set('urgent', true)
    doc.getArray('notes').push([{ text: 'x' }])
  })
  return Y.encodeStateAsUpdate(doc)
}

test('the error is a PeerpacsError with a stable code and a reason', () => {
  const error = new CaseUpdateRejectedError('malformed', 'm')
  assert.ok(error instanceof PeerpacsError)
  assert.equal(CaseUpdateRejectedError.code, 'CASE_UPDATE_REJECTED')
  assert.equal(error.name, 'CaseUpdateRejectedError')
  assert.equal(error.reason, 'malformed')
})

test('an update with only the signer\'s structs passes; the same update from another signer is a foreign struct', () => {
  const update = realUpdate(A)
  checkCaseUpdate(update, A)
  const error = rejects(update, B, 'foreign-struct')
  assert.match(error.message, new RegExp(`client ${A}.*${B}`))
  checkCaseUpdate(new Raw().uint(0).deletes([]).done(), A) // an empty update says nothing and passes
})

test('one foreign struct anywhere is enough: a second section, a GC, a skip', () => {
  const second = new Raw().uint(2).section(1, A, 0).rootString('report', 'a').section(1, B, 0).rootString('report', 'b').deletes([]).done()
  rejects(second, A, 'foreign-struct')
  const gc = new Raw().uint(1).section(1, B, 0).byte(0).uint(3).deletes([]).done()
  rejects(gc, A, 'foreign-struct')
  checkCaseUpdate(gc, B)
  const skip = new Raw().uint(1).section(2, B, 0).byte(10).uint(4).rootString('report', 'b').deletes([]).done()
  rejects(skip, A, 'foreign-struct')
  checkCaseUpdate(skip, B)
})

test('deletions name only the signer\'s client id: deleting another member\'s content is refused', () => {
  const update = new Raw().uint(1).section(1, A, 0).rootString('report', 'a').deletes([[B, [[0, 3]]], [12345, [[7, 1]]]]).done()
  rejects(update, A, 'foreign-deletion')
  const onlyDeletes = new Raw().uint(0).deletes([[B, [[0, 1], [4, 2]]]]).done()
  rejects(onlyDeletes, A, 'foreign-deletion')
  const own = new Raw().uint(0).deletes([[A, [[0, 1], [4, 2]]]]).done()
  checkCaseUpdate(own, A)
})

test('malformed: zero-length structs and deletions, forward references within the own client', () => {
  rejects(new Raw().uint(1).section(1, A, 0).byte(0).uint(0).deletes([]).done(), A, 'malformed')
  rejects(new Raw().uint(1).section(1, A, 0).rootString('report', '').deletes([]).done(), A, 'malformed')
  rejects(new Raw().uint(0).deletes([[B, [[3, 0]]]]).done(), A, 'malformed')
  // an item at clock 1 placed after clock 5 of its own client, which cannot exist yet
  const forward = new Raw().uint(1).section(2, A, 0).rootString('report', 'a').stringAfter([A, 5], 'b').deletes([]).done()
  const error = rejects(forward, A, 'malformed')
  assert.match(error.message, /refers to clock 5 of its own client/)
  // after another client's item it may be: Yjs waits for that one
  checkCaseUpdate(new Raw().uint(1).section(2, A, 0).rootString('report', 'a').stringAfter([B, 5], 'b').deletes([]).done(), A)
  checkCaseUpdate(new Raw().uint(1).section(2, A, 0).rootString('report', 'a').stringAfter([A, 0], 'b').deletes([]).done(), A)
})

test('forbidden content: a subdocument, and an info byte that the two Yjs parsers read differently', () => {
  const subdoc = new Raw().uint(1).section(1, A, 0).byte(9).uint(1).string('notes').string('guid').byte(118).uint(0).deletes([]).done()
  rejects(subdoc, A, 'forbidden-content')
  // 74 = 10 | 64: a skip to the applying parser, a (refused) item to the checking one
  const ambiguous = new Raw().uint(1).section(1, A, 0).byte(74).uint(B).uint(0).uint(3).deletes([]).done()
  rejects(ambiguous, A, 'malformed')
})

test('out of range: clocks past maxClock, client ids past 32 bits; too large: bytes past maxBytes', () => {
  const limits = { maxBytes: 1000, maxClock: 100 }
  rejects(new Raw().uint(1).section(1, A, 99).rootString('report', 'ab').deletes([]).done(), A, 'out-of-range', limits)
  checkCaseUpdate(new Raw().uint(1).section(1, A, 98).rootString('report', 'ab').deletes([]).done(), A, limits)
  rejects(new Raw().uint(0).deletes([[B, [[50, 51]]]]).done(), A, 'out-of-range', limits)
  rejects(new Raw().uint(0).deletes([[2 ** 32, [[0, 1]]]]).done(), A, 'out-of-range')
  rejects(new Raw().uint(1).section(1, A, 2 ** 40).byte(0).uint(1).deletes([]).done(), A, 'out-of-range')
  const big = new Raw().uint(1).section(1, A, 0).rootString('report', 'x'.repeat(2000)).deletes([]).done()
  const error = rejects(big, A, 'too-large', limits)
  assert.match(error.message, /2\d{3} bytes exceeds the limit of 1000/)
})

test('empty input, truncation at every length and trailing section headers are malformed', () => {
  const update = realUpdate(A)
  rejects(new Uint8Array(0), A, 'malformed')
  for (let n = 0; n < update.length; n++) {
    let error: unknown
    try { checkCaseUpdate(update.subarray(0, n), A) } catch (e) { error = e }
    // a prefix that ends exactly between structs and delete set can still be a valid update
    if (error !== undefined) assert.ok(error instanceof CaseUpdateRejectedError, `length ${n}: ${String(error)}`)
  }
  rejects(new Raw().uint(5).done(), A, 'malformed')
  rejects(new Raw().uint(2 ** 31).done(), A, 'malformed')
  rejects(new Raw().uint(1).section(2 ** 30, A, 0).done(), A, 'malformed')
})

test('random garbage, truncations and mutations: typed rejection or a pass, never a hang (seeded)', () => {
  const rng = new Rng(77)
  const bases = [realUpdate(A), new Raw().uint(1).section(2, A, 0).rootString('report', 'ab').stringAfter([A, 1], 'c').deletes([[B, [[0, 2]]]]).done()]
  let passed = 0
  const reasons = new Set<string>()
  for (let i = 0; i < 4000; i++) {
    const base = bases[i % bases.length]!
    let input: Uint8Array
    switch (i % 4) {
      case 0: input = rng.bytes(rng.int(0, 200)); break
      case 1: input = base.subarray(0, rng.int(0, base.length)); break
      case 2: { input = base.slice(); for (let k = rng.int(1, 4); k > 0; k--) { const j = rng.int(0, input.length - 1); input[j] = input[j]! ^ (1 << rng.int(0, 7)) } break }
      default: { input = base.slice(); for (let k = rng.int(1, 3); k > 0; k--) input[rng.int(0, input.length - 1)] = rng.int(0, 255) }
    }
    try {
      checkCaseUpdate(input, A)
      passed++
    } catch (error) {
      assert.ok(error instanceof CaseUpdateRejectedError, `input ${i}: ${String(error)}`)
      reasons.add(error.reason)
    }
  }
  assert.ok(passed > 0 && passed < 4000, `passed ${passed}`)
  for (const reason of ['malformed', 'foreign-struct']) assert.ok(reasons.has(reason), reason)
})

test('admitCaseUpdate returns the re-encoded bytes, which hold the same structs and pass again', () => {
  const update = realUpdate(A)
  const admitted = admitCaseUpdate(update, A)
  checkCaseUpdate(admitted, A)
  const a = new Y.Doc(); Y.applyUpdate(a, update)
  const b = new Y.Doc(); Y.applyUpdate(b, admitted)
  assert.deepEqual(b.getText('report').toString(), a.getText('report').toString())
  assert.deepEqual(b.getMap('labels').toJSON(), a.getMap('labels').toJSON())
  assert.deepEqual(Y.encodeStateVector(b), Y.encodeStateVector(a))
  // two sections of one client become one, so what is applied is what was checked
  const twice = new Raw().uint(2).section(1, A, 0).rootString('report', 'a').section(1, A, 1).stringAfter([A, 0], 'b').deletes([]).done()
  const merged = admitCaseUpdate(twice, A)
  assert.equal(Y.decodeUpdate(merged).structs.length, 2)
  rejects(twice, B, 'foreign-struct')
})

test('wrong-typed arguments are InvalidArgumentError', () => {
  const update = realUpdate(A)
  for (const bad of [null, undefined, 'x', [1, 2], new ArrayBuffer(2)]) {
    throwsPeerpacs(() => checkCaseUpdate(bad as never, A), InvalidArgumentError)
  }
  for (const bad of [-1, 2 ** 32, 1.5, '1', null]) throwsPeerpacs(() => checkCaseUpdate(update, bad as never), InvalidArgumentError)
  for (const bad of [null, {}, { maxBytes: 0, maxClock: 1 }, { maxBytes: 1, maxClock: -1 }]) {
    throwsPeerpacs(() => checkCaseUpdate(update, A, bad as never), InvalidArgumentError)
  }
})
