/**
 * protocol/bytes.ts: the boundary checks (expectBytes/String/Integer and describe, which never
 * prints content) and the byte helpers (concat, constant-time compare, UTF-8, big-endian ints).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  concatBytes, describe, equalBytes, expectBytes, expectInteger, expectString, isBytes, readUintBE, uintBE, utf8Decode, utf8Encode
} from '../../../protocol/bytes.ts'
import { DecodeError, InvalidArgumentError } from '../../../protocol/errors.ts'
import { throwsPeerpacs } from './helpers.ts'

test('isBytes: Uint8Array, its subarrays and Buffer are bytes; other views and arrays are not', () => {
  assert.ok(isBytes(new Uint8Array(3)))
  assert.ok(isBytes(new Uint8Array(8).subarray(2, 5)))
  assert.ok(isBytes(Buffer.from('ab')), 'Buffer is a Uint8Array subclass')
  for (const value of [undefined, null, 1, 'ab', [1, 2], new ArrayBuffer(2), new Uint16Array(2), new Int8Array(2), new Uint8ClampedArray(2), new DataView(new ArrayBuffer(2)), {}]) {
    assert.equal(isBytes(value), false, describe(value))
  }
})

test('describe says what arrived without printing its content', () => {
  assert.equal(describe(null), 'null')
  assert.equal(describe(undefined), 'undefined')
  assert.equal(describe(new Uint8Array(5)), 'Uint8Array of length 5')
  assert.equal(describe([1, 2]), 'array of length 2')
  assert.equal(describe('secret password'), 'string of length 15')
  assert.equal(describe(7), 'integer')
  assert.equal(describe(1.5), 'number 1.5')
  assert.equal(describe(new Uint16Array(2)), 'Uint16Array')
  assert.equal(describe(new Map()), 'Map')
  assert.equal(describe(Object.create(null)), 'object')
  assert.equal(describe(true), 'boolean')
  assert.ok(!describe('hunter2').includes('hunter2'))
})

test('expectBytes returns its argument and checks the length; errors name the argument and what arrived', () => {
  const bytes = new Uint8Array(4)
  assert.equal(expectBytes(bytes, 'f(x)'), bytes)
  assert.equal(expectBytes(bytes, 'f(x)', 4), bytes)
  assert.equal(expectBytes(bytes, 'f(x)', 3, 4), bytes)
  const wrongType = throwsPeerpacs(() => expectBytes('abcd', 'f(x)'), InvalidArgumentError)
  assert.equal(wrongType.message, 'f(x): expected Uint8Array, got string of length 4')
  const wrongLength = throwsPeerpacs(() => expectBytes(bytes, 'f(x)', 32), InvalidArgumentError)
  assert.equal(wrongLength.message, 'f(x): expected Uint8Array of length 32, got length 4')
  const either = throwsPeerpacs(() => expectBytes(bytes, 'f(x)', 16, 32), InvalidArgumentError)
  assert.match(either.message, /length 16 or 32, got length 4/)
})

test('expectString and expectInteger', () => {
  assert.equal(expectString('', 'f(s)'), '')
  assert.match(throwsPeerpacs(() => expectString(1, 'f(s)'), InvalidArgumentError).message, /^f\(s\): expected string, got integer$/)
  assert.equal(expectInteger(0, 'f(n)'), 0)
  assert.equal(expectInteger(Number.MAX_SAFE_INTEGER, 'f(n)'), Number.MAX_SAFE_INTEGER)
  assert.equal(expectInteger(-5, 'f(n)', -5, 5), -5)
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, '1', null, undefined, 1n]) {
    throwsPeerpacs(() => expectInteger(bad, 'f(n)'), InvalidArgumentError, String(bad))
  }
  assert.match(throwsPeerpacs(() => expectInteger(11, 'f(n)', 0, 10), InvalidArgumentError).message, /^f\(n\): expected integer in \[0, 10\], got 11$/)
})

test('concatBytes and equalBytes', () => {
  assert.deepEqual(concatBytes(), new Uint8Array(0))
  assert.deepEqual(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])), new Uint8Array([1, 2, 3]))
  const whole = new Uint8Array([9, 8, 7, 6])
  assert.deepEqual(concatBytes(whole.subarray(1, 3)), new Uint8Array([8, 7]))
  assert.ok(equalBytes(new Uint8Array(0), new Uint8Array(0)))
  assert.ok(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])))
  assert.ok(!equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])))
  assert.ok(!equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])))
  for (let bit = 0; bit < 32; bit++) {
    const a = new Uint8Array(4)
    const b = new Uint8Array(4)
    b[bit >> 3] = 1 << (bit & 7)
    assert.ok(!equalBytes(a, b), `differs in bit ${bit}`)
  }
})

test('UTF-8 round trip, including astral characters', () => {
  for (const text of ['', 'a', 'ü', '水', '𐅑', 'Ladies and Gentlemen']) {
    assert.equal(utf8Decode(utf8Encode(text)), text)
  }
  assert.deepEqual(utf8Encode('ü'), new Uint8Array([0xc3, 0xbc]))
})

test('utf8Decode refuses bytes that are not UTF-8 with a DecodeError', () => {
  for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80]]) {
    throwsPeerpacs(() => utf8Decode(new Uint8Array(bad)), DecodeError, `bytes ${bad.join(',')}`)
  }
})

test('uintBE / readUintBE round trip at every width, and overflow is refused', () => {
  for (const [value, width] of [[0, 1], [255, 1], [256, 2], [0x01020304, 4], [2 ** 32 - 1, 4], [2 ** 48 + 5, 7], [Number.MAX_SAFE_INTEGER, 7]] as const) {
    const bytes = uintBE(value, width)
    assert.equal(bytes.length, width)
    assert.equal(readUintBE(bytes, 0, width), value)
  }
  assert.deepEqual(uintBE(0x0102, 4), new Uint8Array([0, 0, 1, 2]))
  assert.equal(readUintBE(new Uint8Array([9, 0, 0, 4, 0]), 1, 3), 0x0004)
  throwsPeerpacs(() => uintBE(256, 1), InvalidArgumentError)
  throwsPeerpacs(() => uintBE(2 ** 32, 4), InvalidArgumentError)
  throwsPeerpacs(() => uintBE(-1, 4), InvalidArgumentError)
})
