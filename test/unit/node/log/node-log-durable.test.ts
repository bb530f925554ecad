/**
 * NodeLog offers peers only durable ops: an op this node prepared is withheld from sync and
 * push until the batch carrying its journal entry has committed (a peer holding an op this
 * node then lost in a crash would make its next op at that seq a fork). Ops received from a
 * peer are journalled, reported durable, and the bad ones named.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateNodeKey, nodeKeyFromSecret } from '../../../../protocol/identity.ts'
import { createOrg, type SignedOp } from '../../../../protocol/log/index.ts'
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
