/**
 * Sealing audit records for `audit.event` ops: round trip; the box is exactly
 * secretbox(HKDF(epoch key, LABELS.auditKey), record, canonical(['peerpacs/audit/v1', org, author]));
 * a wrong key, org or author, or any flipped bit, fails with AuthenticationError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeCanonical } from '../../../../protocol/canonical.ts'
import { nobleProvider } from '../../../../protocol/crypto-provider.ts'
import { AuthenticationError, DecodeError, InvalidArgumentError } from '../../../../protocol/errors.ts'
import type { OrgId } from '../../../../protocol/genesis.ts'
import { hkdfSha256, LABELS } from '../../../../protocol/kdf.ts'
import { secretboxOpen, secretboxSeal, SECRETBOX_OVERHEAD } from '../../../../protocol/secretbox.ts'
import { AUDIT_AAD_DOMAIN, decodeAuditRecord, encodeAuditRecord, openAuditRecord, sealAuditRecord, type AuditRecord } from '../../../../protocol/audit/index.ts'
import { counterRandom, flipBit, Rng, throwsPeerpacs } from '../helpers.ts'
import { sampleRecords } from './fixtures.ts'

const p = nobleProvider
const rng = new Rng(42)
const epochKey = rng.bytes(32)
const author = rng.bytes(32)
const org = 'c'.repeat(64) as OrgId
const context = { org, author }
const record = sampleRecords()[0]![1]

test('seal → open round-trips every sample record', () => {
  for (const [name, r] of sampleRecords()) {
    assert.deepEqual(openAuditRecord(p, epochKey, context, sealAuditRecord(p, rng.random, epochKey, context, r)), r, name)
  }
})

test('the box is secretbox under the derived audit key with AAD canonical([domain, org, author])', () => {
  assert.equal(AUDIT_AAD_DOMAIN, 'peerpacs/audit/v1')
  const sealed = sealAuditRecord(p, counterRandom(7), epochKey, context, record)
  const key = hkdfSha256(epochKey, new Uint8Array(0), LABELS.auditKey)
  const aad = encodeCanonical([AUDIT_AAD_DOMAIN, org, author])
  assert.deepEqual(sealed, secretboxSeal(p, counterRandom(7), key, encodeAuditRecord(record), aad))
  assert.deepEqual(decodeAuditRecord(secretboxOpen(p, key, sealed, aad)), record)
  assert.equal(sealed.length, encodeAuditRecord(record).length + SECRETBOX_OVERHEAD)
  // The epoch key itself does not open it: audit boxes use their own derived key.
  throwsPeerpacs(() => secretboxOpen(p, epochKey, sealed, aad), AuthenticationError)
})

test('wrong epoch key, org or author, and every flipped bit, fail with AuthenticationError', () => {
  const sealed = sealAuditRecord(p, rng.random, epochKey, context, record)
  throwsPeerpacs(() => openAuditRecord(p, rng.bytes(32), context, sealed), AuthenticationError, 'wrong key')
  throwsPeerpacs(() => openAuditRecord(p, epochKey, { org: 'd'.repeat(64) as OrgId, author }, sealed), AuthenticationError, 'wrong org')
  throwsPeerpacs(() => openAuditRecord(p, epochKey, { org, author: rng.bytes(32) }, sealed), AuthenticationError, 'wrong author')
  for (let bit = 8; bit < sealed.length * 8; bit += 7) {
    throwsPeerpacs(() => openAuditRecord(p, epochKey, context, flipBit(sealed, bit)), AuthenticationError, `bit ${bit}`)
  }
  throwsPeerpacs(() => openAuditRecord(p, epochKey, context, flipBit(sealed, 0)), DecodeError, 'version byte')
  throwsPeerpacs(() => openAuditRecord(p, epochKey, context, sealed.subarray(0, 20)), DecodeError, 'truncated')
})

test('a box holding bytes that are not an audit record opens but does not decode', () => {
  const key = hkdfSha256(epochKey, new Uint8Array(0), LABELS.auditKey)
  const aad = encodeCanonical([AUDIT_AAD_DOMAIN, org, author])
  const sealed = secretboxSeal(p, rng.random, key, encodeCanonical({ eventId: 1 }), aad)
  throwsPeerpacs(() => openAuditRecord(p, epochKey, context, sealed), DecodeError)
})

test('arguments are checked before any work', () => {
  throwsPeerpacs(() => sealAuditRecord(p, rng.random, epochKey.subarray(1), context, record), InvalidArgumentError)
  throwsPeerpacs(() => sealAuditRecord(p, rng.random, epochKey, { org: 'ABC' as OrgId, author }, record), InvalidArgumentError)
  throwsPeerpacs(() => sealAuditRecord(p, rng.random, epochKey, { org, author: author.subarray(2) }, record), InvalidArgumentError)
  throwsPeerpacs(() => sealAuditRecord(p, rng.random, epochKey, context, { ...record, action: 'Q' } as unknown as AuditRecord), InvalidArgumentError)
  throwsPeerpacs(() => openAuditRecord(p, epochKey, context, 'x' as unknown as Uint8Array), InvalidArgumentError)
  throwsPeerpacs(() => openAuditRecord(p, epochKey, null as unknown as typeof context, new Uint8Array(64)), InvalidArgumentError)
})
