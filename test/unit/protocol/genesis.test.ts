/**
 * protocol/genesis.ts: the founding record. The frozen vector (test/vectors/peerpacs-genesis.json),
 * createGenesis/readGenesis round trip, org id = hex SHA-256 of the signed bytes; a record signed
 * by a key other than the admin it names, signed for another domain, malformed, or tampered
 * anywhere is refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeCanonical, type CanonicalValue } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { encodeEnvelope, signEnvelope } from '../../../protocol/envelope.ts'
import { DecodeError, InvalidArgumentError, NotCanonicalError, SignatureError } from '../../../protocol/errors.ts'
import { createGenesis, GENESIS_DOMAIN, isOrgId, readGenesis } from '../../../protocol/genesis.ts'
import { generateNodeKey, nodeKeyFromSecret, type NodeKeyPair } from '../../../protocol/identity.ts'
import { fixedRandom, flipBit, h, hx, loadVectors, Rng, throwsPeerpacs } from './helpers.ts'

interface GenesisVector {
  adminSecret: string, adminPublic: string, name: string, recoveryPublicKey: string, created: number, nonce: string, bytes: string, orgId: string
}
const v = loadVectors<GenesisVector>('peerpacs-genesis.json')
const p = nobleProvider
const admin = nodeKeyFromSecret(h(v.adminSecret))
const rng = new Rng(50)
const other = generateNodeKey(rng.random)

function body (overrides: Record<string, CanonicalValue> = {}): Uint8Array {
  return encodeCanonical({ name: v.name, admin: admin.publicKey, recovery: h(v.recoveryPublicKey), created: v.created, nonce: h(v.nonce), ...overrides })
}
function record (payload: Uint8Array, key: NodeKeyPair = admin, domain = GENESIS_DOMAIN): Uint8Array {
  return encodeEnvelope(signEnvelope(key, domain, payload))
}

test('frozen vector: createGenesis gives exactly the bytes and org id; readGenesis gives the fields', () => {
  assert.equal(hx(admin.publicKey), v.adminPublic)
  const { bytes, genesis } = createGenesis(p, admin, { name: v.name, recoveryPublicKey: h(v.recoveryPublicKey), created: v.created, random: fixedRandom(h(v.nonce)) })
  assert.equal(hx(bytes), v.bytes)
  assert.equal(genesis.orgId, v.orgId)
  assert.equal(hx(sha256(h(v.bytes))), v.orgId, 'org id = hex SHA-256 of the bytes')
  const read = readGenesis(p, h(v.bytes))
  assert.deepEqual(read, genesis)
  assert.equal(read.name, v.name)
  assert.equal(hx(read.admin), v.adminPublic)
  assert.equal(hx(read.recovery), v.recoveryPublicKey)
  assert.equal(read.created, v.created)
  assert.equal(hx(record(body())), v.bytes, 'the format, rebuilt from its parts')
})

test('round trip with random keys; every founding has its own org id, even with identical fields', () => {
  const ids = new Set<string>()
  for (let i = 0; i < 10; i++) {
    const key = generateNodeKey(rng.random)
    const { bytes, genesis } = createGenesis(p, key, { name: `Clinic ${i} — ü水`, recoveryPublicKey: rng.bytes(32), created: 1_700_000_000_000 + i, random: rng.random })
    assert.deepEqual(readGenesis(p, bytes), genesis)
    assert.equal(genesis.orgId, hx(sha256(bytes)))
    assert.ok(isOrgId(genesis.orgId))
    assert.deepEqual(genesis.admin, key.publicKey)
    ids.add(genesis.orgId)
  }
  const again = (): string => createGenesis(p, admin, { name: 'Same', recoveryPublicKey: h(v.recoveryPublicKey), created: 1, random: rng.random }).genesis.orgId
  ids.add(again())
  ids.add(again())
  assert.equal(ids.size, 12, 'the random nonce separates identical foundings')
})

test('isOrgId: 64 lowercase hex digits', () => {
  assert.ok(isOrgId(v.orgId))
  for (const bad of [v.orgId.toUpperCase(), v.orgId.slice(1), `${v.orgId}0`, '', 1, null, undefined]) assert.equal(isOrgId(bad), false, String(bad))
})

test('a genesis signed by another key than the admin it names is refused', () => {
  const error = throwsPeerpacs(() => readGenesis(p, record(body(), other)), SignatureError)
  assert.match(error.message, /not signed by the admin it names/)
  // …and naming the other key as admin but signing with the first is refused too.
  throwsPeerpacs(() => readGenesis(p, record(body({ admin: other.publicKey }), admin)), SignatureError)
  // Naming the other key and signing with it is a valid founding.
  const good = readGenesis(p, record(body({ admin: other.publicKey }), other))
  assert.deepEqual(good.admin, other.publicKey)
})

test('a record signed for another domain is refused', () => {
  for (const domain of ['peerpacs/op/v1', 'peerpacs/org-genesis/v2', '']) {
    throwsPeerpacs(() => readGenesis(p, record(body(), admin, domain)), SignatureError, domain)
  }
})

test('malformed bodies are refused with DecodeError saying which field', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty name', body({ name: '' }), /genesis\.name/],
    ['name over 200 characters', body({ name: 'x'.repeat(201) }), /genesis\.name/],
    ['name not text', body({ name: 1 }), /genesis\.name: expected text/],
    ['nonce of 15 bytes', body({ nonce: new Uint8Array(15) }), /genesis\.nonce: expected 16 bytes/],
    ['recovery of 31 bytes', body({ recovery: new Uint8Array(31) }), /genesis\.recovery: expected 32 bytes/],
    ['created not an integer', body({ created: '2024' }), /genesis\.created: expected integer/],
    ['admin as text', body({ admin: 'me' }), /genesis\.admin: expected byte string/],
    ['payload not a map', encodeCanonical([1, 2]), /genesis: expected a map/]
  ]
  for (const [name, payload, message] of cases) {
    assert.match(throwsPeerpacs(() => readGenesis(p, record(payload)), DecodeError, name).message, message, name)
  }
  const bare = encodeCanonical({ name: v.name, admin: admin.publicKey, recovery: h(v.recoveryPublicKey), created: v.created })
  throwsPeerpacs(() => readGenesis(p, record(bare)), DecodeError, 'no nonce')
  assert.equal(readGenesis(p, record(body({ name: 'x'.repeat(200) }))).name.length, 200)
})

test('tampering anywhere in the record is refused', () => {
  const bytes = h(v.bytes)
  for (let byte = 0; byte < bytes.length; byte++) {
    const bit = byte * 8 + (byte % 8)
    throwsPeerpacs(() => readGenesis(p, flipBit(bytes, bit)), [DecodeError, NotCanonicalError, SignatureError], `bit ${bit}`)
  }
  throwsPeerpacs(() => readGenesis(p, bytes.subarray(0, bytes.length - 1)), DecodeError)
  throwsPeerpacs(() => readGenesis(p, new Uint8Array([...bytes, 0])), DecodeError)
})

test('createGenesis checks its arguments', () => {
  const options = { name: 'Clinic', recoveryPublicKey: new Uint8Array(32), created: 0, random: rng.random }
  assert.match(throwsPeerpacs(() => createGenesis(p, admin, { ...options, name: 5 as unknown as string }), InvalidArgumentError).message, /createGenesis\(name\)/)
  assert.match(throwsPeerpacs(() => createGenesis(p, admin, { ...options, recoveryPublicKey: new Uint8Array(31) }), InvalidArgumentError).message, /createGenesis\(recoveryPublicKey\)/)
})
