/**
 * protocol/log OpLog: membership flows and the authority rules of docs/protocol.md, each rejection
 * with its reason; forks; conflicting removals; epochs on removal.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { x25519SecretKey } from '../../../../protocol/identity.ts'
import { levelOf, openEpoch, stateDigest, type SignedOp } from '../../../../protocol/log/index.ts'
import { p, replicaOf, World } from './fixtures.ts'
import { Rng } from '../helpers.ts'

function shuffled<T> (rng: Rng, list: readonly T[]): T[] {
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

test('founding, adding members, studies and audit apply; incremental equals replay', () => {
  const w = new World(1)
  const a = w.founder
  const b = w.node()
  const op1 = a.write('member.add', { member: b.key.publicKey, role: 'site', level: 'write', scope: 'org' })
  assert.equal(a.log.verdict(op1.idHex)?.status, 'applied')
  b.pull(a)
  assert.equal(levelOf(b.log.state, b.id, 'org'), 'write')
  const s = w.study()
  const reg = b.write('study.register', w.registerBody(b, s))
  assert.deepEqual(b.log.verdict(reg.idHex), { status: 'applied' })
  const up = b.write('case.update', { study: s, sealed: new Uint8Array([1, 2, 3]) })
  assert.deepEqual(b.log.verdict(up.idHex), { status: 'applied' })
  const audit = b.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([9]) })
  assert.deepEqual(b.log.verdict(audit.idHex), { status: 'applied' })
  assert.equal(b.log.state.studies.get(s)?.registeredBy, b.id)
  assert.deepEqual(b.log.state.audit.get(b.id), [audit.idHex])
  assert.equal(stateDigest(p, b.log.state), stateDigest(p, b.log.replay()))
  a.pull(b)
  assert.equal(stateDigest(p, a.log.state), stateDigest(p, b.log.state))
})

test('rejections at the causal position, each with its reason', () => {
  const w = new World(2)
  const a = w.founder
  const b = w.node()
  const stranger = w.node()
  a.write('member.add', { member: b.key.publicKey, role: 'site', level: 'write', scope: 'org' })
  b.pull(a)
  stranger.pull(a)
  // not a member
  const s1 = stranger.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([1]) })
  assert.deepEqual(a.log.add(s1), { status: 'rejected', reason: 'not-member', op: s1 })
  // grant above the issuer (write grants admin) and org-scope grant by a non-admin
  const c = w.node()
  const g = b.write('member.add', { member: c.key.publicKey, role: 'specialist', level: 'admin', scope: w.study() })
  assert.equal(a.log.add(g).reason, 'insufficient-level')
  const g2 = b.write('member.add', { member: c.key.publicKey, role: 'site', level: 'read', scope: 'org' })
  assert.equal(a.log.add(g2).reason, 'insufficient-level')
  // instance for a study nobody registered
  const i1 = b.write('case.update', { study: w.study(), sealed: new Uint8Array([1]) })
  assert.equal(a.log.add(i1).reason, 'unknown-study')
  // removal of a site member needs an epoch
  const r0 = a.write('member.remove', { member: b.key.publicKey, scope: 'org' })
  assert.equal(a.log.verdict(r0.idHex)?.status, 'rejected')
  assert.deepEqual(a.log.verdict(r0.idHex), { status: 'rejected', reason: 'bad-epoch' })
})

test('removal: ops after it and concurrent with it are rejected; the new epoch excludes the removed member', () => {
  const w = new World(3)
  const a = w.founder
  const b = w.node()
  const c = w.node()
  a.write('member.add', { member: b.key.publicKey, role: 'site', level: 'write', scope: 'org' })
  a.write('member.add', { member: c.key.publicKey, role: 'site', level: 'write', scope: 'org' })
  b.pull(a)
  c.pull(a)
  // b writes concurrently with its removal
  const concurrent = b.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([1]) })
  const { body } = w.epoch([a.key, c.key])
  const removal = a.write('member.remove', { member: b.key.publicKey, scope: 'org', epoch: body })
  assert.deepEqual(a.log.verdict(removal.idHex), { status: 'applied' })
  assert.equal(a.log.add(concurrent).reason, 'after-removal')
  b.pull(a)
  const after = b.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([2]) })
  assert.equal(a.log.add(after).reason, 'after-removal')
  assert.equal(levelOf(a.log.state, b.id, 'org'), null)
  assert.equal(a.log.state.epochs.length, 2)
  const epoch = a.log.state.epochs.at(-1)!
  assert.equal(epoch.id, removal.idHex)
  const org = a.log.orgId
  assert.throws(() => openEpoch(p, epoch.body, org, { member: b.key.publicKey, secretKey: x25519SecretKey(b.key.secretKey) }))
  const k1 = openEpoch(p, epoch.body, org, { member: c.key.publicKey, secretKey: x25519SecretKey(c.key.secretKey) })
  const k2 = openEpoch(p, epoch.body, org, { recoverySecret: x25519SecretKey(w.recovery.secretKey) })
  assert.deepEqual(k1, k2)
  // the same verdicts whatever the arrival order
  const ops = a.log.ops().slice(1)
  const digest = stateDigest(p, a.log.state)
  const rng = new Rng(3)
  for (let i = 0; i < 10; i++) assert.equal(stateDigest(p, replicaOf(w.genesis, shuffled(rng, ops)).state), digest)
})

test('conflicting removals (A removes B while B removes A) resolve the same everywhere', () => {
  const w = new World(4)
  const a = w.founder
  const b = w.node()
  a.write('member.add', { member: b.key.publicKey, role: 'site', level: 'admin', scope: 'org' })
  b.pull(a)
  const ra = a.write('member.remove', { member: b.key.publicKey, scope: 'org', epoch: w.epoch([a.key]).body })
  const rb = b.write('member.remove', { member: a.key.publicKey, scope: 'org', epoch: w.epoch([b.key]).body })
  a.pull(b)
  b.pull(a)
  assert.equal(stateDigest(p, a.log.state), stateDigest(p, b.log.state))
  // same level, same depth: the smaller id wins
  const winner = ra.idHex < rb.idHex ? ra : rb
  const loser = winner === ra ? rb : ra
  assert.deepEqual(a.log.verdict(winner.idHex), { status: 'applied' })
  // the loser is concurrent with its author's (effective) removal
  assert.equal(a.log.verdict(loser.idHex)?.status, 'rejected')
  assert.ok(['removal-conflict', 'after-removal'].includes((a.log.verdict(loser.idHex) as { reason: string }).reason))
  const removed = winner === ra ? b : a
  assert.equal(a.log.state.members.get(removed.id)?.removed, true)
  assert.equal(stateDigest(p, a.log.state), stateDigest(p, a.log.replay()))
})

test('fork: both ops kept, the author flagged, the same state whichever arrives first', () => {
  const w = new World(5)
  const a = w.founder
  const b = w.node()
  a.write('member.add', { member: b.key.publicKey, role: 'site', level: 'write', scope: 'org' })
  b.pull(a)
  const heads = b.log.heads()
  const seq = b.log.nextSeq(b.key.publicKey)
  const x = b.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([1]) })
  const y = b.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([2]) }, { seq, parents: heads })
  const ops = [...a.log.ops().slice(1)]
  const r1 = replicaOf(w.genesis, [...ops, x, y])
  const r2 = replicaOf(w.genesis, [...ops, y, x])
  assert.equal(stateDigest(p, r1.state), stateDigest(p, r2.state))
  assert.deepEqual(r1.state.forks.get(b.id)?.seq, seq)
  assert.equal(r1.verdict(x.idHex)?.status, 'rejected')
  assert.equal(r1.verdict(y.idHex)?.status, 'rejected')
  assert.equal(r1.add(x).status, 'duplicate')
  assert.equal(stateDigest(p, r1.state), stateDigest(p, r1.replay()))
})

test('seq gap and seq not following are rejected (bad-seq); children before parents wait', () => {
  const w = new World(6)
  const a = w.founder
  const gap = a.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([1]) }, { seq: 5 })
  assert.deepEqual(a.log.verdict(gap.idHex), { status: 'rejected', reason: 'bad-seq' })
  const r = replicaOf(w.genesis, [])
  const child = a.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([2]) }, { seq: 2 })
  // seq 2 with the (bad) seq 5 as its parent: its chain holds seq 1 only → follows
  assert.equal(r.add(child).status, 'pending')
  assert.equal(r.add(gap).reason, 'bad-seq')
  assert.deepEqual(r.verdict(child.idHex), { status: 'applied' })
  void ([] as SignedOp[])
})
