/**
 * decodeOp(provider, bytes, { signature: 'trusted' }) (protocol/log/op.ts): for bytes this node
 * verified before, it returns exactly what the verifying decode returns, without one Ed25519
 * check or canonical re-encoding; every other step-1 check still runs. Frozen ops from vectors/ops.json (one per type).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { encode } from 'cborg'
import type { CryptoProvider } from '../../../../protocol/crypto-provider.ts'
import { encodeEnvelope, signEnvelope } from '../../../../protocol/envelope.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { nodeKeyFromSecret } from '../../../../protocol/identity.ts'
import { encodeCanonical } from '../../../../protocol/canonical.ts'
import { BODY_CODECS, decodeOp, OP_DOMAIN, OpRejectedError, type OpBodies } from '../../../../protocol/log/index.ts'
import { flipBit, h, sequence } from '../helpers.ts'
import { p } from './fixtures.ts'

const frozen = JSON.parse(readFileSync(new URL('./vectors/ops.json', import.meta.url), 'utf8')) as { ops: Array<{ type: string, id: string, bytes: string }> }

function counting (): { provider: CryptoProvider, calls: () => number } {
  let calls = 0
  return { provider: { ...p, ed25519Verify: (s, m, k) => { calls++; return p.ed25519Verify(s, m, k) } }, calls: () => calls }
}

test('trusted decoding returns what verified decoding returns, for one op of every type, with no signature check', () => {
  const counter = counting()
  for (const v of frozen.ops) {
    const verified = decodeOp(p, h(v.bytes))
    const trusted = decodeOp(counter.provider, h(v.bytes), { signature: 'trusted' })
    assert.deepEqual(trusted, verified, v.type)
  }
  assert.equal(counter.calls(), 0)
  const verifying = counting()
  for (const v of frozen.ops) decodeOp(verifying.provider, h(v.bytes), { signature: 'verify' })
  assert.equal(verifying.calls(), frozen.ops.length)
})

test('trusted decoding skips the signature and canonical-encoding checks only (so only bytes proven verified may be trusted); every other check runs', () => {
  const bytes = h(frozen.ops[1]!.bytes)
  const key = nodeKeyFromSecret(sequence(1, 32))
  const forged = flipBit(bytes, (bytes.length - 10) * 8)
  assert.throws(() => decodeOp(p, forged), (e: unknown) => e instanceof OpRejectedError && e.reason === 'signature')
  assert.equal(decodeOp(p, forged, { signature: 'trusted' }).type, frozen.ops[1]!.type)
  const rejects = (input: Uint8Array, reason: string): void => {
    assert.throws(() => decodeOp(p, input, { signature: 'trusted' }), (e: unknown) => e instanceof OpRejectedError && e.reason === reason, reason)
  }
  rejects(new Uint8Array(300 * 1024), 'too-large')
  rejects(bytes.subarray(0, bytes.length - 1), 'malformed')
  rejects(encodeEnvelope(signEnvelope(key, 'peerpacs/other/v1', h(frozen.ops[1]!.bytes))), 'malformed')
  // The canonical-encoding check (by re-encoding) is skipped too; the shape and body checks are not.
  const add = decodeOp(p, h(frozen.ops.find((o) => o.type === 'member.add')!.bytes))
  const payload = { org: add.org, author: key.publicKey, seq: add.seq, parents: [...add.parents], type: 'member.add', body: BODY_CODECS['member.add'].encode(add.body as OpBodies['member.add']), time: add.time }
  const loose = encodeEnvelope(signEnvelope(key, OP_DOMAIN, encode({ time: payload.time, type: payload.type, body: payload.body, org: payload.org, seq: payload.seq, author: payload.author, parents: payload.parents }, { mapSorter: () => 0 })))
  assert.throws(() => decodeOp(p, loose), (e: unknown) => e instanceof OpRejectedError && e.reason === 'not-canonical')
  assert.equal(decodeOp(p, loose, { signature: 'trusted' }).type, 'member.add')
  rejects(encodeEnvelope(signEnvelope(key, OP_DOMAIN, encodeCanonical({ ...payload, parents: [] }))), 'malformed')
  rejects(encodeEnvelope(signEnvelope(key, OP_DOMAIN, encodeCanonical({ ...payload, body: { ...(payload.body as object), extra: 1 } }))), 'bad-body')
  rejects(encodeEnvelope(signEnvelope(key, OP_DOMAIN, encodeCanonical({ ...payload, type: 'member.promote' }))), 'unknown-type')
  assert.throws(() => decodeOp(p, bytes, { signature: 'skip' as never }), InvalidArgumentError)
})
