/**
 * protocol/canonical.ts: deterministic CBOR. The RFC 8949 Appendix A examples inside the model
 * encode to exactly their bytes and decode back (test/vectors/cbor-rfc8949.json); non-canonical
 * or out-of-model bytes are refused; values outside the model are refused when encoding;
 * decoded documents are read with the shape helpers, which say precisely what is wrong.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  asMap, bytesField, decodeCanonical, DEFAULT_MAX_CANONICAL_BYTES, encodeCanonical, intField, optionalInt, optionalText, textField,
  type CanonicalValue
} from '../../../protocol/canonical.ts'
import { DecodeError, InvalidArgumentError, NotCanonicalError } from '../../../protocol/errors.ts'
import { h, hx, loadVectors, Rng, throwsPeerpacs } from './helpers.ts'

interface CborVectors {
  examples: Array<{ value: unknown, hex: string }>
  rejected: Array<{ hex: string, why: string }>
}
const vectors = loadVectors<CborVectors>('cbor-rfc8949.json')

/** JSON value of the vector file → canonical value ({"$bytes": hex} is a byte string). */
function fromJson (value: unknown): CanonicalValue {
  if (Array.isArray(value)) return value.map(fromJson)
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.length === 1 && entries[0]![0] === '$bytes') return h(entries[0]![1] as string)
    return Object.fromEntries(entries.map(([k, v]) => [k, fromJson(v)]))
  }
  return value as CanonicalValue
}

test('RFC 8949 Appendix A examples: encode gives exactly the bytes, decode gives the value', () => {
  assert.ok(vectors.examples.length >= 30)
  for (const { value, hex } of vectors.examples) {
    const v = fromJson(value)
    assert.equal(hx(encodeCanonical(v)), hex, `encode ${JSON.stringify(value)}`)
    assert.deepEqual(decodeCanonical(h(hex)), v, `decode ${hex}`)
  }
})

test('rejected encodings: non-shortest forms, indefinite lengths, unsorted or duplicate keys, floats, simple values, tags, big integers, trailing or missing bytes', () => {
  for (const { hex, why } of vectors.rejected) {
    throwsPeerpacs(() => decodeCanonical(h(hex)), [DecodeError, NotCanonicalError], `${hex} (${why})`)
  }
})

test('map keys are sorted bytewise whatever the insertion order', () => {
  const a = encodeCanonical({ b: 1, a: 2, aa: 3, '': 4 })
  const b = encodeCanonical({ '': 4, aa: 3, a: 2, b: 1 })
  assert.equal(hx(a), hx(b))
  assert.equal(hx(a), 'a46004616102616201626161' + '03')
  // A key of 24 bytes has a two-byte header, so it sorts after every shorter key.
  const long = 'k'.repeat(24)
  assert.deepEqual(Object.keys(decodeCanonical(encodeCanonical({ [long]: 1, z: 2 })) as object), ['z', long])
})

test('safe-integer limits encode and decode; beyond them is refused both ways', () => {
  for (const n of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, 65535, 65536, -24, -25]) {
    assert.equal(decodeCanonical(encodeCanonical(n)), n)
  }
  assert.equal(hx(encodeCanonical(Number.MAX_SAFE_INTEGER)), '1b001fffffffffffff')
  assert.equal(hx(encodeCanonical(-Number.MAX_SAFE_INTEGER)), '3b001ffffffffffffe')
  assert.equal(hx(encodeCanonical(-0)), '00', '-0 is the integer 0')
})

