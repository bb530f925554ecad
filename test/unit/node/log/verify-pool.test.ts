/**
 * Large batches are verified on worker threads (node/log/verify-pool.ts) with exactly the
 * verdicts of the single-threaded path: a peer's batch mixing good, forged, malformed,
 * non-canonical and foreign ops is received by two replicas, one verifying on the pool and one
 * on its own thread, and every result (status, reason, op id) is the same. Real worker threads,
 * real native provider; every pool is stopped by its test.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encode } from 'cborg'
import { decodeCanonical, encodeCanonical } from '../../../../protocol/canonical.ts'
import type { CryptoProvider } from '../../../../protocol/crypto-provider.ts'
import { decodeEnvelope, encodeEnvelope, signEnvelope } from '../../../../protocol/envelope.ts'
import { generateNodeKey, nodeKeyFromSecret, type NodeKeyPair } from '../../../../protocol/identity.ts'
import { createOp, createOrg, OP_DOMAIN, type SignedOp } from '../../../../protocol/log/index.ts'
import { NodeLog, type ReceiveResult } from '../../../../node/log/node-log.ts'
import { POOL_MIN_BATCH, VerifyPool } from '../../../../node/log/verify-pool.ts'
import { provider, random } from '../../../../node/runtime.ts'
import { keys } from '../../../../node/store/key-space.ts'
import { MemoryKvStore } from '../../../../node/store/kv-memory.ts'

function org (name: string): { founder: NodeKeyPair, genesis: SignedOp } {
  const founder = generateNodeKey(random)
  const { op } = createOrg(provider, random, founder, { name, recoveryPublicKey: nodeKeyFromSecret(random(32)).publicKey, time: 1 })
  return { founder, genesis: op }
}

/** `n` ops of the founder, each on the previous one. */
function chain (founder: NodeKeyPair, genesis: SignedOp, n: number): SignedOp[] {
  const ops: SignedOp[] = []
  let parent = genesis.id
  for (let seq = 2; seq < n + 2; seq++) {
    const op = createOp(provider, founder, { org: genesis.idHex, seq, parents: [parent], type: 'member.addresses', body: { addresses: [`/ip4/10.0.0.1/tcp/${seq}`] }, time: seq })
    ops.push(op as SignedOp)
    parent = op.id
  }
  return ops
}

/** The same op with its payload's map keys out of canonical order, signed again (valid signature, not canonical). */
function unsorted (key: NodeKeyPair, op: SignedOp): Uint8Array {
  const payload = decodeCanonical(decodeEnvelope(op.bytes).payload) as Record<string, never>
  const reordered = Object.fromEntries(Object.entries(payload).reverse())
  return encodeEnvelope(signEnvelope(key, OP_DOMAIN, encode(reordered, { mapSorter: () => 0 })))
}

function counting (): { provider: CryptoProvider, verified: () => number } {
  let calls = 0
  return { provider: { ...provider, ed25519Verify: (s, m, k) => { calls++; return provider.ed25519Verify(s, m, k) } }, verified: () => calls }
}

const summary = (r: ReceiveResult): unknown => ({
  results: r.results.map((x) => [x.status, x.reason, x.op?.idHex]),
  added: r.added.map((op) => op.idHex),
  damaged: r.damaged,
  pending: r.pending
})

test('a large batch from a peer: verified on worker threads, with exactly the single-threaded verdicts', async (t) => {
  const pool = new VerifyPool({ size: 2 })
  t.after(async () => { await pool.stop() })
  const { founder, genesis } = org('Pool Clinic')
  const good = chain(founder, genesis, POOL_MIN_BATCH + 40)
  const stranger = org('Other Clinic')
  const foreign = chain(stranger.founder, stranger.genesis, 3)
  const batch: Uint8Array[] = good.map((op) => op.bytes)
  const flipped = batch[100]!.slice()
  flipped[flipped.length - 1]! ^= 1 // a signature bit: op 100 is forged, its descendants then wait for it
  batch[100] = flipped
  batch.push(batch[5]!.subarray(0, 40)) // truncated: malformed
  batch.push(unsorted(founder, good[7]!)) // validly signed, not canonical
  batch.push(encodeEnvelope(signEnvelope(founder, OP_DOMAIN, encodeCanonical({ nonsense: 1 })))) // signed, not an op
  batch.push(...foreign.map((op) => op.bytes)) // another org's ops
  batch.push(good[3]!.bytes) // a duplicate within the batch

  const withPool = counting()
  const threaded = await NodeLog.open(new MemoryKvStore(), withPool.provider, genesis.bytes, generateNodeKey(random), { verifyPool: pool })
  const single = await NodeLog.open(new MemoryKvStore(), provider, genesis.bytes, generateNodeKey(random), { verifyPool: false })
  const before = withPool.verified()
  const a = await threaded.receive(batch)
  const b = await single.receive(batch)
  assert.deepEqual(summary(a), summary(b))
  assert.ok(pool.running > 0, 'the pool\'s threads ran')
  // This thread checked again only the ops that failed on the pool (those whose decoding reaches the signature).
  assert.ok(withPool.verified() - before <= 4, `this thread verified ${withPool.verified() - before} signatures`)
  // The batch really held every kind of verdict.
  const reasons = new Set<string>(a.results.map((r) => r.reason ?? r.status))
  for (const reason of ['applied', 'signature', 'malformed', 'not-canonical', 'wrong-org', 'pending']) assert.ok(reasons.has(reason), `${reason} in ${[...reasons].join(', ')}`)
  assert.equal(a.added.length, 100)
})

test('a journal verified in full at open (no checkpoint) uses the pool, with the same log as one thread', async (t) => {
  const pool = new VerifyPool({ size: 2 })
  t.after(async () => { await pool.stop() })
  const { founder, genesis } = org('Open Clinic')
  const kv = new MemoryKvStore()
  const writer = await NodeLog.open(kv, provider, genesis.bytes, generateNodeKey(random), { verifyPool: false })
  await writer.receive(chain(founder, genesis, POOL_MIN_BATCH + 10).map((op) => op.bytes))
  await kv.batch([{ type: 'del', key: keys.journalCheckpoint }])
  const counter = counting()
  const threaded = await NodeLog.open(kv, counter.provider, genesis.bytes, generateNodeKey(random), { verifyPool: pool })
  assert.equal(threaded.opened.trusted, 0)
  assert.equal(counter.verified(), 1, 'only the genesis op was verified on this thread')
  assert.deepEqual(threaded.ops().map((op) => op.idHex), writer.ops().map((op) => op.idHex))
})

test('a pool whose threads stop mid-batch fails the batch; the log then verifies on its own thread', async (t) => {
  const pool = new VerifyPool({ size: 2 })
  t.after(async () => { await pool.stop() })
  const { founder, genesis } = org('Stop Clinic')
  const batch = chain(founder, genesis, POOL_MIN_BATCH).map((op) => op.bytes)
  const checking = pool.check(batch)
  await pool.stop()
  await assert.rejects(checking, /signature verification thread exited/)
  assert.equal(pool.running, 0)
  // A log on a pool that fails still judges every op, on its own thread.
  const failing = { check: async () => { throw new Error('thread lost') } } as unknown as VerifyPool
  const log = await NodeLog.open(new MemoryKvStore(), provider, genesis.bytes, generateNodeKey(random), { verifyPool: failing })
  assert.equal((await log.receive(batch)).added.length, POOL_MIN_BATCH)
})
