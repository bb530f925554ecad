/**
 * Passwords: scrypt hashing with stored parameters, the bounds a stored record must respect
 * before anything runs, the canonical form, the hashing queue, and the policy for new passwords.
 * Most hashes here use N = 2^10 to stay fast; the defaults are exercised (and timed) once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../../../../protocol/canonical.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { PasswordHashError, PasswordPolicyError } from '../../../../node/people/errors.ts'
import {
  checkPasswordPolicy, hashPassword, HASHING_CONCURRENCY, needsRehash, passwordHashFromCanonical, passwordHashingLoad,
  passwordHashToCanonical, SCRYPT_DEFAULTS, verifyPassword, verifyPasswordAgainstNone, type PasswordHash
} from '../../../../node/people/password.ts'

const FAST = { N: 2 ** 10 }

test('a hash verifies its password and no other; two hashes of one password differ (random salt)', async () => {
  const a = await hashPassword('blue harbour lantern', FAST)
  const b = await hashPassword('blue harbour lantern', FAST)
  assert.equal(a.kdf, 'scrypt')
  assert.deepEqual([a.N, a.r, a.p, a.salt.length, a.hash.length], [2 ** 10, 8, 1, 16, 32])
  assert.notDeepEqual(a.salt, b.salt)
  assert.notDeepEqual(a.hash, b.hash)
  assert.equal(await verifyPassword('blue harbour lantern', a), true)
  assert.equal(await verifyPassword('blue harbour lantern', b), true)
  assert.equal(await verifyPassword('blue harbour lanterN', a), false)
  assert.equal(await verifyPassword('', a), false)
  const c = await hashPassword('blue harbour lantern', { N: 2 ** 10, r: undefined, p: undefined })
  assert.deepEqual([c.r, c.p], [8, 1], 'a parameter given as undefined takes its default')
})

test('passwords are NFC-normalised: a decomposed accent verifies against the composed one', async () => {
  const composed = 'caf\u00e9 au lait matin'
  const decomposed = 'cafe\u0301 au lait matin'
  assert.notEqual(composed, decomposed)
  const h = await hashPassword(decomposed, FAST)
  assert.equal(await verifyPassword(composed, h), true)
})

test('the defaults: N = 2^16, r = 8, p = 1, stored with the hash, and their cost', async (t) => {
  assert.deepEqual({ ...SCRYPT_DEFAULTS }, { N: 2 ** 16, r: 8, p: 1 })
  const started = performance.now()
  const h = await hashPassword('a long and quiet river bend')
  const hashed = performance.now()
  assert.equal(await verifyPassword('a long and quiet river bend', h), true)
  const verified = performance.now()
  assert.deepEqual([h.N, h.r, h.p], [2 ** 16, 8, 1])
  assert.equal(needsRehash(h), false)
  t.diagnostic(`hashPassword ${(hashed - started).toFixed(0)} ms, verifyPassword ${(verified - hashed).toFixed(0)} ms with the defaults`)
  assert.ok(verified - started < 30_000, 'a safety bound only')
  assert.equal(await verifyPasswordAgainstNone('whatever was typed'), false)
})

test('needsRehash: true below the defaults, false at them', async () => {
  const weak = await hashPassword('sleepy orchard ladder', FAST)
  assert.equal(needsRehash(weak), true)
  assert.equal(needsRehash({ ...weak, N: 2 ** 16 }), false)
  assert.equal(needsRehash({ ...weak, N: 2 ** 17, r: 4 }), true, 'r below the default')
  assert.equal(needsRehash({ ...weak, N: 2 ** 16, p: 2 }), false, 'more than the defaults is fine')
})

test('a stored record out of bounds is refused before scrypt runs, naming the field', async () => {
  const good = await hashPassword('pale green window frame', FAST)
  const bad: Array<[string, Partial<Record<keyof PasswordHash, unknown>>, RegExp]> = [
    ['N not a power of two', { N: 3000 }, /N must be a power of two/],
    ['N above 2^20', { N: 2 ** 21 }, /N must be a power of two from 2\^10 to 2\^20, got 2097152/],
    ['N far above (would ask for a terabyte)', { N: 2 ** 30 }, /N must be/],
    ['N below 2^10', { N: 2 ** 4 }, /N must be/],
    ['N not an integer', { N: 1024.5 }, /N must be/],
    ['r zero', { r: 0 }, /r must be an integer from 1 to 32/],
    ['p huge', { p: 1000 }, /p must be an integer from 1 to 16/],
    ['memory: 2^20 with r = 8 is 1 GiB', { N: 2 ** 20, r: 8 }, /1024 MiB, more than the 256 MiB/],
    ['work: N * r * p above 16 times the defaults', { N: 2 ** 18, r: 8, p: 16 }, /N \* r \* p = 33554432/],
    ['salt too short', { salt: new Uint8Array(8) }, /salt must be 16 to 64 bytes, got 8/],
    ['hash too short', { hash: new Uint8Array(16) }, /hash must be 32 to 64 bytes, got 16/],
    ['hash not bytes', { hash: 'abc' }, /hash must be bytes/],
    ['another kdf', { kdf: 'argon2id' }, /kdf must be 'scrypt', got 'argon2id'/]
  ]
  for (const [what, change, message] of bad) {
    const record = { ...good, ...change } as PasswordHash
    await assert.rejects(verifyPassword('pale green window frame', record), (e: unknown) => {
      assert.ok(e instanceof PasswordHashError, `${what}: ${String(e)}`)
      assert.equal(e.code, 'PASSWORD_HASH')
      assert.match(e.message, message, what)
      return true
    })
    assert.deepEqual(passwordHashingLoad(), { running: 0, waiting: 0 }, `${what}: nothing was queued`)
    assert.throws(() => needsRehash(record), PasswordHashError)
    assert.throws(() => passwordHashToCanonical(record), PasswordHashError)
  }
})

test('hashPassword refuses parameters out of the same bounds, and wrong-typed input', async () => {
  await assert.rejects(hashPassword('pale green window frame', { N: 2 ** 21 }), InvalidArgumentError)
  await assert.rejects(hashPassword('pale green window frame', { r: 64 }), InvalidArgumentError)
  await assert.rejects(hashPassword('x'.repeat(1025), FAST), InvalidArgumentError)
  for (const wrong of [undefined, null, 12, new Uint8Array(3), { toString: () => 'pw' }]) {
    await assert.rejects(hashPassword(wrong as unknown as string, FAST), InvalidArgumentError)
    await assert.rejects(verifyPassword(wrong as unknown as string, await hashPassword('pale green window frame', FAST)), InvalidArgumentError)
  }
  await assert.rejects(verifyPassword('p', null as unknown as PasswordHash), PasswordHashError)
})

test('a password longer than the policy allows is false at once, without hashing', async () => {
  const h = await hashPassword('pale green window frame', FAST)
  assert.equal(await verifyPassword('y'.repeat(10_000_000), h), false)
  assert.deepEqual(passwordHashingLoad(), { running: 0, waiting: 0 })
})

test('canonical form: a map {kdf, N, r, p, salt, hash} that round-trips through canonical CBOR', async () => {
  const h = await hashPassword('tall grass under snow', FAST)
  const value = passwordHashToCanonical(h)
  assert.deepEqual(Object.keys(value as object).sort(), ['N', 'hash', 'kdf', 'p', 'r', 'salt'])
  const back = passwordHashFromCanonical(decodeCanonical(encodeCanonical(value)))
  assert.deepEqual(back, h)
  assert.equal(await verifyPassword('tall grass under snow', back), true)
})

test('passwordHashFromCanonical is strict: shape, types, extra or missing fields, bounds', async () => {
  const h = passwordHashToCanonical(await hashPassword('tall grass under snow', FAST)) as Record<string, CanonicalValue>
  const { N: _n, ...withoutN } = h
  const bad: Array<[string, CanonicalValue, RegExp]> = [
    ['not a map', [1, 2, 3], /expected a map, got array/],
    ['bytes', new Uint8Array(4), /expected a map, got Uint8Array/],
    ['null', null, /expected a map, got null/],
    ['an extra field', { ...h, extra: 1 }, /expected exactly the fields N, hash, kdf, p, r, salt, got N, extra/],
    ['a missing field', withoutN, /expected exactly the fields/],
    ['N as text', { ...h, N: '65536' }, /N must be a power of two.*got string/],
    ['salt as text', { ...h, salt: 'c2FsdA==' }, /salt must be bytes/],
    ['N out of bounds', { ...h, N: 2 ** 24 }, /N must be/],
    ['kdf other', { ...h, kdf: 'pbkdf2' }, /kdf must be 'scrypt'/]
  ]
  for (const [what, value, message] of bad) {
    assert.throws(() => passwordHashFromCanonical(value), (e: unknown) => e instanceof PasswordHashError && message.test(e.message), what)
  }
})

test(`at most ${HASHING_CONCURRENCY} hashes run at once; the others wait their turn and all finish`, async () => {
  let maxRunning = 0
  let maxWaiting = 0
  let sampling = true
  const sample = (): void => {
    const load = passwordHashingLoad()
    maxRunning = Math.max(maxRunning, load.running)
    maxWaiting = Math.max(maxWaiting, load.waiting)
    if (sampling) setImmediate(sample)
  }
  sample()
  const hashes = await Promise.all(Array.from({ length: 6 }, async (_, i) => hashPassword(`queue test phrase ${i}`, { N: 2 ** 13 })))
  sampling = false
  assert.equal(hashes.length, 6)
  assert.equal(maxRunning, HASHING_CONCURRENCY)
  assert.ok(maxWaiting >= 6 - HASHING_CONCURRENCY - 1, `waiting peaked at ${maxWaiting}`)
  assert.deepEqual(passwordHashingLoad(), { running: 0, waiting: 0 })
  assert.equal(await verifyPassword('queue test phrase 5', hashes[5]!), true)
})

test('the policy refuses each rule with its own rule name, and never echoes the password', () => {
  const cases: Array<[string, string, { username?: string, displayName?: string }, string]> = [
    ['11 characters', 'abcdefghijk', {}, 'too-short'],
    ['11 astral code points (22 UTF-16 units)', '😀🐱🌲🚗🎈🍎🔑📦🧭🎲🦊', {}, 'too-short'],
    ['11 characters once composed (NFC)', 'e\u0301'.repeat(5) + 'abcdef', {}, 'too-short'],
    ['1025 characters', 'ab1'.repeat(341) + 'xy', {}, 'too-long'],
    ['one character repeated', 'zzzzzzzzzzzzzzzz', {}, 'repeated'],
    ['a short group repeated', 'abcabcabcabc', {}, 'repeated'],
    ['a group of 4 repeated, cut short', '1a2b1a2b1a2b1', {}, 'repeated'],
    ['a common password', 'password1234', {}, 'common'],
    ['a common password, other case', 'PassWord1234', {}, 'common'],
    ['a keyboard walk', '1qaz2wsx3edc', {}, 'common'],
    ['a common password with spaces in it', 'Pass word 1234', {}, 'common'],
    ['a listed phrase without its spaces', 'CorrectHorseBatteryStaple', {}, 'common'],
    ['a domain word with a year', 'Radiology2026', {}, 'common'],
    ['the username inside', 'my-Jdoe-and-more-words', { username: 'jdoe' }, 'contains-username'],
    ['a unicode username inside, other case', 'über Ölfarbe und ÄRZTIN', { username: 'ärztin' }, 'contains-username'],
    ['a part of the display name', 'hello Lindqvist my friend', { displayName: 'Maria Lindqvist' }, 'contains-name']
  ]
  for (const [what, password, context, rule] of cases) {
    assert.throws(() => checkPasswordPolicy(password, context), (e: unknown) => {
      assert.ok(e instanceof PasswordPolicyError, `${what}: ${String(e)}`)
      assert.equal(e.code, 'PASSWORD_POLICY')
      assert.equal(e.rule, rule, what)
      assert.ok(!e.message.includes(password) && !(e.hint ?? '').includes(password), `${what}: the message echoes the password`)
      assert.ok(e.hint !== undefined && e.hint.length > 0, `${what}: says what to do`)
      return true
    })
  }
  assert.throws(() => checkPasswordPolicy(42 as unknown as string), (e: unknown) => e instanceof PasswordPolicyError && e.rule === 'not-text')
})

test('the policy accepts good passphrases, and short usernames and name parts are not rules', () => {
  for (const ok of [
    'violet ferry at noon', 'correct horse battery stapler', '😀🐱🌲🚗🎈🍎🔑📦🧭🎲🦊🌙',
    'abcdabceabcd', 'x'.repeat(11) + 'y', 'a'.repeat(1000) + 'bcdefghijklmnopqrstuvwx'
  ]) {
    assert.doesNotThrow(() => checkPasswordPolicy(ok), ok.slice(0, 30))
  }
  assert.doesNotThrow(() => checkPasswordPolicy('al paints the barn red', { username: 'al', displayName: 'Al Li' }))
  assert.doesNotThrow(() => checkPasswordPolicy('violet ferry at noon', { username: 'jdoe', displayName: 'Jane Doe' }))
})

test('the bundled list: hundreds of lower-case entries of 12 characters or more, keyboard walks among them', () => {
  const text = readFileSync(new URL('../../../../node/people/common-passwords.txt', import.meta.url), 'utf8')
  const entries = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  assert.ok(entries.length >= 500 && entries.length <= 1500, `${entries.length} entries`)
  for (const e of entries) {
    assert.equal(e, e.trim().normalize('NFC').toLowerCase(), `entry ${e}`)
    assert.ok([...e].length >= 12, `entry ${e} is shorter than the length rule`)
  }
  assert.equal(new Set(entries).size, entries.length, 'no repeats')
  for (const walk of ['qwertyuiop123', '1q2w3e4r5t6y', 'zaq12wsxcde3', 'azertyuiop123']) assert.ok(entries.includes(walk), walk)
})
