/**
 * Recovery codes: their shape and randomness, forgiving typing (case, spaces, dashes, o/0,
 * i/l/1), single use through the caller removing the matched hash, and malformed input.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { TotpCodeError } from '../../../../node/people/errors.ts'
import { findRecoveryCode, hashRecoveryCode, newRecoveryCodes, RECOVERY_ALPHABET } from '../../../../node/people/recovery-codes.ts'

const SHAPE = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/

test('ten distinct codes by default, xxxx-xxxx-xxxx from 32 unambiguous symbols: 60 bits each', () => {
  assert.equal(RECOVERY_ALPHABET.length, 32)
  assert.equal(new Set(RECOVERY_ALPHABET).size, 32)
  for (const ambiguous of 'ilou') assert.ok(!RECOVERY_ALPHABET.includes(ambiguous), ambiguous)
  assert.ok(Math.log2(RECOVERY_ALPHABET.length) * 12 >= 60)
  const codes = newRecoveryCodes()
  assert.equal(codes.length, 10)
  assert.equal(new Set(codes).size, 10)
  for (const code of codes) assert.match(code, SHAPE)
  assert.equal(newRecoveryCodes(3).length, 3)
  for (const bad of [0, -1, 1.5, 101, '10']) assert.throws(() => newRecoveryCodes(bad as number), InvalidArgumentError)
})

test('every symbol is used about equally (uniform: 256 is a multiple of 32)', () => {
  const counts = new Map<string, number>()
  for (const code of newRecoveryCodes(100).concat(...Array.from({ length: 19 }, () => newRecoveryCodes(100)))) {
    for (const c of code.replace(/-/g, '')) counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  assert.equal(counts.size, 32)
  const expected = 2000 * 12 / 32
  for (const [c, n] of counts) assert.ok(n > expected * 0.7 && n < expected * 1.3, `${c}: ${n} times, expected about ${expected}`)
})

test('typing is forgiving: case, spaces, dashes, o for 0, i or l for 1', () => {
  const h = hashRecoveryCode('k7qm-2x9p-a410')
  assert.equal(h.length, 32)
  for (const typed of ['k7qm2x9pa410', 'K7QM-2X9P-A410', ' k7qm 2x9p a410 ', 'k7qm-2x9p-a4l0', 'k7qm-2x9p-a4io', 'K7QM 2X9P-A4LO']) {
    assert.deepEqual(hashRecoveryCode(typed), h, typed)
  }
  assert.notDeepEqual(hashRecoveryCode('k7qm-2x9p-a411'), h)
  const plain = createHash('sha256').update('k7qm2x9pa410').digest()
  assert.notDeepEqual(h, new Uint8Array(plain), 'domain-separated from a bare SHA-256')
})

test('findRecoveryCode: the index of the matching hash or -1; removing it makes the code single-use', () => {
  const codes = newRecoveryCodes()
  let hashes = codes.map(hashRecoveryCode)
  assert.equal(findRecoveryCode(codes[7]!, hashes), 7)
  assert.equal(findRecoveryCode(codes[0]!.toUpperCase().replace(/-/g, ' '), hashes), 0)
  assert.equal(findRecoveryCode(newRecoveryCodes(1)[0]!, hashes), -1)
  hashes = hashes.filter((_, i) => i !== 7) // the caller's user.update removes the used one
  assert.equal(findRecoveryCode(codes[7]!, hashes), -1, 'used once, refused after')
  assert.equal(findRecoveryCode(codes[8]!, hashes), 7, 'the others still work')
  assert.equal(findRecoveryCode(codes[8]!, []), -1)
  const twice = [hashes[0]!, hashes[0]!]
  assert.equal(findRecoveryCode(codes[0]!, twice), 0, 'the first of equal hashes')
})

test('malformed codes are refused with TotpCodeError, never echoed; malformed hash lists with InvalidArgumentError', () => {
  for (const bad of ['', 'k7qm-2x9p-a41', 'k7qm-2x9p-a4100', 'k7qm-2x9p-a4u0', 'k7qm_2x9p_a410', 'k7qm-2x9p-a41!', 'ｋ7qm-2x9p-a410', 'x'.repeat(100_000)]) {
    assert.throws(() => hashRecoveryCode(bad), (e: unknown) => {
      assert.ok(e instanceof TotpCodeError, JSON.stringify(bad.slice(0, 20)))
      assert.ok(bad.length < 4 || !e.message.includes(bad), 'not echoed')
      assert.ok(e.hint !== undefined)
      return true
    })
  }
  for (const wrong of [undefined, null, 42, new Uint8Array(12)]) assert.throws(() => hashRecoveryCode(wrong as unknown as string), TotpCodeError)
  const good = hashRecoveryCode('k7qm-2x9p-a410')
  assert.throws(() => findRecoveryCode('k7qm-2x9p-a410', [good, new Uint8Array(16)]), /hashes\[1\]\): expected 32 bytes/)
  assert.throws(() => findRecoveryCode('k7qm-2x9p-a410', 'nope' as unknown as Uint8Array[]), InvalidArgumentError)
})
