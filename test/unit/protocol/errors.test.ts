/**
 * protocol/errors.ts: every error class is a PeerpacsError with a stable code, its own name,
 * and carries the hint and cause it was given.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AuthenticationError, DecodeError, IntegrityError, InvalidArgumentError, NotCanonicalError, PeerpacsError, SignatureError
} from '../../../protocol/errors.ts'

const classes = [
  [InvalidArgumentError, 'INVALID_ARGUMENT'],
  [DecodeError, 'DECODE_FAILED'],
  [NotCanonicalError, 'NOT_CANONICAL'],
  [AuthenticationError, 'AUTH_FAILED'],
  [SignatureError, 'BAD_SIGNATURE'],
  [IntegrityError, 'INTEGRITY']
] as const

test('each error class has its stable code, its name, and is a PeerpacsError and an Error', () => {
  for (const [Class, code] of classes) {
    const error = new Class('what was wrong')
    assert.ok(error instanceof PeerpacsError)
    assert.ok(error instanceof Error)
    assert.equal(error.code, code)
    assert.equal(Class.code, code)
    assert.equal(error.name, Class.name)
    assert.equal(error.message, 'what was wrong')
    assert.equal(error.hint, undefined)
    assert.equal(error.cause, undefined)
    assert.ok(!('cause' in error), 'no cause property unless one was given')
  }
})

test('codes are distinct', () => {
  assert.equal(new Set(classes.map(([, code]) => code)).size, classes.length)
})

test('hint and cause are carried', () => {
  const cause = new Error('inner')
  const error = new DecodeError('outer', { hint: 'do this', cause })
  assert.equal(error.hint, 'do this')
  assert.equal(error.cause, cause)
  const base = new PeerpacsError('DECODE_FAILED', 'message')
  assert.equal(base.code, 'DECODE_FAILED')
  assert.equal(base.name, 'PeerpacsError')
})
