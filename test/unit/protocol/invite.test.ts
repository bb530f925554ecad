/**
 * protocol/invite.ts: invite codes round-trip; the format re-derived by hand (prefix, base64url
 * of canonical CBOR, 4-byte SHA-256 checksum); whitespace from line-wrapping is ignored; every
 * single changed character is caught as INVITE_DAMAGED; a table of malformed codes; a code whose
 * checksum holds but whose fields are wrong is INVITE_INVALID; expiry; wrong-typed inputs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { base64urlnopad } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeCanonical, decodeCanonical, type CanonicalMap } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { InvalidArgumentError } from '../../../protocol/errors.ts'
import {
  decodeInvite, encodeInvite, INVITE_PREFIX, InviteDamagedError, InviteExpiredError, InviteInvalidError, type InviteCode
} from '../../../protocol/invite.ts'
import type { StudyId } from '../../../protocol/study-id.ts'
import { hx, Rng, throwsPeerpacs, utf8 } from './helpers.ts'

const p = nobleProvider
const NOW = Date.UTC(2026, 0, 10, 12, 0)
const PEER = '12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5'

function sample (rng = new Rng(1), over: Partial<InviteCode> = {}): InviteCode {
  return {
    v: 1,
    org: hx(rng.bytes(32)),
    role: 'site',
    level: 'write',
    scope: 'org',
    expires: NOW + 24 * 3600_000,
    secret: rng.bytes(32),
    addrs: [`/ip4/192.168.1.20/tcp/4001/p2p/${PEER}`, `/ip6/fd00::20/tcp/4001/p2p/${PEER}`],
    ...over
  }
}

/** Builds a code from any payload value, with a correct checksum: fields the checksum cannot judge. */
function forge (value: CanonicalMap): string {
  const payload = encodeCanonical(value)
  const check = sha256(new Uint8Array([...utf8('peerpacs/invite/v1'), ...payload])).subarray(0, 4)
  return INVITE_PREFIX + base64urlnopad.encode(new Uint8Array([...payload, ...check]))
}

test('round trip: every field comes back; the format is ppi1_ + base64url(canonical CBOR ‖ SHA-256[:4])', () => {
  const code = sample()
  const text = encodeInvite(p, code)
  assert.match(text, /^ppi1_[A-Za-z0-9_-]+$/)
  const back = decodeInvite(p, text, NOW)
  assert.deepEqual({ ...back, secret: hx(back.secret) }, { ...code, secret: hx(code.secret) })
  const bytes = base64urlnopad.decode(text.slice(5))
  const payload = bytes.subarray(0, bytes.length - 4)
  assert.equal(hx(bytes.subarray(bytes.length - 4)), hx(sha256(new Uint8Array([...utf8('peerpacs/invite/v1'), ...payload])).subarray(0, 4)))
  const map = decodeCanonical(payload) as CanonicalMap
  assert.deepEqual(Object.keys(map).sort(), ['addrs', 'expires', 'level', 'org', 'role', 'scope', 'secret', 'v'])
  assert.equal(hx(map.org as Uint8Array), code.org)
  assert.equal(forge(map), text, 'the checksum re-derived by hand')
})

test('every role, and a specialist scoped to one study', () => {
  const rng = new Rng(2)
  for (const over of [{ role: 'backup', level: 'relay' }, { role: 'specialist', level: 'read', scope: 'ab'.repeat(16) as StudyId }, { role: 'site', level: 'admin' }] as const) {
    const code = sample(rng, over)
    const back = decodeInvite(p, encodeInvite(p, code), NOW)
    assert.equal(back.role, over.role)
    assert.equal(back.level, over.level)
    assert.equal(back.scope, code.scope)
  }
})

test('pasted with line breaks, spaces and tabs: still reads', () => {
  const text = encodeInvite(p, sample())
  const wrapped = '  ' + text.match(/.{1,40}/g)!.join('\n\t ') + '\n'
  assert.equal(hx(decodeInvite(p, wrapped, NOW).secret), hx(decodeInvite(p, text, NOW).secret))
})

test('a flipped character anywhere after the prefix is INVITE_DAMAGED (never a different invite)', () => {
  const text = encodeInvite(p, sample(new Rng(3)))
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const rng = new Rng(4)
  for (let i = INVITE_PREFIX.length; i < text.length; i++) {
    let c = text[i]!
    while (c === text[i]) c = alphabet[rng.int(0, alphabet.length - 1)]!
    const altered = text.slice(0, i) + c + text.slice(i + 1)
    const error = throwsPeerpacs(() => decodeInvite(p, altered, NOW), InviteDamagedError, `character ${i}`)
    assert.equal(error.code, 'INVITE_DAMAGED')
    assert.match(error.message, /the invite code is damaged or was altered/)
  }
})

