/**
 * protocol/case-doc/client-id.ts: the client id is the first 4 bytes of SHA-256 over the
 * canonical encoding of [domain, study, member], recomputed here independently; it differs by
 * member and by study; collisions among a study's writers are found.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { encode, rfc8949EncodeOptions } from 'cborg'
import { caseClientCollisions, caseClientId } from '../../../../protocol/case-doc/client-id.ts'
import type { CryptoProvider } from '../../../../protocol/crypto-provider.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { members, otherStudy, p, study } from './fixtures.ts'

test('the id is the first four bytes (big-endian) of SHA-256(canonical([domain, study, member]))', () => {
  for (const member of members(20)) {
    const digest = sha256(encode(['peerpacs/case-client/v1', study, member], rfc8949EncodeOptions))
    const expected = new DataView(digest.buffer, digest.byteOffset).getUint32(0)
    const id = caseClientId(p, member, study)
    assert.equal(id, expected)
    assert.ok(Number.isInteger(id) && id >= 0 && id < 2 ** 32)
    assert.equal(caseClientId(p, member.slice(), study), id, 'deterministic')
  }
})

test('ids differ between members and between studies', () => {
  const list = members(200)
  assert.equal(new Set(list.map(m => caseClientId(p, m, study))).size, 200)
  for (const member of list.slice(0, 20)) assert.notEqual(caseClientId(p, member, study), caseClientId(p, member, otherStudy))
  assert.deepEqual(caseClientCollisions(p, list, study), [])
})

test('collisions among a study\'s writers are reported (forced with a provider whose hash is constant)', () => {
  const constant: CryptoProvider = { ...p, sha256: () => new Uint8Array(32) }
  const [a, b, c] = members(3)
  assert.equal(caseClientId(constant, a!, study), 0)
  const pairs = caseClientCollisions(constant, [a!, b!, a!, c!], study)
  assert.deepEqual(pairs, [[a, b], [a, c], [b, c]], 'a member listed twice does not collide with itself')
})

test('wrong-typed arguments are InvalidArgumentError', () => {
  const [a] = members(1)
  for (const bad of [null, 'x', new Uint8Array(31), new Uint8Array(33)]) throwsPeerpacs(() => caseClientId(p, bad as never, study), InvalidArgumentError)
  for (const bad of [null, 42, 'ABCDEF0123456789abcdef0123456789', study + '00']) throwsPeerpacs(() => caseClientId(p, a!, bad as never), InvalidArgumentError)
  throwsPeerpacs(() => caseClientId({} as never, a!, study), InvalidArgumentError)
  throwsPeerpacs(() => caseClientCollisions(p, [a!, new Uint8Array(2)], study), InvalidArgumentError)
})
