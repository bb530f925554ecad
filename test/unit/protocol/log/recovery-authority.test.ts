/**
 * The recovery key's authority (protocol/log/authority.ts header): it may admit a site member at
 * org scope, start an epoch and remove a member, which is what restoring from a backup needs,
 * and nothing else; an ordinary outsider key may do none of it. Incremental state equals replay.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateNodeKey, nodeIdFromPublicKey, nodeKeyFromSecret, type NodeKeyPair } from '../../../../protocol/identity.ts'
import { createEpoch, createOp, createOrg, isActiveMember, OpLog, stateDigest, type OpBodies, type OpType } from '../../../../protocol/log/index.ts'
import { nobleProvider as provider } from '../../../../protocol/crypto-provider.ts'
import { randomBytes } from 'node:crypto'

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

test('the recovery key admits a site, starts an epoch and removes the lost site; nothing else', () => {
  const founder = generateNodeKey(random)
  const recovery = nodeKeyFromSecret(random(32))
  const { op: genesis, orgId } = createOrg(provider, random, founder, { name: 'Recovered Clinic', recoveryPublicKey: recovery.publicKey, time: 1 })
  const log = new OpLog(provider, genesis)
  let time = 2
  const sign = <T extends OpType>(key: NodeKeyPair, type: T, body: OpBodies[T]) => createOp(provider, key, { org: orgId, seq: log.nextSeq(key.publicKey), parents: log.heads(), type, body, time: time++ } as never)
  const add = (key: NodeKeyPair, type: OpType, body: unknown) => log.add(sign(key, type as never, body as never) as never)

  const replacement = generateNodeKey(random)
  assert.equal(add(recovery, 'member.add', { member: replacement.publicKey, role: 'site', level: 'admin', scope: 'org' }).status, 'applied')
  assert.ok(isActiveMember(log.state, nodeIdFromPublicKey(replacement.publicKey)))
  const epoch = createEpoch(provider, random, { org: orgId, members: [{ member: founder.publicKey }, { member: replacement.publicKey }], recoveryPublicKey: recovery.publicKey })
  assert.equal(add(recovery, 'epoch.start', epoch.body).status, 'applied')
  const after = createEpoch(provider, random, { org: orgId, members: [{ member: replacement.publicKey }], recoveryPublicKey: recovery.publicKey })
  assert.equal(add(recovery, 'member.remove', { member: founder.publicKey, scope: 'org', epoch: after.body }).status, 'applied')
  assert.ok(!isActiveMember(log.state, nodeIdFromPublicKey(founder.publicKey)), 'the lost site is removed')
  assert.equal(add(founder, 'member.addresses', { addresses: [] }).reason, 'after-removal', 'the lost key can do no more')

  // Nothing beyond admission, epochs and removal.
  assert.equal(add(recovery, 'member.add', { member: generateNodeKey(random).publicKey, role: 'backup', level: 'relay', scope: 'org' }).reason, 'insufficient-level')
  assert.equal(add(recovery, 'member.addresses', { addresses: [] }).reason, 'not-member')
  assert.equal(add(recovery, 'member.add', { member: replacement.publicKey, role: 'site', level: 'admin', scope: 'org' }).reason, 'bad-target')

  // An outsider key may not do what the recovery key may.
  const outsider = generateNodeKey(random)
  assert.equal(add(outsider, 'member.add', { member: generateNodeKey(random).publicKey, role: 'site', level: 'admin', scope: 'org' }).reason, 'not-member')

  // The replacement now acts as an admin site.
  assert.equal(add(replacement, 'member.add', { member: generateNodeKey(random).publicKey, role: 'backup', level: 'relay', scope: 'org' }).status, 'applied')
  assert.equal(stateDigest(provider, log.state), stateDigest(provider, log.replay()), 'incremental state equals a full replay')
})
