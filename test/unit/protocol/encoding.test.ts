/**
 * protocol/encoding.ts: lowercase hex (strict), base58btc (node ids) and Crockford base32
 * (keys a person types: case-insensitive, O/I/L read as 0/1/1), each round-tripped and each
 * parser refusing what is not its alphabet with a DecodeError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { base58 } from '@scure/base'
import { fromBase32, fromBase58, fromHex, toBase32, toBase58, toHex } from '../../../protocol/encoding.ts'
import { DecodeError } from '../../../protocol/errors.ts'
import { Rng, throwsPeerpacs } from './helpers.ts'

test('hex round trip for lengths 0..64', () => {
  const rng = new Rng(1)
  for (let n = 0; n <= 64; n++) {
    const bytes = rng.bytes(n)
    const text = toHex(bytes)
    assert.match(text, /^(?:[0-9a-f]{2})*$/)
    assert.equal(text.length, 2 * n)
    assert.deepEqual(fromHex(text), bytes)
    assert.deepEqual(fromHex(text, n), bytes)
  }
  assert.equal(toHex(new Uint8Array([0, 1, 0xab, 0xff])), '0001abff')
})

test('fromHex accepts only lowercase, even-length hex of the expected length', () => {
  for (const bad of ['0', 'abc', 'AB', '0X00', 'zz', ' 00', '00 ', '0g', '\u0660\u0660']) {
    throwsPeerpacs(() => fromHex(bad), DecodeError, JSON.stringify(bad))
  }
  const wrongLength = throwsPeerpacs(() => fromHex('0011', 3), DecodeError)
  assert.match(wrongLength.message, /expected 3 bytes of hex, got 2/)
})

test('fromHex does not echo its input into the error (it may be a key)', () => {
  const error = throwsPeerpacs(() => fromHex('SECRETSECRET'), DecodeError)
  assert.ok(!error.message.includes('SECRET'))
})

test('base58btc agrees with the reference and keeps leading zero bytes as "1"', () => {
  const rng = new Rng(2)
  for (let n = 0; n <= 48; n++) {
    const bytes = rng.bytes(n)
    const text = toBase58(bytes)
    assert.equal(text, base58.encode(bytes))
    assert.deepEqual(fromBase58(text), bytes)
  }
  assert.equal(toBase58(new Uint8Array([0, 0, 1])), '112')
  assert.deepEqual(fromBase58('112'), new Uint8Array([0, 0, 1]))
})

test('fromBase58 refuses characters outside the alphabet (0, O, I, l, spaces)', () => {
  for (const bad of ['0', 'O', 'I', 'l', 'abc def', '+', '12D3KooW\n']) {
    throwsPeerpacs(() => fromBase58(bad), DecodeError, JSON.stringify(bad))
  }
})

test('Crockford base32 round trip, any case, O/I/L read as 0/1/1', () => {
  const rng = new Rng(3)
  for (let n = 0; n <= 40; n++) {
    const bytes = rng.bytes(n)
    const text = toBase32(bytes)
    assert.match(text, /^[0-9A-HJKMNP-TV-Z]*$/)
    assert.deepEqual(fromBase32(text), bytes)
    assert.deepEqual(fromBase32(text.toLowerCase()), bytes)
  }
  assert.equal(toBase32(new Uint8Array([0xff, 0xff])), 'ZZZG')
  assert.deepEqual(fromBase32('0110'), new Uint8Array([0x00, 0x42]))
  assert.deepEqual(fromBase32('OILO'), new Uint8Array([0x00, 0x42]))
  assert.deepEqual(fromBase32('oilo'), new Uint8Array([0x00, 0x42]))
})

test('fromBase32 refuses U, punctuation and non-zero padding bits', () => {
  for (const bad of ['U0', 'u0', '00-0', '0 0', '=', 'ZZZZ']) {
    throwsPeerpacs(() => fromBase32(bad), DecodeError, JSON.stringify(bad))
  }
})
