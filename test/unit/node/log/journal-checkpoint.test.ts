/**
 * The journal checkpoint (node/log/journal-checkpoint.ts): a node does not verify again the
 * signatures of the journal entries it verified before, and any change to those entries made
 * while it was stopped is still found. Real level stores in a temp dir, edited while closed as
 * an attacker with the disk would; signature checks are counted through the real native
 * provider, wrapped.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { CryptoProvider } from '../../../../protocol/crypto-provider.ts'
import { generateNodeKey, nodeKeyFromSecret, type NodeKeyPair } from '../../../../protocol/identity.ts'
import { createOp, createOrg, type SignedOp } from '../../../../protocol/log/index.ts'
import { CHECKPOINT_EVERY } from '../../../../node/log/checkpoint-writer.ts'
import { JournalChain, JournalCheckpoint } from '../../../../node/log/journal-checkpoint.ts'
import { LogDamagedError, NodeLog } from '../../../../node/log/node-log.ts'
import { createLogger } from '../../../../node/logging/logger.ts'
import { provider, random } from '../../../../node/runtime.ts'
import { keys } from '../../../../node/store/key-space.ts'
import type { KvStore } from '../../../../node/store/kv.ts'
import { GroupCommitKvStore } from '../../../../node/store/kv-group-commit.ts'
import { LevelKvStore } from '../../../../node/store/kv-level.ts'
import { MemoryKvStore } from '../../../../node/store/kv-memory.ts'
import { tempDir } from '../../../helpers/files.ts'

function org (): { founder: NodeKeyPair, genesis: SignedOp } {
  const founder = generateNodeKey(random)
  const recovery = nodeKeyFromSecret(random(32))
  const { op } = createOrg(provider, random, founder, { name: 'Checkpoint Clinic', recoveryPublicKey: recovery.publicKey, time: 1 })
  return { founder, genesis: op }
}

/** The real provider, with its Ed25519 verifications counted. */
function counting (): { provider: CryptoProvider, verified: () => number } {
  let calls = 0
  return {
    provider: { ...provider, ed25519Verify: (signature, message, publicKey) => { calls++; return provider.ed25519Verify(signature, message, publicKey) } },
    verified: () => calls
  }
}

async function level (dir: string): Promise<GroupCommitKvStore> {
  const index = join(dir, 'index')
  return new GroupCommitKvStore(await LevelKvStore.open(index).catch(async () => await LevelKvStore.open(index, { create: true })))
}

interface Opened { log: NodeLog, verified: number, warnings: string[] }

/** Opens the log over the store in `dir` (as Archive does), counting signature checks; closes it after `use`. */
async function withLog<T> (dir: string, genesis: SignedOp, key: NodeKeyPair, use: (opened: Opened, kv: KvStore) => Promise<T>): Promise<T> {
  const kv = await level(dir)
  try {
    const counter = counting()
    const warnings: string[] = []
    const logger = createLogger({ level: 'warn', write: (line) => { warnings.push(line) } })
    const log = await NodeLog.open(kv, counter.provider, genesis.bytes, key, { logger })
    const result = await use({ log, verified: counter.verified(), warnings }, kv)
    await log.settle()
    return result
  } finally {
    await kv.close()
  }
}

/** A data dir whose journal holds `own` ops of its node and `received` ops from another member's replica. */
async function dataDir (t: TestContext, own: number): Promise<{ dir: string, genesis: SignedOp, founder: NodeKeyPair, entries: number }> {
  const dir = await tempDir(t, 'peerpacs-checkpoint-')
  const { founder, genesis } = org()
  // Ops of this node, and the same author's ops written on another replica and received here
  // (a peer's ops as far as this journal is concerned: verified once, on receipt).
  const other = await NodeLog.open(new MemoryKvStore(), provider, genesis.bytes, founder)
  const received: Uint8Array[] = []
  for (let i = 0; i < 3; i++) received.push((await other.append('member.addresses', { addresses: [`/ip4/10.9.0.${i + 1}/tcp/4001`] })).bytes)
  await withLog(dir, genesis, founder, async ({ log }) => {
    const result = await log.receive(received)
    assert.equal(result.added.length, 3)
    for (let i = 0; i < own; i++) await log.append('member.addresses', { addresses: [`/ip4/10.0.0.${i + 1}/tcp/4001`] })
  })
  return { dir, genesis, founder, entries: own + 3 }
}

