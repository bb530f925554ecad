/**
 * node/mesh/invites.ts: an invite's code decodes to the grant asked for, for this org and this
 * node's addresses; `admits` holds for its PeerId only while unexpired, unused and not withdrawn;
 * `claim` works once (also when two race) and is durable (a reopened store still refuses); the
 * seed is never stored; typed errors for unknown, used, expired and bad options; a failed write
 * leaves the invite unusable.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nodeKeyFromSecret } from '../../../protocol/identity.ts'
import type { StudyId } from '../../../protocol/study-id.ts'
import { decodeInvite, InviteExpiredError } from '../../../protocol/invite.ts'
import { InviteOptionsError, InviteStore, InviteUnknownError, InviteUsedError } from '../../../node/mesh/invites.ts'
import { peerIdOfPublicKey } from '../../../node/mesh/host.ts'
import { provider } from '../../../node/runtime.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'
import type { KvOperation } from '../../../node/store/kv.ts'
import { memoryArchive } from './helpers/archive.ts'

const HOUR = 3600_000

test('create: the code names this org, the grant, this node\'s addresses (with /p2p/), and its expiry', async (t) => {
  const { archive } = await memoryArchive(t)
  const clock = { now: 1_800_000_000_000 }
  const store = await InviteStore.open(archive, { now: () => clock.now })
  const made = await store.create({ role: 'specialist', level: 'read', scope: 'ab'.repeat(16) as StudyId, expiresMs: 2 * HOUR, addrs: ['/ip4/10.0.0.5/tcp/4001', `/ip4/10.0.0.6/tcp/4001/p2p/${archive.keyring.nodeId}`] })
  assert.equal(made.expires, clock.now + 2 * HOUR)
  const code = decodeInvite(provider, made.code, clock.now)
  assert.equal(code.org, archive.keyring.orgId)
  assert.deepEqual([code.role, code.level, code.scope], ['specialist', 'read', 'ab'.repeat(16)])
  assert.deepEqual(code.addrs, [`/ip4/10.0.0.5/tcp/4001/p2p/${archive.keyring.nodeId}`, `/ip4/10.0.0.6/tcp/4001/p2p/${archive.keyring.nodeId}`])
  const peer = peerIdOfPublicKey(nodeKeyFromSecret(code.secret).publicKey)
  assert.equal(made.inviteNodeId, peer.toString())
  assert.equal(store.admits(peer), true)
  assert.equal(store.list().length, 1)
  assert.equal(store.list()[0]!.used, undefined)
})

test('the seed is never stored: no kv value holds it', async (t) => {
  const { archive, kv } = await memoryArchive(t)
  const store = await InviteStore.open(archive)
  const { code } = await store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] })
  const secret = Buffer.from(decodeInvite(provider, code, Date.now()).secret)
  let values = 0
  for await (const [, value] of kv.entries([])) {
    values++
    assert.equal(Buffer.from(value).includes(secret), false)
  }
  assert.ok(values > 0)
})

test('admits: not another key, not after expiry, not after claim; claim works once and is durable across a reopen', async (t) => {
  const { archive, kv } = await memoryArchive(t)
  const clock = { now: 1_800_000_000_000 }
  const store = await InviteStore.open(archive, { now: () => clock.now })
  const a = decodeInvite(provider, (await store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] })).code, clock.now)
  const b = decodeInvite(provider, (await store.create({ role: 'backup', level: 'relay', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] })).code, clock.now)
  const peerA = peerIdOfPublicKey(nodeKeyFromSecret(a.secret).publicKey)
  const peerB = peerIdOfPublicKey(nodeKeyFromSecret(b.secret).publicKey)
  const stranger = peerIdOfPublicKey(archive.keyring.nodeKey.publicKey)
  assert.equal(store.admits(stranger), false)
  await assert.rejects(store.claim(stranger), InviteUnknownError)
  const claimed = await store.claim(peerA, 'joiner-id')
  assert.equal(claimed.role, 'site')
  assert.equal(claimed.usedBy, 'joiner-id')
  assert.equal(store.admits(peerA), false)
  await assert.rejects(store.claim(peerA), (e: unknown) => e instanceof InviteUsedError && /used already .* by joiner-id/.test(e.message))
  assert.equal(store.admits(peerB), true)
  // Reopened over the same kv (a restart): A stays used, B still admits.
  assert.equal(archive.kv, kv)
  const reopened = await InviteStore.open(archive, { now: () => clock.now })
  assert.equal(reopened.admits(peerA), false)
  assert.equal(reopened.admits(peerB), true)
  assert.equal(reopened.list().length, 2)
  // Expiry: from the millisecond it expires.
  clock.now = b.expires - 1
  assert.equal(store.admits(peerB), true)
  clock.now = b.expires
  assert.equal(store.admits(peerB), false)
  await assert.rejects(store.claim(peerB), InviteExpiredError)
})

test('two claims racing on one invite: exactly one wins', async (t) => {
  const { archive } = await memoryArchive(t)
  const store = await InviteStore.open(archive)
  const code = decodeInvite(provider, (await store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] })).code, Date.now())
  const peer = peerIdOfPublicKey(nodeKeyFromSecret(code.secret).publicKey)
  const results = await Promise.allSettled([store.claim(peer, 'x'), store.claim(peer, 'y'), store.claim(peer, 'z')])
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof InviteUsedError))
})

test('withdraw: the invite admits nobody from then on', async (t) => {
  const { archive } = await memoryArchive(t)
  const store = await InviteStore.open(archive)
  const made = await store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] })
  const peer = peerIdOfPublicKey(nodeKeyFromSecret(decodeInvite(provider, made.code, Date.now()).secret).publicKey)
  await store.withdraw(made.inviteNodeId)
  assert.equal(store.admits(peer), false)
  await assert.rejects(store.claim(peer), (e: unknown) => e instanceof InviteUsedError && /withdrawn/.test(e.message))
})

test('a claim whose write fails throws, and the invite stays unusable (fails closed)', async (t) => {
  const kv = new MemoryKvStore()
  let fail = false
  const batch = kv.batch.bind(kv)
  kv.batch = async (ops: readonly KvOperation[]) => { if (fail) throw new Error('disk full'); await batch(ops) }
  const { archive } = await memoryArchive(t, { kv })
  const store = await InviteStore.open(archive)
  const code = decodeInvite(provider, (await store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] })).code, Date.now())
  const peer = peerIdOfPublicKey(nodeKeyFromSecret(code.secret).publicKey)
  fail = true
  await assert.rejects(store.claim(peer), /disk full/)
  assert.equal(store.admits(peer), false)
  await assert.rejects(store.claim(peer), InviteUsedError)
})

test('bad options: typed errors, nothing stored', async (t) => {
  const { archive } = await memoryArchive(t)
  const store = await InviteStore.open(archive)
  await assert.rejects(store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: 0, addrs: ['/ip4/127.0.0.1/tcp/1'] }), InviteOptionsError)
  await assert.rejects(store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: 365 * 24 * HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] }), InviteOptionsError)
  await assert.rejects(store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: [] }), (e: unknown) => e instanceof InviteOptionsError && /listens on no address/.test(e.message))
  await assert.rejects(store.create({ role: 'site', level: 'write', scope: 'org', expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5'] }), /names another node/)
  await assert.rejects(store.create({ role: 'site', level: 'write', scope: 'ab'.repeat(16) as StudyId, expiresMs: HOUR, addrs: ['/ip4/127.0.0.1/tcp/1'] }), /site member is invited at org scope/)
  assert.deepEqual(store.list(), [])
})