test('encodeCanonical refuses values outside the model with InvalidArgumentError naming where', () => {
  class Thing { x = 1 }
  let deep: CanonicalValue = 1
  for (let i = 0; i < 33; i++) deep = [deep]
  const cases: Array<[string, unknown, RegExp]> = [
    ['1.5', 1.5, /^value: /],
    ['NaN', NaN, /^value: /],
    ['Infinity', Infinity, /^value: /],
    ['-Infinity', -Infinity, /^value: /],
    ['2**53', 2 ** 53, /^value: /],
    ['-(2**53)', -(2 ** 53), /^value: /],
    ['undefined', undefined, /^value: /],
    ['undefined member', { a: 1, b: undefined }, /^value\.b: /],
    ['undefined in an array', [1, undefined], /^value\[1\]: /],
    ['float deep inside', { a: [1, { c: 0.1 }] }, /^value\.a\[1\]\.c: /],
    ['Map', new Map([['a', 1]]), /Map/],
    ['Set', new Set([1]), /Set/],
    ['Date', new Date(0), /Date/],
    ['class instance', new Thing(), /Thing/],
    ['null-prototype object', Object.create(null) as unknown, /^value: /],
    ['bigint', 1n, /bigint/],
    ['symbol', Symbol('s'), /symbol/],
    ['function', () => 1, /function/],
    ['Uint16Array', new Uint16Array(2), /Uint16Array/],
    ['ArrayBuffer', new ArrayBuffer(2), /ArrayBuffer/],
    ['nesting deeper than 32', deep, /nested deeper than 32/]
  ]
  for (const [name, value, message] of cases) {
    const error = throwsPeerpacs(() => encodeCanonical(value as CanonicalValue), InvalidArgumentError, name)
    assert.match(error.message, message, name)
  }
})

test('nesting: 32 levels round trip; 33 levels decoded are outside the model; 100000 levels are refused, not a crash', () => {
  let ok: CanonicalValue = 1
  for (let i = 0; i < 32; i++) ok = [ok]
  assert.deepEqual(decodeCanonical(encodeCanonical(ok)), ok)
  const deeper = h('81'.repeat(33) + '01')
  throwsPeerpacs(() => decodeCanonical(deeper), NotCanonicalError)
  throwsPeerpacs(() => decodeCanonical(h('81'.repeat(100_000) + '01')), [DecodeError, NotCanonicalError])
  throwsPeerpacs(() => decodeCanonical(h('a16161'.repeat(50_000) + '01')), [DecodeError, NotCanonicalError])
})

test('maxBytes: the limit itself is accepted, one byte more is refused with DecodeError', () => {
  const bytes = encodeCanonical(['x'.repeat(100)])
  assert.deepEqual(decodeCanonical(bytes, bytes.length), ['x'.repeat(100)])
  const error = throwsPeerpacs(() => decodeCanonical(bytes, bytes.length - 1), DecodeError)
  assert.match(error.message, new RegExp(`${bytes.length} bytes exceeds the limit of ${bytes.length - 1}`))
  const big = encodeCanonical(new Uint8Array(DEFAULT_MAX_CANONICAL_BYTES))
  throwsPeerpacs(() => decodeCanonical(big), DecodeError, 'default limit')
  assert.equal((decodeCanonical(big, big.length) as Uint8Array).length, DEFAULT_MAX_CANONICAL_BYTES)
})

test('decodeCanonical refuses a maxBytes that is not a non-negative integer', () => {
  const bytes = encodeCanonical([1, 2, 3])
  for (const bad of ['10', NaN, 1.5, null]) {
    throwsPeerpacs(() => decodeCanonical(bytes, bad as number), InvalidArgumentError, String(bad))
  }
})

test('decoded maps are plain objects, and a "__proto__" key stays an own key without touching the prototype', () => {
  const value = decodeCanonical(encodeCanonical({ a: { b: 1 } })) as Record<string, CanonicalValue>
  assert.equal(Object.getPrototypeOf(value), Object.prototype)
  assert.equal(Object.getPrototypeOf(value.a), Object.prototype)
  for (const hex of ['a1695f5f70726f746f5f5fa16178f5', 'a1695f5f70726f746f5f5f01']) {
    let decoded: CanonicalValue
    try {
      decoded = decodeCanonical(h(hex))
    } catch (error) {
      assert.ok(error instanceof DecodeError || error instanceof NotCanonicalError)
      continue
    }
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype, hex)
    assert.deepEqual(Object.keys(decoded as object), ['__proto__'])
    assert.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype is untouched')
    assert.equal(hx(encodeCanonical(decoded)), hex)
  }
})

test('decoded byte strings are copies: changing the input afterwards does not change what was decoded', () => {
  const input = encodeCanonical({ key: new Uint8Array([1, 2, 3]), list: [new Uint8Array([4])] })
  const decoded = decodeCanonical(input) as { key: Uint8Array, list: Uint8Array[] }
  input.fill(0)
  assert.deepEqual(decoded.key, new Uint8Array([1, 2, 3]))
  assert.deepEqual(decoded.list[0], new Uint8Array([4]))
})

