/**
 * protocol/recovery-key.ts: the recovery key as a person writes it. Frozen seed → text pairs
 * (test/vectors/peerpacs-recovery-key.json), round trip, tolerance of how people type it (case,
 * dashes, spaces, line breaks, O/I/L for 0/1/1), and the checksum catching every single mistyped
 * character; wrong prefix and wrong length.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { base32crockford } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { DecodeError, InvalidArgumentError } from '../../../protocol/errors.ts'
import { decodeRecoveryKey, encodeRecoveryKey } from '../../../protocol/recovery-key.ts'
import { h, hx, loadVectors, Rng, throwsPeerpacs, utf8 } from './helpers.ts'

interface RecoveryVectors { cases: Array<{ seed: string, text: string }> }
const v = loadVectors<RecoveryVectors>('peerpacs-recovery-key.json')
const p = nobleProvider
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

test('frozen vectors: encode gives the text, decode gives the seed; the format re-derived', () => {
  for (const c of v.cases) {
    assert.equal(encodeRecoveryKey(p, h(c.seed)), c.text)
    assert.equal(hx(decodeRecoveryKey(p, c.text)), c.seed)
    const check = sha256(new Uint8Array([...utf8('peerpacs/recovery-key/v1'), ...h(c.seed)])).subarray(0, 4)
    const body = base32crockford.encode(new Uint8Array([...h(c.seed), ...check]))
    assert.equal(c.text, ['PPRK1', ...body.match(/.{1,5}/g)!].join('-'))
  }
})

test('shape: PPRK1 then 12 groups (eleven of 5, one of 3), 75 characters', () => {
  for (const c of v.cases) {
    assert.match(c.text, /^PPRK1(-[0-9A-HJKMNP-TV-Z]{5}){11}-[0-9A-HJKMNP-TV-Z]{3}$/)
    assert.equal(c.text.length, 75)
  }
})

test('round trip for random seeds', () => {
  const rng = new Rng(70)
  for (let i = 0; i < 100; i++) {
    const seed = rng.bytes(32)
    assert.deepEqual(decodeRecoveryKey(p, encodeRecoveryKey(p, seed)), seed)
  }
})

test('typed the way people type it: lowercase, no dashes, spaces, line breaks, tabs', () => {
  const { seed, text } = v.cases[0]!
  const variants = [
    text.toLowerCase(),
    text.replace(/-/g, ''),
    text.replace(/-/g, ' '),
    text.replace(/-/g, '\n'),
    `  ${text.replace(/-/g, ' - ')}\r\n`,
    text.slice(0, 30) + '\n' + text.slice(30),
    text.replace(/-/g, '\t').toLowerCase(),
    text.replace(/-/g, '').replace(/(.{4})/g, '$1 ')
  ]
  for (const typed of variants) assert.equal(hx(decodeRecoveryKey(p, typed)), seed, JSON.stringify(typed))
})

test('O, I and L typed for 0, 1 and 1 in the body are read correctly', () => {
  const { seed, text } = v.cases[0]!
  const [prefix, body] = [text.slice(0, 6), text.slice(6)]
  assert.ok(body.includes('0') && body.includes('1'), 'the vector has both digits to mistype')
  for (const typed of [body.replace(/0/g, 'O'), body.replace(/0/g, 'o'), body.replace(/1/g, 'I'), body.replace(/1/g, 'i'), body.replace(/1/g, 'L'), body.replace(/1/g, 'l')]) {
    assert.equal(hx(decodeRecoveryKey(p, prefix + typed)), seed, typed)
  }
})

test('the prefix tolerates the same mistypes as the body (PPRKl, PPRKI)', () => {
  const { seed, text } = v.cases[0]!
  for (const prefix of ['PPRKl', 'PPRKI', 'pprki', 'pprkL']) {
    assert.equal(hx(decodeRecoveryKey(p, prefix + text.slice(5))), seed, prefix)
  }
})

test('every single changed character in the body is caught (checksum or alphabet), at every position', () => {
  for (const { text } of v.cases) {
    for (let i = 6; i < text.length; i++) {
      if (text[i] === '-') continue
      for (const replacement of ALPHABET) {
        if (replacement === text[i]) continue
        const typo = text.slice(0, i) + replacement + text.slice(i + 1)
        const error = throwsPeerpacs(() => decodeRecoveryKey(p, typo), DecodeError, `position ${i}: ${text[i]} → ${replacement}`)
        assert.match(error.message, /recovery key/)
      }
    }
  }
})

test('a mistyped last character is reported as a mistyped character, not as one outside the alphabet', () => {
  const { text } = v.cases[0]!
  for (const replacement of ALPHABET) {
    if (replacement === text[text.length - 1]) continue
    const error = throwsPeerpacs(() => decodeRecoveryKey(p, text.slice(0, -1) + replacement), DecodeError, replacement)
    assert.match(error.message, /mistyped/, replacement)
  }
})

test('two swapped neighbouring characters are caught', () => {
  const { text } = v.cases[2]!
  const compact = text.slice(6).replace(/-/g, '')
  for (let i = 0; i + 1 < compact.length; i++) {
    if (compact[i] === compact[i + 1]) continue
    const swapped = compact.slice(0, i) + compact[i + 1] + compact[i] + compact.slice(i + 2)
    throwsPeerpacs(() => decodeRecoveryKey(p, `PPRK1-${swapped}`), DecodeError, `swap at ${i}`)
  }
})

test('wrong prefix, wrong length, characters outside the alphabet', () => {
  const { text } = v.cases[0]!
  const body = text.slice(6)
  const cases: Array<[string, string, RegExp]> = [
    ['no prefix', body, /should start with PPRK1/],
    ['version 2 prefix', `PPRK2-${body}`, /should start with PPRK1/],
    ['another key kind', `PPXK1-${body}`, /should start with PPRK1/],
    ['empty', '', /should start with PPRK1/],
    ['prefix only', 'PPRK1', /wrong length/],
    ['a group missing', text.slice(0, 6) + text.slice(12), /recovery key/],
    ['an extra group', `${text.slice(0, 6)}00000-${text.slice(6)}`, /recovery key/],
    ['a character missing', text.slice(0, -1), /recovery key/],
    ['a character extra', `${text}0`, /recovery key/],
    ['U in the body', text.slice(0, 6) + 'U' + text.slice(7), /outside its alphabet/],
    ['punctuation', text.replace('-', '.'), /recovery key/],
    ['a stray symbol', `${text.slice(0, 20)}*${text.slice(20)}`, /outside its alphabet/]
  ]
  for (const [name, typed, message] of cases) assert.match(throwsPeerpacs(() => decodeRecoveryKey(p, typed), DecodeError, name).message, message, name)
})

test('encodeRecoveryKey takes exactly a 32-byte seed', () => {
  for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
    assert.match(throwsPeerpacs(() => encodeRecoveryKey(p, bad), InvalidArgumentError).message, /encodeRecoveryKey\(seed\)/)
  }
})