/** Rewrites the journal entries of the closed data dir in `dir` with `edit`. */
async function editJournal (dir: string, edit: (entries: Array<{ key: readonly string[], bytes: Uint8Array }>) => Array<{ key: readonly string[], bytes: Uint8Array }>): Promise<void> {
  const kv = await level(dir)
  try {
    const entries: Array<{ key: readonly string[], bytes: Uint8Array }> = []
    for await (const [key, bytes] of kv.entries(keys.journal)) entries.push({ key, bytes: bytes.slice() })
    await kv.batch(edit(entries).map(({ key, bytes }) => ({ type: 'put' as const, key, value: bytes })))
  } finally {
    await kv.close()
  }
}

/** Flips the last byte of entry `i`: a byte of its signature (the envelope's last field), so it still decodes. */
const flipSignature = (i: number) => (entries: Array<{ key: readonly string[], bytes: Uint8Array }>) => {
  const bytes = entries[i]!.bytes
  bytes[bytes.length - 1]! ^= 0x01
  return [entries[i]!]
}

test('a valid checkpoint: the ops of the journal (own and received) are not signature-verified again at open', async (t) => {
  const { dir, genesis, founder, entries } = await dataDir(t, 12)
  await withLog(dir, genesis, founder, async ({ log, verified, warnings }) => {
    assert.deepEqual(log.opened, { entries, trusted: entries, checkpoint: 'trusted' })
    // The genesis op (handed in by the caller, not read from the journal) is the one verified.
    assert.equal(verified, 1)
    assert.equal(log.oplog.size, entries + 1)
    assert.deepEqual(warnings, [])
  })
  // Without a checkpoint (a data dir from before checkpoints), every op is verified, and the open writes one.
  const kv = await level(dir)
  await kv.batch([{ type: 'del', key: keys.journalCheckpoint }])
  await kv.close()
  await withLog(dir, genesis, founder, async ({ log, verified }) => {
    assert.deepEqual(log.opened, { entries, trusted: 0, checkpoint: 'none' })
    assert.equal(verified, entries + 1)
  })
  await withLog(dir, genesis, founder, async ({ log, verified }) => {
    assert.equal(log.opened.trusted, entries)
    assert.equal(verified, 1)
  })
})

test('an entry edited while the node was stopped (one signature bit flipped) is found: the open verifies all and refuses the log', async (t) => {
  const { dir, genesis, founder } = await dataDir(t, 6)
  await editJournal(dir, flipSignature(4))
  await withLog(dir, genesis, founder, async () => { assert.fail('the log opened') }).then(
    () => assert.fail('the log opened'),
    (error: unknown) => {
      assert.ok(error instanceof LogDamagedError, String(error))
      assert.match(error.message, /op 4 of the journal is damaged \(signature\)/)
    })
  // The warning says why the checkpoint was not used.
  const warnings: string[] = []
  const kv = await level(dir)
  try {
    await assert.rejects(NodeLog.open(kv, provider, genesis.bytes, founder, { logger: createLogger({ write: (line) => { warnings.push(line) } }) }), LogDamagedError)
  } finally {
    await kv.close()
  }
  assert.equal(warnings.length, 1)
  assert.match(warnings[0]!, /"event":"log.checkpoint.mismatch".*chain over the first 9 journal entries differs/)
})

test('two entries swapped: the chain differs, so every op is verified (the same valid set then loads)', async (t) => {
  const { dir, genesis, founder, entries } = await dataDir(t, 6)
  await editJournal(dir, (all) => [{ key: all[5]!.key, bytes: all[6]!.bytes }, { key: all[6]!.key, bytes: all[5]!.bytes }])
  await withLog(dir, genesis, founder, async ({ log, verified, warnings }) => {
    assert.equal(log.opened.checkpoint, 'mismatch')
    assert.equal(log.opened.trusted, 0)
    assert.equal(verified, entries + 1)
    assert.equal(warnings.length, 1)
  })
})