test('byte strings decode as Uint8Array (not Buffer) and subarrays encode by their view', () => {
  const backing = new Uint8Array([9, 1, 2, 3, 9])
  const bytes = encodeCanonical({ k: backing.subarray(1, 4) })
  assert.equal(hx(bytes), 'a1616b43010203')
  const decoded = (decodeCanonical(bytes) as Record<string, Uint8Array>).k!
  assert.equal(decoded.constructor, Uint8Array)
  assert.deepEqual(decoded, new Uint8Array([1, 2, 3]))
})

function randomValue (rng: Rng, depth: number): CanonicalValue {
  switch (rng.int(0, depth > 3 ? 5 : 7)) {
    case 0: return null
    case 1: return rng.int(0, 1) === 1
    case 2: return (rng.int(0, 1) === 1 ? 1 : -1) * rng.int(0, 2 ** 31) * (rng.int(0, 1) === 1 ? rng.int(1, 2 ** 21) : 1)
    case 3: return String.fromCodePoint(...Array.from({ length: rng.int(0, 6) }, () => rng.int(0x20, 0x7e)), ...(rng.int(0, 3) === 0 ? [0x1f600] : []))
    case 4: return rng.bytes(rng.int(0, 40))
    case 5: return rng.int(0, 1) === 1 ? 24 : -25
    case 6: return Array.from({ length: rng.int(0, 5) }, () => randomValue(rng, depth + 1))
    default: {
      const out: Record<string, CanonicalValue> = {}
      for (let i = rng.int(0, 5); i > 0; i--) out[`k${rng.int(0, 30)}${'x'.repeat(rng.int(0, 25))}`] = randomValue(rng, depth + 1)
      return out
    }
  }
}

test('random values in the model: decode(encode(v)) equals v and re-encodes to the same bytes', () => {
  const rng = new Rng(42)
  for (let i = 0; i < 500; i++) {
    const value = randomValue(rng, 0)
    const bytes = encodeCanonical(value)
    const back = decodeCanonical(bytes)
    assert.deepEqual(back, value)
    assert.equal(hx(encodeCanonical(back)), hx(bytes))
  }
})

test('shape helpers: read fields or say which field is wrong and what arrived', () => {
  const map = asMap({ t: 'x', n: 5, b: new Uint8Array(3), arr: [] }, 'doc')
  assert.equal(textField(map, 't', 'doc'), 'x')
  assert.equal(intField(map, 'n', 'doc'), 5)
  assert.deepEqual(bytesField(map, 'b', 'doc'), new Uint8Array(3))
  assert.deepEqual(bytesField(map, 'b', 'doc', 3), new Uint8Array(3))
  assert.equal(optionalText(map, 'missing', 'doc'), undefined)
  assert.equal(optionalInt(map, 'missing', 'doc'), undefined)
  assert.equal(optionalText(map, 't', 'doc'), 'x')
  assert.equal(optionalInt(map, 'n', 'doc'), 5)
  const cases: Array<[() => unknown, RegExp]> = [
    [() => textField(map, 'n', 'doc'), /^doc\.n: expected text, got integer$/],
    [() => textField(map, 'missing', 'doc'), /^doc\.missing: expected text, got undefined$/],
    [() => intField(map, 't', 'doc'), /^doc\.t: expected integer, got string of length 1$/],
    [() => bytesField(map, 'arr', 'doc'), /^doc\.arr: expected byte string, got array of length 0$/],
    [() => bytesField(map, 'b', 'doc', 32), /^doc\.b: expected 32 bytes, got 3$/],
    [() => optionalText(map, 'n', 'doc'), /^doc\.n: expected text/],
    [() => optionalInt(map, 't', 'doc'), /^doc\.t: expected integer/]
  ]
  for (const [fn, message] of cases) assert.match(throwsPeerpacs(fn, DecodeError).message, message)
  for (const notMap of [null, undefined, [], new Uint8Array(1), 'm', 1, true]) {
    assert.match(throwsPeerpacs(() => asMap(notMap as CanonicalValue, 'doc'), DecodeError).message, /^doc: expected a map, got /)
  }
})
