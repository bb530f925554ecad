/**
 * NodeLog offers peers only durable ops: an op this node prepared is withheld from sync and
 * push until the batch carrying its journal entry has committed (a peer holding an op this
 * node then lost in a crash would make its next op at that seq a fork). Ops received from a
 * peer are journalled, reported durable, and the bad ones named.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateNodeKey, nodeKeyFromSecret } from '../../../../protocol/identity.ts'
import { createOp, createOrg, type SignedOp } from '../../../../protocol/log/index.ts'
import { NodeLog } from '../../../../node/log/node-log.ts'
import { provider, random } from '../../../../node/runtime.ts'
import { GroupCommitKvStore } from '../../../../node/store/kv-group-commit.ts'
import { MemoryKvStore } from '../../../../node/store/kv-memory.ts'
import { fromHex } from '../../../../protocol/encoding.ts'

function org () {
  const founder = generateNodeKey(random)
  const recovery = nodeKeyFromSecret(random(32))
  const { op } = createOrg(provider, random, founder, { name: 'Durable Clinic', recoveryPublicKey: recovery.publicKey, time: 1 })
  return { founder, genesis: op }
}

test('a prepared op is offered to peers only once its batch committed', async () => {
  const { founder, genesis } = org()
  const kv = new GroupCommitKvStore(new MemoryKvStore())
  const log = await NodeLog.open(kv, provider, genesis.bytes, founder)
  const durable: SignedOp[] = []
  log.onDurable((ops) => { durable.push(...ops) })
  const prepared = log.prepare('member.addresses', { addresses: ['/ip4/10.0.0.1/tcp/4001'] })
  const empty = new Map<string, number>()
  assert.ok(log.oplog.has(prepared.op.idHex), 'applied in memory at once')
  assert.ok(!log.durableMissingFor(empty).some((op) => op.idHex === prepared.op.idHex), 'not offered before its batch')
  assert.equal(durable.length, 0)
  await kv.batch([prepared.write])
  // Offered once the batch committed and the high-water mark covers it (a write of its own).
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(log.durableMissingFor(empty).some((op) => op.idHex === prepared.op.idHex), 'offered once durable')
  assert.deepEqual(durable.map((op) => op.idHex), [prepared.op.idHex])

  const failed = log.prepare('member.addresses', { addresses: ['/ip4/10.0.0.2/tcp/4001'] })
  failed.failed(new Error('disk full'))
  assert.ok(!log.durableMissingFor(empty).some((op) => op.idHex === failed.op.idHex), 'an op whose batch failed is never offered')
  assert.throws(() => log.prepare('member.addresses', { addresses: [] }), /restart the node/)
})

test('received ops are journalled and reported; forged ones are named as damaged', async () => {
  const { founder, genesis } = org()
  // The founder's replica writes two ops; a second replica of the same node key receives them.
  const kvA = new GroupCommitKvStore(new MemoryKvStore())
  const a = await NodeLog.open(kvA, provider, genesis.bytes, founder)
  const first = await a.append('member.addresses', { addresses: ['/ip4/10.0.0.1/tcp/4001'] })
  const second = await a.append('audit.event', { epoch: fromHex(genesis.idHex), sealed: random(40) })
  const kvB = new MemoryKvStore()
  const b = await NodeLog.open(new GroupCommitKvStore(kvB), provider, genesis.bytes, generateNodeKey(random))
  const seen: SignedOp[] = []
  b.onDurable((ops) => { seen.push(...ops) })
  const forged = new Uint8Array(second.bytes)
  forged[forged.length - 1]! ^= 1
  const result = await b.receive([second.bytes, forged, first.bytes])
  assert.deepEqual(result.added.map((op) => op.idHex), [first.idHex, second.idHex], 'parents first once both arrived')
  assert.equal(result.damaged.length, 1)
  assert.equal(result.damaged[0]!.index, 1)
  assert.deepEqual(seen.map((op) => op.idHex), [first.idHex, second.idHex])
  let journalled = 0
  for await (const _ of kvB.entries(['oplog'])) journalled++
  assert.equal(journalled, 2, 'both good ops are in the journal')
  const reopened = await NodeLog.open(new GroupCommitKvStore(kvB), provider, genesis.bytes, generateNodeKey(random))
  assert.ok(reopened.oplog.has(second.idHex), 'and load again')
})

test('a second op at an (author, seq) whose first op still waits for its parents is reported as a fork at once', async () => {
  const { founder, genesis } = org()
  const a = await NodeLog.open(new GroupCommitKvStore(new MemoryKvStore()), provider, genesis.bytes, founder)
  const parent = await a.append('member.addresses', { addresses: ['/ip4/10.0.0.1/tcp/4001'] })
  // Two different ops at the same seq, on a parent the receiver does not hold: both wait.
  const sign = (address: string): SignedOp => createOp(provider, founder, {
    org: a.oplog.orgId, seq: parent.seq + 1, parents: [parent.id], type: 'member.addresses', body: { addresses: [address] }, time: 5
  } as never) as unknown as SignedOp
  const [x, y] = [sign('/ip4/10.0.0.2/tcp/1'), sign('/ip4/10.0.0.3/tcp/1')]
  const b = await NodeLog.open(new GroupCommitKvStore(new MemoryKvStore()), provider, genesis.bytes, generateNodeKey(random))
  const first = await b.receive([x.bytes])
  assert.equal(first.pending, 1)
  assert.deepEqual(first.conflicts, [])
  const second = await b.receive([y.bytes])
  assert.equal(second.pending, 1)
  assert.deepEqual(second.conflicts, [{ author: x.authorId, seq: x.seq, evidence: [x.idHex, y.idHex].sort() }])
  assert.deepEqual(b.suspectedForks().map((f) => f.seq), [x.seq])
  assert.equal(b.oplog.state.forks.size, 0, 'the set holds no fork yet')
  // Once the parent arrives, the set holds the fork itself.
  const settled = await b.receive([parent.bytes])
  assert.equal(settled.added.length, 3, 'the parent and both waiting ops joined the set')
  assert.equal(b.oplog.state.forks.get(x.authorId)!.seq, x.seq)
  assert.deepEqual(b.suspectedForks(), [], 'no longer only suspected')
})