test('a table of malformed codes: each is INVITE_DAMAGED and says why', () => {
  const text = encodeInvite(p, sample(new Rng(5)))
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /start with ppi1_/],
    ['no prefix', text.slice(5), /start with ppi1_/],
    ['another prefix', 'ppi2_' + text.slice(5), /start with ppi1_/],
    ['recovery key instead', 'PPRK1-ABCDE-FGHJK', /start with ppi1_/],
    ['prefix only', 'ppi1_', /too short|cut short/],
    ['truncated by one', text.slice(0, -1), /checksum|cut short/],
    ['truncated by half', text.slice(0, Math.floor(text.length / 2)), /checksum|cut short/],
    ['one character too many', text + 'A', /checksum|cut short/],
    ['standard base64 characters', text.slice(0, 20) + '+/' + text.slice(22), /alphabet/],
    ['padding', text + '==', /alphabet/],
    ['non-ASCII', text.slice(0, 30) + 'é' + text.slice(31), /alphabet/],
    ['two codes pasted together', text + text.slice(5), /checksum|cut short/],
    ['absurdly long', 'ppi1_' + 'A'.repeat(9000), /more than any invite/]
  ]
  for (const [what, bad, why] of cases) {
    const error = throwsPeerpacs(() => decodeInvite(p, bad, NOW), InviteDamagedError, what)
    assert.match(error.message, why, what)
    assert.ok(error.hint !== undefined)
  }
})

test('checksum right, fields wrong (another version or a bug): INVITE_INVALID naming the field', () => {
  const rng = new Rng(6)
  const good = decodeCanonical(base64urlnopad.decode(encodeInvite(p, sample(rng)).slice(5)).slice(0, -4)) as CanonicalMap
  const cases: Array<[string, CanonicalMap, RegExp]> = [
    ['version 2', { ...good, v: 2 }, /version 2/],
    ['unknown field', { ...good, extra: 1 }, /unknown fields/],
    ['missing secret', (({ secret, ...rest }) => rest)(good), /missing field "secret"/],
    ['short secret', { ...good, secret: new Uint8Array(31) }, /secret/],
    ['org as text', { ...good, org: 'ab'.repeat(32) }, /org/],
    ['bad role', { ...good, role: 'admin' }, /role/],
    ['bad level', { ...good, level: 'root' }, /level/],
    ['site at a study', { ...good, scope: 'ab'.repeat(16) }, /site member is invited at org scope/],
    ['backup at write', { ...good, role: 'backup', level: 'write' }, /backup/],
    ['no address', { ...good, addrs: [] }, /addresses/],
    ['address without /p2p/', { ...good, addrs: ['/ip4/10.0.0.1/tcp/4001'] }, /p2p/],
    ['address not a multiaddr', { ...good, addrs: ['10.0.0.1:4001/p2p/x'] }, /multiaddr/],
    ['expires zero', { ...good, expires: 0 }, /expires/],
    ['payload not a map', { list: [1] }, /missing field/]
  ]
  for (const [what, value, why] of cases) {
    const error = throwsPeerpacs(() => decodeInvite(p, forge(value), NOW), InviteInvalidError, what)
    assert.equal(error.code, 'INVITE_INVALID')
    assert.match(error.message, why, what)
  }
  // Not canonical CBOR (map keys unsorted) under a right checksum.
  const payload = new Uint8Array([0xa2, 0x61, 0x76, 0x01, 0x61, 0x61, 0x01])
  const check = sha256(new Uint8Array([...utf8('peerpacs/invite/v1'), ...payload])).subarray(0, 4)
  throwsPeerpacs(() => decodeInvite(p, INVITE_PREFIX + base64urlnopad.encode(new Uint8Array([...payload, ...check])), NOW), InviteInvalidError, 'non-canonical')
})

test('expiry: valid until the millisecond before, INVITE_EXPIRED from then on, saying when', () => {
  const code = sample(new Rng(7))
  const text = encodeInvite(p, code)
  assert.equal(decodeInvite(p, text, code.expires - 1).expires, code.expires)
  for (const now of [code.expires, code.expires + 3 * 3600_000]) {
    const error = throwsPeerpacs(() => decodeInvite(p, text, now), InviteExpiredError)
    assert.equal(error.code, 'INVITE_EXPIRED')
    assert.ok(error.message.includes(new Date(code.expires).toISOString()), error.message)
  }
})

test('wrong-typed or out-of-range inputs are InvalidArgumentErrors', () => {
  const code = sample(new Rng(8))
  const bad: Array<[string, () => unknown]> = [
    ['provider', () => encodeInvite({} as never, code)],
    ['code null', () => encodeInvite(p, null as never)],
    ['v', () => encodeInvite(p, { ...code, v: 2 as never })],
    ['org not hex', () => encodeInvite(p, { ...code, org: 'xyz' })],
    ['secret short', () => encodeInvite(p, { ...code, secret: new Uint8Array(16) })],
    ['expires float', () => encodeInvite(p, { ...code, expires: 1.5 })],
    ['role', () => encodeInvite(p, { ...code, role: 'king' as never })],
    ['addrs empty', () => encodeInvite(p, { ...code, addrs: [] })],
    ['addrs without /p2p/', () => encodeInvite(p, { ...code, addrs: ['/ip4/1.2.3.4/tcp/1'] })],
    ['decode text', () => decodeInvite(p, 42 as never, NOW)],
    ['decode now', () => decodeInvite(p, 'ppi1_', 1.5)]
  ]
  for (const [what, fn] of bad) throwsPeerpacs(fn, InvalidArgumentError, what)
})
