/**
 * People's accounts in the log (docs/protocol.md "Users"): who may write user.* ops, what refers
 * to what, the last-writer rule for records and "a disable wins over a concurrent enable" — the
 * same state whatever order the ops arrive in, and the same as a full replay.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { randomBytes } from 'node:crypto'
import { generateNodeKey, nodeKeyFromSecret, type NodeKeyPair } from '../../../../protocol/identity.ts'
import { createOp, createOrg, OpLog, stateDigest, type OpBodies, type OpType, type SignedOp } from '../../../../protocol/log/index.ts'
import { nobleProvider as provider } from '../../../../protocol/crypto-provider.ts'
import { fromHex } from '../../../../protocol/encoding.ts'

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

function org () {
  const founder = generateNodeKey(random)
  const recovery = nodeKeyFromSecret(random(32))
  const { op: genesis, orgId } = createOrg(provider, random, founder, { name: 'People Clinic', recoveryPublicKey: recovery.publicKey, time: 1 })
  const log = new OpLog(provider, genesis)
  let time = 2
  const sign = <T extends OpType>(l: OpLog, key: NodeKeyPair, type: T, body: OpBodies[T]): SignedOp =>
    createOp(provider, key, { org: orgId, seq: l.nextSeq(key.publicKey), parents: l.heads(), type, body, time: time++ } as never) as SignedOp
  const epoch = fromHex(orgId)
  const body = (user: Uint8Array, sealed = random(40)) => ({ user, epoch, sealed })
  return { founder, recovery, genesis, orgId, log, sign, body }
}

test('a site member writes accounts; a read-level site, a backup and an outsider may not; the recovery key may', () => {
  const { founder, recovery, log, sign, body } = org()
  const user = random(16)
  assert.equal(log.add(sign(log, founder, 'user.add', body(user))).status, 'applied')
  const id = Buffer.from(user).toString('hex')
  assert.equal(log.state.users.get(id)?.disables.length, 0)

  const reader = generateNodeKey(random)
  const backup = generateNodeKey(random)
  assert.equal(log.add(sign(log, founder, 'member.add', { member: reader.publicKey, role: 'site', level: 'read', scope: 'org' })).status, 'applied')
  assert.equal(log.add(sign(log, founder, 'member.add', { member: backup.publicKey, role: 'backup', level: 'relay', scope: 'org' })).status, 'applied')
  assert.equal(log.add(sign(log, reader, 'user.update', body(user))).reason, 'insufficient-level')
  assert.equal(log.add(sign(log, backup, 'user.disable', body(user))).reason, 'insufficient-level')
  assert.equal(log.add(sign(log, generateNodeKey(random), 'user.add', body(random(16)))).reason, 'not-member')
  assert.equal(log.add(sign(log, recovery, 'user.update', body(user))).status, 'applied', 'the recovery key administers accounts after a restore')
  assert.equal(stateDigest(provider, log.state), stateDigest(provider, log.replay()))
})

test('an op for an account nobody created, a second add of one id, or an unknown epoch is refused', () => {
  const { founder, log, sign, body } = org()
  assert.equal(log.add(sign(log, founder, 'user.update', body(random(16)))).reason, 'unknown-user')
  assert.equal(log.add(sign(log, founder, 'user.disable', body(random(16)))).reason, 'unknown-user')
  const user = random(16)
  assert.equal(log.add(sign(log, founder, 'user.add', body(user))).status, 'applied')
  assert.equal(log.add(sign(log, founder, 'user.add', body(user))).reason, 'duplicate-user')
  assert.equal(log.add(sign(log, founder, 'user.update', { user, epoch: random(32), sealed: random(8) })).reason, 'bad-epoch')
  assert.throws(() => sign(log, founder, 'user.add', { user: random(15), epoch: body(user).epoch, sealed: random(8) } as never), /user/)
})

test('the record is the last writer by (depth, id); a disable wins over a concurrent enable; arrival order does not matter', () => {
  const { founder, genesis, log, sign, body } = org()
  const second = generateNodeKey(random)
  assert.equal(log.add(sign(log, founder, 'member.add', { member: second.publicKey, role: 'site', level: 'write', scope: 'org' })).status, 'applied')
  const user = random(16)
  const id = Buffer.from(user).toString('hex')
  const add = sign(log, founder, 'user.add', body(user))
  log.add(add)
  const disable = sign(log, founder, 'user.disable', body(user))
  log.add(disable)
  // Two replicas diverge: A enables after seeing the disable; B, concurrently, disables again and updates.
  const a = new OpLog(provider, genesis)
  const b = new OpLog(provider, genesis)
  const base = log.ops().filter((o) => o.type !== 'org.genesis')
  a.addMany(base); b.addMany(base)
  const enable = sign(a, founder, 'user.enable', body(user))
  assert.equal(a.add(enable).status, 'applied')
  assert.equal(a.state.users.get(id)!.disables.length, 0, 'the enable lifted the disable it saw')
  const disable2 = sign(b, second, 'user.disable', body(user))
  assert.equal(b.add(disable2).status, 'applied')
  const update = sign(b, second, 'user.update', body(user))
  assert.equal(b.add(update).status, 'applied')

  const merged = [enable, disable2, update]
  const orders = [[0, 1, 2], [1, 2, 0], [1, 0, 2]]
  const digests = new Set<string>()
  for (const order of orders) {
    const replica = new OpLog(provider, genesis)
    replica.addMany(base)
    for (const i of order) assert.equal(replica.add(merged[i]!).status, 'applied')
    const u = replica.state.users.get(id)!
    assert.deepEqual(u.disables, [disable2.idHex], 'the concurrent disable still holds')
    assert.equal(u.record.op, update.idHex, 'the deepest update is the record')
    digests.add(stateDigest(provider, replica.state))
    assert.equal(stateDigest(provider, replica.state), stateDigest(provider, replica.replay()))
  }
  assert.equal(digests.size, 1)
  // Two concurrent adds of one id: the same one wins everywhere.
  const twin = random(16)
  const x = new OpLog(provider, genesis); x.addMany(base)
  const y = new OpLog(provider, genesis); y.addMany(base)
  const addX = sign(x, founder, 'user.add', body(twin))
  const addY = sign(y, second, 'user.add', body(twin))
  x.add(addX); y.add(addY)
  x.add(addY); y.add(addX)
  assert.equal(stateDigest(provider, x.state), stateDigest(provider, y.state))
  assert.equal(x.state.users.get(Buffer.from(twin).toString('hex'))!.addOp, y.state.users.get(Buffer.from(twin).toString('hex'))!.addOp)
  assert.equal(stateDigest(provider, x.state), stateDigest(provider, x.replay()))
})
