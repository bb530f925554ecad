/**
 * protocol/log/epoch.ts, epoch history: an epoch.start can carry the earlier epoch keys its issuer
 * holds, sealed with the new epoch key; a site member added later opens its box, then the history,
 * and gets the genesis key (reads what was sealed before it joined). Absent history is exactly
 * the old encoding; the AAD pins the history to its org and its body; the strict decoder takes
 * `history` in epoch.start only; malformed histories and inputs are refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeCanonical, encodeCanonical, type CanonicalMap } from '../../../../protocol/canonical.ts'
import { AuthenticationError, DecodeError, InvalidArgumentError } from '../../../../protocol/errors.ts'
import { x25519SecretKey } from '../../../../protocol/identity.ts'
import { secretboxSeal } from '../../../../protocol/secretbox.ts'
import {
  createEpoch, decodeOp, epochHistoryAad, epochStartCodec, genesisCodec, memberRemoveCodec, openEpoch, openEpochHistory, type EpochBody, type GenesisBody
} from '../../../../protocol/log/index.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { p, World } from './fixtures.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('a site member added later opens the new epoch, then its history: the genesis key and every earlier one', () => {
  const w = new World(31)
  const org = w.genesis.idHex
  const founderKey = openEpoch(p, (w.genesis.body as GenesisBody).epoch, '', { member: w.founder.key.publicKey, secretKey: x25519SecretKey(w.founder.key.secretKey) })
  // A second epoch before the newcomer arrives (founder alone).
  const second = w.epoch([w.founder.key])
  const secondOp = w.founder.write('epoch.start', second.body)
  const b = w.node()
  w.founder.write('member.add', { member: b.key.publicKey, role: 'site', level: 'write', scope: 'org' })
  const previous = [{ id: secondOp.idHex, key: second.key }, { id: org, key: founderKey }]
  const third = createEpoch(p, w.random, { org, members: [{ member: w.founder.key.publicKey }, { member: b.key.publicKey }], recoveryPublicKey: w.recovery.publicKey, previous })
  const op = w.founder.write('epoch.start', third.body)
  assert.equal(w.founder.log.state.epochs.length, 3, 'the epoch with a history applies')
  b.pull(w.founder)
  const decoded = decodeOp(p, op.bytes)
  assert.equal(decoded.type, 'epoch.start')
  const body = decoded.body as EpochBody
  assert.ok(body.history !== undefined)
  // B cannot open the genesis or the second epoch's boxes: it was not a member then.
  assert.throws(() => openEpoch(p, (w.genesis.body as GenesisBody).epoch, '', { member: b.key.publicKey, secretKey: x25519SecretKey(b.key.secretKey) }), DecodeError)
  const key = openEpoch(p, body, org, { member: b.key.publicKey, secretKey: x25519SecretKey(b.key.secretKey) })
  assert.equal(hex(key), hex(third.key))
  const history = openEpochHistory(p, body, org, key)
  const expected = [...previous].sort((x, y) => x.id < y.id ? -1 : 1)
  assert.deepEqual(history.map((e) => [e.id, hex(e.key)]), expected.map((e) => [e.id, hex(e.key)]), 'ascending by id, every earlier key')
  assert.ok(history.some((e) => e.id === org && hex(e.key) === hex(founderKey)), 'the genesis epoch key')
  // The recovery key opens the epoch, and with it the history, too.
  const viaRecovery = openEpoch(p, body, org, { recoverySecret: x25519SecretKey(w.recovery.secretKey) })
  assert.equal(openEpochHistory(p, body, org, viaRecovery).length, 2)
})

test('no `previous`: no history field, the encoding of before; openEpochHistory gives []', () => {
  const w = new World(32)
  const org = w.genesis.idHex
  const plain = createEpoch(p, w.random, { org, members: [{ member: w.founder.key.publicKey }], recoveryPublicKey: w.recovery.publicKey })
  assert.equal('history' in plain.body, false)
  assert.deepEqual(Object.keys(epochStartCodec.encode(plain.body) as CanonicalMap).sort(), ['recovery', 'wraps'])
  assert.deepEqual(openEpochHistory(p, plain.body, org, plain.key), [])
  // An empty list is a history too (a node holding no key yet), and opens as [].
  const empty = createEpoch(p, w.random, { org, members: [{ member: w.founder.key.publicKey }], recoveryPublicKey: w.recovery.publicKey, previous: [] })
  assert.deepEqual(openEpochHistory(p, empty.body, org, empty.key), [])
})

test('the history opens only with its epoch key, in its org, in its body', () => {
  const w = new World(33)
  const org = w.genesis.idHex
  const members = [{ member: w.founder.key.publicKey }]
  const previous = [{ id: org, key: w.rng.bytes(32) }]
  const a = createEpoch(p, w.random, { org, members, recoveryPublicKey: w.recovery.publicKey, previous })
  const b = createEpoch(p, w.random, { org, members, recoveryPublicKey: w.recovery.publicKey, previous })
  throwsPeerpacs(() => openEpochHistory(p, a.body, org, b.key), AuthenticationError, 'another epoch\'s key')
  throwsPeerpacs(() => openEpochHistory(p, a.body, 'ff'.repeat(32), a.key), AuthenticationError, 'another org')
  // Moved into another body (with its key handed along): the AAD names the body's recovery box.
  throwsPeerpacs(() => openEpochHistory(p, { ...b.body, history: a.body.history! }, org, a.key), AuthenticationError, 'moved to another body')
  const damaged = a.body.history!.slice()
  damaged[damaged.length - 1]! ^= 1
  throwsPeerpacs(() => openEpochHistory(p, { ...a.body, history: damaged }, org, a.key), AuthenticationError, 'a flipped bit')
})

test('a history whose content is malformed is a DecodeError (unsorted, duplicate, wrong lengths, not a list)', () => {
  const w = new World(34)
  const org = w.genesis.idHex
  const { key, body } = createEpoch(p, w.random, { org, members: [{ member: w.founder.key.publicKey }], recoveryPublicKey: w.recovery.publicKey })
  const id1 = new Uint8Array(32).fill(1)
  const id2 = new Uint8Array(32).fill(2)
  const k = new Uint8Array(32).fill(9)
  const contents: Array<[string, Uint8Array]> = [
    ['unsorted', encodeCanonical([[id2, k], [id1, k]])],
    ['duplicate', encodeCanonical([[id1, k], [id1, k]])],
    ['short id', encodeCanonical([[id1.subarray(1), k]])],
    ['short key', encodeCanonical([[id1, k.subarray(1)]])],
    ['triple', encodeCanonical([[id1, k, k]])],
    ['a map', encodeCanonical({ a: 1 })],
    ['not CBOR', new Uint8Array([0xff, 0x00])]
  ]
  for (const [what, plain] of contents) {
    const history = secretboxSeal(p, w.random, key, plain, epochHistoryAad(org, body.recovery))
    assert.throws(() => openEpochHistory(p, { ...body, history }, org, key), (e: unknown) => e instanceof DecodeError || (e as Error).name === 'NotCanonicalError', what)
  }
})

test('the strict decoder: history in epoch.start only; bounded; of bytes', () => {
  const w = new World(35)
  const org = w.genesis.idHex
  const e = createEpoch(p, w.random, { org, members: [{ member: w.founder.key.publicKey }], recoveryPublicKey: w.recovery.publicKey, previous: [{ id: org, key: w.rng.bytes(32) }] })
  const encoded = epochStartCodec.encode(e.body) as CanonicalMap
  assert.equal(hex(epochStartCodec.decode(encoded).history!), hex(e.body.history!))
  assert.throws(() => memberRemoveCodec.decode({ member: w.founder.key.publicKey, scope: 'org', epoch: encoded }), /unknown fields "history"/)
  const genesis = genesisCodec.encode(w.genesis.body as GenesisBody) as CanonicalMap
  assert.throws(() => genesisCodec.decode({ ...genesis, epoch: { ...(genesis.epoch as CanonicalMap), history: e.body.history! } }), /unknown fields "history"/)
  assert.throws(() => epochStartCodec.decode({ ...encoded, history: 'text' }), /history: expected a byte string/)
  assert.throws(() => epochStartCodec.decode({ ...encoded, history: new Uint8Array(10) }), /history: expected/)
  assert.throws(() => epochStartCodec.decode({ ...encoded, history: new Uint8Array(200_000) }), /history: expected/)
  // Round trip through canonical bytes.
  const bytes = encodeCanonical(encoded)
  assert.equal(hex(epochStartCodec.decode(decodeCanonical(bytes)).history!), hex(e.body.history!))
})

test('createEpoch(previous): checked at the boundary, sorted whatever the order given', () => {
  const w = new World(36)
  const org = w.genesis.idHex
  const base = { org, members: [{ member: w.founder.key.publicKey }], recoveryPublicKey: w.recovery.publicKey }
  const bad: Array<[string, unknown]> = [
    ['not an array', 'x'],
    ['id not hex', [{ id: 'zz', key: new Uint8Array(32) }]],
    ['short key', [{ id: org, key: new Uint8Array(16) }]],
    ['null entry', [null]],
    ['twice', [{ id: org, key: new Uint8Array(32) }, { id: org, key: new Uint8Array(32) }]]
  ]
  for (const [what, previous] of bad) {
    assert.throws(() => createEpoch(p, w.random, { ...base, previous: previous as never }), (e: unknown) => e instanceof InvalidArgumentError || e instanceof DecodeError, what)
  }
  const ids = ['cc', 'aa', 'bb'].map((c) => c.repeat(32))
  const e = createEpoch(p, w.random, { ...base, previous: ids.map((id) => ({ id, key: new Uint8Array(32).fill(id.charCodeAt(0)) })) })
  assert.deepEqual(openEpochHistory(p, e.body, org, e.key).map((x) => x.id), [...ids].sort())
})
