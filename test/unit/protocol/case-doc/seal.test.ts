/**
 * protocol/case-doc/seal.ts: round trip; the box is a secretbox under HKDF(data key,
 * 'peerpacs/v1/case-update-key') with AAD canonical(['peerpacs/case-update/v1', org, study,
 * author]), opened here independently with @noble; a wrong key, org, study or author, and any
 * damage, are AuthenticationError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { encode, rfc8949EncodeOptions } from 'cborg'
import * as Y from 'yjs'
import { CaseDoc } from '../../../../protocol/case-doc/case-doc.ts'
import { openCaseUpdate, sealCaseUpdate, type CaseUpdateContext } from '../../../../protocol/case-doc/seal.ts'
import { AuthenticationError, InvalidArgumentError } from '../../../../protocol/errors.ts'
import type { OrgId } from '../../../../protocol/genesis.ts'
import { SECRETBOX_OVERHEAD } from '../../../../protocol/secretbox.ts'
import { flipBit, Rng, throwsPeerpacs, utf8 } from '../helpers.ts'
import { members, org, otherStudy, p, study } from './fixtures.ts'

const [alice, bob] = members(2)
const rng = new Rng(31)
const dataKey = rng.bytes(32)
const context: CaseUpdateContext = { org: org as OrgId, study, author: alice! }

function realUpdate (): Uint8Array {
  const doc = new CaseDoc({ provider: p, study, member: alice! })
  return doc.localChange((e) => { e.addNote('Compare with prior CT.', 1_700_000_000_000); e.setLabel('priority', 'urgent') })!
}

test('round trip; the box is the update sealed under the derived key and the bound AAD', () => {
  const update = realUpdate()
  const sealed = sealCaseUpdate(p, rng.random, dataKey, context, update)
  assert.equal(sealed.length, update.length + SECRETBOX_OVERHEAD)
  assert.deepEqual(openCaseUpdate(p, dataKey, context, sealed), update)
  // independently: 0x01 ‖ nonce ‖ XChaCha20-Poly1305(HKDF(dataKey, '', label), nonce, update, aad)
  const key = hkdf(sha256, dataKey, new Uint8Array(0), utf8('peerpacs/v1/case-update-key'), 32)
  const aad = encode(['peerpacs/case-update/v1', org, study, alice!], rfc8949EncodeOptions)
  assert.equal(sealed[0], 1)
  assert.deepEqual(xchacha20poly1305(key, sealed.subarray(1, 25), aad).decrypt(sealed.subarray(25)), update)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, openCaseUpdate(p, dataKey, context, sealed))
  assert.equal(doc.getMap('labels').get('priority'), 'urgent')
  assert.deepEqual(openCaseUpdate(p, dataKey, context, sealCaseUpdate(p, rng.random, dataKey, context, new Uint8Array(0))), new Uint8Array(0))
})

test('a wrong key, org, study or author, or any damage, is AuthenticationError', () => {
  const sealed = sealCaseUpdate(p, rng.random, dataKey, context, realUpdate())
  throwsPeerpacs(() => openCaseUpdate(p, flipBit(dataKey, 3), context, sealed), AuthenticationError)
  throwsPeerpacs(() => openCaseUpdate(p, dataKey, { ...context, org: 'f'.repeat(64) as OrgId }, sealed), AuthenticationError)
  throwsPeerpacs(() => openCaseUpdate(p, dataKey, { ...context, study: otherStudy }, sealed), AuthenticationError)
  throwsPeerpacs(() => openCaseUpdate(p, dataKey, { ...context, author: bob! }, sealed), AuthenticationError)
  for (let bit = 8; bit < sealed.length * 8; bit += 7) {
    throwsPeerpacs(() => openCaseUpdate(p, dataKey, context, flipBit(sealed, bit)), AuthenticationError, `bit ${bit}`)
  }
  throwsPeerpacs(() => openCaseUpdate(p, dataKey, context, sealed.subarray(0, sealed.length - 1)), AuthenticationError)
})

test('wrong-typed arguments are InvalidArgumentError', () => {
  const update = realUpdate()
  throwsPeerpacs(() => sealCaseUpdate(p, rng.random, new Uint8Array(16), context, update), InvalidArgumentError)
  throwsPeerpacs(() => sealCaseUpdate(p, rng.random, dataKey, null as never, update), InvalidArgumentError)
  throwsPeerpacs(() => sealCaseUpdate(p, rng.random, dataKey, { ...context, org: 'x' as OrgId }, update), InvalidArgumentError)
  throwsPeerpacs(() => sealCaseUpdate(p, rng.random, dataKey, { ...context, study: 'x' as never }, update), InvalidArgumentError)
  throwsPeerpacs(() => sealCaseUpdate(p, rng.random, dataKey, { ...context, author: new Uint8Array(31) }, update), InvalidArgumentError)
  throwsPeerpacs(() => sealCaseUpdate(p, rng.random, dataKey, context, 'x' as never), InvalidArgumentError)
  throwsPeerpacs(() => openCaseUpdate(p, dataKey, context, null as never), InvalidArgumentError)
})