test('a checkpoint forged without the node key (chain recomputed over the edited journal) is refused, and so is the log', async (t) => {
  const { dir, genesis, founder } = await dataDir(t, 6)
  await editJournal(dir, flipSignature(2))
  const kv = await level(dir)
  try {
    const chain = new JournalChain(provider)
    for await (const [, bytes] of kv.entries(keys.journal)) chain.extend(provider.sha256(bytes))
    const forger = new JournalCheckpoint(generateNodeKey(random), genesis.idHex)
    await kv.batch([forger.write(chain.count, chain.hash)])
  } finally {
    await kv.close()
  }
  const warnings: string[] = []
  const again = await level(dir)
  try {
    await assert.rejects(NodeLog.open(again, provider, genesis.bytes, founder, { logger: createLogger({ write: (line) => { warnings.push(line) } }) }), /op 2 of the journal is damaged \(signature\)/)
  } finally {
    await again.close()
  }
  assert.match(warnings.join(''), /its MAC does not verify/)
})

test('entries after the checkpoint (a node killed before it settled) are verified in full, and a damaged one is found', async (t) => {
  const { dir, genesis, founder, entries } = await dataDir(t, 4)
  // Four more ops, then the store is closed without settling the log (as a kill -9 would leave it).
  const kv = await level(dir)
  const log = await NodeLog.open(kv, provider, genesis.bytes, founder)
  for (let i = 0; i < 4; i++) await log.append('member.addresses', { addresses: [`/ip4/10.1.0.${i + 1}/tcp/4001`] })
  await kv.close()
  await withLog(dir, genesis, founder, async ({ log, verified }) => {
    assert.deepEqual(log.opened, { entries: entries + 4, trusted: entries, checkpoint: 'trusted' })
    assert.equal(verified, 4 + 1)
  })
  // The open above settled: the checkpoint covers all now. Kill again after two more, and damage one of them.
  const kv2 = await level(dir)
  const log2 = await NodeLog.open(kv2, provider, genesis.bytes, founder)
  for (let i = 0; i < 2; i++) await log2.append('member.addresses', { addresses: [`/ip4/10.2.0.${i + 1}/tcp/4001`] })
  await kv2.close()
  await editJournal(dir, flipSignature(entries + 5))
  await assert.rejects(withLog(dir, genesis, founder, async () => {}), /op 12 of the journal is damaged \(signature\)/)
})

test(`the checkpoint moves while the node runs, every ${CHECKPOINT_EVERY} durable entries, without waiting for a clean close`, async () => {
  const { founder, genesis } = org()
  // A chain of the founder's ops, received in one batch by another node's replica.
  const ops: Uint8Array[] = []
  let parent = genesis.id
  const total = CHECKPOINT_EVERY + 10
  for (let seq = 2; seq < total + 2; seq++) {
    const op = createOp(provider, founder, { org: genesis.idHex, seq, parents: [parent], type: 'member.addresses', body: { addresses: [`/ip4/10.0.0.1/tcp/${seq}`] }, time: seq })
    ops.push(op.bytes)
    parent = op.id
  }
  const kv = new GroupCommitKvStore(new MemoryKvStore())
  const node = generateNodeKey(random)
  const log = await NodeLog.open(kv, provider, genesis.bytes, node)
  assert.equal((await log.receive(ops)).added.length, total)
  // No settle: what a second open of the same store finds is what the running node wrote on its own.
  await new Promise((resolve) => setImmediate(resolve))
  const counter = counting()
  const reopened = await NodeLog.open(kv, counter.provider, genesis.bytes, node)
  assert.equal(reopened.opened.entries, total)
  assert.equal(reopened.opened.trusted, CHECKPOINT_EVERY)
  assert.equal(counter.verified(), total - CHECKPOINT_EVERY + 1)
})
