/**
 * The wildcard matcher (node/query/wildcard.ts): agrees with the regular expressions it replaced
 * over thousands of seeded random patterns and values (including case folding of non-ASCII
 * letters), and answers hostile patterns (runs of stars, `*?` alternations, 1024 characters)
 * against long values in bounded time where the old regular expressions backtracked for seconds.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileWildcard, foldCase } from '../../../../node/query/wildcard.ts'
import { seeded } from '../helpers/seeded.ts'

/** The matcher peerpacs used before: a regular expression per key (fast only on short inputs). */
function oldRegex (key: string, ignoreCase: boolean): (text: string) => boolean {
  const escaped = key.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  const regex = new RegExp('^' + escaped.replace(/\*/g, '.*').replace(/\?/g, '.') + '$', ignoreCase ? 'is' : 's')
  return (text) => regex.test(text)
}

// Letters whose case folding differs between simple rules (ß→SS, ı→I, ſ→S, Kelvin sign→k).
const ALPHABET = ['a', 'b', 'A', 'B', 'é', 'É', 'ß', 'ẞ', 'ſ', 's', 'S', 'ı', 'i', 'I', 'İ', '\u212a', 'k', 'K', 'σ', 'ς', 'Σ', '^', ' ', '.', '\\', '(', '\n', '=']
const WILD = [...ALPHABET, '*', '*', '?', '?']

test('agrees with the old regular expressions on 40,000 seeded random patterns and values', () => {
  const r = seeded(12)
  let matched = 0
  for (let n = 0; n < 40000; n++) {
    const ignoreCase = n % 2 === 0
    const pattern = Array.from({ length: r.int(0, 8) }, () => r.pick(WILD)).join('')
    // Half the values are built from the pattern, so that many of them match.
    const value = n % 4 < 2
      ? Array.from(pattern, (c) => c === '*' ? Array.from({ length: r.int(0, 3) }, () => r.pick(ALPHABET)).join('') : c === '?' ? r.pick(ALPHABET) : r.int(0, 3) === 0 ? (r.int(0, 1) === 0 ? c.toUpperCase() : c.toLowerCase()) : c).join('')
      : Array.from({ length: r.int(0, 10) }, () => r.pick([...ALPHABET, '*', '?'])).join('')
    const expected = oldRegex(pattern, ignoreCase)(value)
    assert.equal(compileWildcard(pattern, { ignoreCase })(value), expected, `${JSON.stringify(pattern)} vs ${JSON.stringify(value)} (ignoreCase ${String(ignoreCase)})`)
    if (expected) matched++
  }
  assert.ok(matched > 8000, `the random cases must exercise matches too, got ${matched}`)
})

test('case folding follows the non-unicode /i rules for every BMP character', () => {
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    const ch = String.fromCharCode(cp)
    const upper = ch.toUpperCase()
    const expected = upper.length !== 1 || (cp >= 0x80 && upper.charCodeAt(0) < 0x80) ? cp : upper.charCodeAt(0)
    assert.equal(foldCase(cp), expected, `U+${cp.toString(16)}`)
  }
  assert.equal(compileWildcard('MÜLLER*', { ignoreCase: true })('müller^hans'), true)
  assert.equal(compileWildcard('STRA?E', { ignoreCase: true })('straße'), true, '? is one character')
  assert.equal(compileWildcard('STRASSE*', { ignoreCase: true })('straße'), false, 'ß does not fold to SS')
  assert.equal(compileWildcard('müller*')('MÜLLER'), false, 'case-sensitive unless asked')
})

test('? is one character, also outside the Basic Multilingual Plane', () => {
  assert.equal(compileWildcard('A?B')('A\u{1F600}B'), true)
  assert.equal(compileWildcard('A??B')('A\u{1F600}B'), false)
  assert.equal(compileWildcard('*\u{1F600}')('xx\u{1F600}'), true)
})

test('edge cases: empty pattern, stars only, anchors, overlapping segments', () => {
  const cases: Array<[string, string, boolean]> = [
    ['', '', true], ['', 'a', false], ['*', '', true], ['***', 'abc', true], ['?', '', false],
    ['a*', 'a', true], ['*a', 'ba', true], ['*a', 'ab', false], ['a*a', 'a', false], ['a*a', 'aa', true],
    ['*aba*', 'ababa', true], ['*ab*ba*', 'aba', false], ['*ab*ba*', 'abba', true], ['a*b*c', 'abxbc', true],
    ['a*b?d', 'abcbxd', true], ['*?*?*', 'x', false], ['*?*?*', 'xy', true], ['DOE^J*', 'DOE^JANE', true]
  ]
  for (const [p, v, expected] of cases) assert.equal(compileWildcard(p)(v), expected, `${p} vs ${v}`)
})

test('hostile patterns against long values finish in bounded time', () => {
  const values = Array.from({ length: 1000 }, (_, n) => ('ZZTEST^PATIENT^' + 'A'.repeat(n % 50) + 'B'.repeat(64)).slice(0, 64))
  const hostile = [
    '*'.repeat(1023) + '!',
    '*?'.repeat(512),
    '*A'.repeat(512),
    '*A'.repeat(30) + '*!',
    '*A*B'.repeat(15) + '!*',
    '?'.repeat(63) + '*'.repeat(960) + '!',
    '*' + 'A'.repeat(40) + '*' + 'B'.repeat(20) + '!',
    ('*' + '?'.repeat(8)).repeat(7) + '*!',
    '*T*S*T*^*P*A*B*B*',
    'zz*'.repeat(300) + '*'
  ]
  for (const pattern of hostile) {
    assert.ok(pattern.length <= 1024)
    const started = performance.now()
    let hits = 0
    for (let round = 0; round < 10; round++) {
      for (const ignoreCase of [false, true]) {
        const match = compileWildcard(pattern, { ignoreCase })
        for (const v of values) if (match(v)) hits++
      }
    }
    const ms = performance.now() - started
    console.log(`# ${JSON.stringify(pattern.slice(0, 24))}… (${pattern.length} chars) × 20,000 values of 64 chars: ${ms.toFixed(1)} ms, ${hits} matches`)
    assert.ok(ms < 2000, `a hostile pattern took ${ms.toFixed(0)} ms for 20,000 values`)
  }
})
