/**
 * The high-water mark of own seqs (node/log/seq-mark.ts) kept apart from the journal: a node
 * whose journal lost its newest own ops never signs those seqs again. Real level stores and a
 * real mark file in a temp dir; the journal is truncated by deleting its newest keys, as an
 * attacker with the disk (node stopped) would.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { generateNodeKey, nodeKeyFromSecret, type NodeKeyPair } from '../../../../protocol/identity.ts'
import { toHex } from '../../../../protocol/encoding.ts'
import { createOrg, type SignedOp } from '../../../../protocol/log/index.ts'
import { LogHeldError, NodeLog } from '../../../../node/log/node-log.ts'
import { MARK_FILE, openSeqMark, SeqMarkError } from '../../../../node/log/seq-mark.ts'
import { provider, random } from '../../../../node/runtime.ts'
import { GroupCommitKvStore } from '../../../../node/store/kv-group-commit.ts'
import { LevelKvStore } from '../../../../node/store/kv-level.ts'
import { tempDir } from '../../../helpers/files.ts'

function org (): { founder: NodeKeyPair, genesis: SignedOp } {
  const founder = generateNodeKey(random)
  const recovery = nodeKeyFromSecret(random(32))
  const { op } = createOrg(provider, random, founder, { name: 'Mark Clinic', recoveryPublicKey: recovery.publicKey, time: 1 })
  return { founder, genesis: op }
}

/** Opens the node's log over its level store and mark file, as Archive does. */
async function open (dir: string, genesis: SignedOp, key: NodeKeyPair): Promise<{ log: NodeLog, kv: GroupCommitKvStore }> {
  const index = join(dir, 'index')
  const kv = new GroupCommitKvStore(await LevelKvStore.open(index).catch(async () => await LevelKvStore.open(index, { create: true })))
  const log = await NodeLog.open(kv, provider, genesis.bytes, key, { mark: await openSeqMark(dir, toHex(key.publicKey)) })
  return { log, kv }
}

/** Writes `n` own ops and waits until each is offered (durable, covered by the mark). */
async function write (log: NodeLog, n: number): Promise<SignedOp[]> {
  const out: SignedOp[] = []
  const offered = new Set<string>()
  const stop = log.onDurable((ops) => { for (const op of ops) offered.add(op.idHex) })
  for (let i = 0; i < n; i++) out.push(await log.append('member.addresses', { addresses: [`/ip4/10.0.0.${i + 1}/tcp/4001`] }) as unknown as SignedOp)
  while (!out.every((op) => offered.has(op.idHex))) await new Promise((resolve) => setImmediate(resolve))
  stop()
  return out
}

async function deleteNewest (kv: GroupCommitKvStore, n: number): Promise<void> {
  const keys = []
  for await (const [key] of kv.entries(['oplog'])) keys.push(key)
  await kv.batch(keys.slice(-n).map((key) => ({ type: 'del' as const, key })))
}

test('a journal truncated while the node was stopped: the seqs are not signed again until the lost ops are back', async (t) => {
  const dir = await tempDir(t, 'peerpacs-mark-')
  const { founder, genesis } = org()
  const first = await open(dir, genesis, founder)
  const ops = await write(first.log, 5)
  // The founder signed the genesis op (seq 1): its own ops here are 2..6.
  assert.deepEqual(ops.map((op) => op.seq), [2, 3, 4, 5, 6])
  assert.equal(first.log.mark, 6)
  assert.equal(JSON.parse(await readFile(join(dir, MARK_FILE), 'utf8')).seq, 6, 'the mark file says 6 before the ops were offered')
  await deleteNewest(first.kv, 2)
  await first.kv.close()

  // Offline restart: the journal ends at 4, the mark says 6.
  const again = await open(dir, genesis, founder)
  assert.equal(again.log.ownHead, 4)
  assert.deepEqual(again.log.lossAtOpen, { journalHead: 4, mustReach: 6, source: 'mark' })
  assert.deepEqual(again.log.hold, { journalHead: 4, mustReach: 6, source: 'mark' })
  assert.throws(() => again.log.prepare('member.addresses', { addresses: [] }), (error: unknown) => {
    assert.ok(error instanceof LogHeldError)
    assert.equal(error.code, 'LOG_HELD')
    assert.match(error.message, /journal ends at its own seq 4, but its high-water mark .* holds seq 6 of it: 2 of its ops were deleted or lost/)
    return true
  })
  assert.equal(again.log.ownHead, 4, 'nothing was signed at seq 5')

  // A peer sends the lost ops back (signed by this node, so they verify): writing resumes at 7.
  const back = await again.log.receive(ops.slice(3).map((op) => op.bytes))
  assert.equal(back.added.length, 2)
  assert.equal(again.log.hold, undefined)
  const next = await again.log.append('member.addresses', { addresses: ['/ip4/10.0.0.9/tcp/4001'] })
  assert.equal(next.seq, 7)
  await again.kv.close()
})

test('lost seqs that no member holds are given up explicitly, and only then signed again', async (t) => {
  const dir = await tempDir(t, 'peerpacs-mark-')
  const { founder, genesis } = org()
  const first = await open(dir, genesis, founder)
  await write(first.log, 4)
  await deleteNewest(first.kv, 1)
  await first.kv.close()

  const again = await open(dir, genesis, founder)
  assert.deepEqual(again.log.hold, { journalHead: 4, mustReach: 5, source: 'mark' })
  assert.throws(() => again.log.prepare('member.addresses', { addresses: [] }), LogHeldError)
  assert.equal(await again.log.releaseHold(), 1)
  assert.equal(again.log.hold, undefined)
  assert.equal(JSON.parse(await readFile(join(dir, MARK_FILE), 'utf8')).seq, 4, 'the mark was lowered to the journal head on disk')
  assert.equal((await again.log.append('member.addresses', { addresses: [] })).seq, 5)
  await again.kv.close()
})

test('a peer holding more of this node\'s ops than its journal holds its writes too', async (t) => {
  const dir = await tempDir(t, 'peerpacs-mark-')
  const { founder, genesis } = org()
  const { log, kv } = await open(dir, genesis, founder)
  await write(log, 2)
  log.holdUntil(7, 'peer 12D3KooWexample')
  assert.deepEqual(log.hold, { journalHead: 3, mustReach: 7, source: 'peer 12D3KooWexample' })
  assert.throws(() => log.prepare('member.addresses', { addresses: [] }), /peer 12D3KooWexample holds seq 7 of it: 4 of its ops/)
  await kv.close()
})

test('a mark file that was altered or belongs to another key is refused with its reason', async (t) => {
  const dir = await tempDir(t, 'peerpacs-mark-')
  const key = generateNodeKey(random)
  await writeFile(join(dir, MARK_FILE), 'not json')
  await assert.rejects(openSeqMark(dir, toHex(key.publicKey)), (error: unknown) => error instanceof SeqMarkError && /is not a log mark/.test(error.message))
  await writeFile(join(dir, MARK_FILE), JSON.stringify({ format: 'peerpacs-log-mark', author: 'ab'.repeat(32), seq: 3 }))
  await assert.rejects(openSeqMark(dir, toHex(key.publicKey)), /is the mark of author abababab/)
})

test('raises that arrive while a mark write is in flight share the next write', async (t) => {
  const dir = await tempDir(t, 'peerpacs-mark-')
  const key = generateNodeKey(random)
  const mark = await openSeqMark(dir, toHex(key.publicKey))
  await Promise.all(Array.from({ length: 50 }, async (_, i) => { await mark.raise(i + 1) }))
  assert.equal(mark.seq, 50)
  assert.equal(JSON.parse(await readFile(join(dir, MARK_FILE), 'utf8')).seq, 50)
  await mark.raise(10)
  assert.equal(mark.seq, 50, 'never lowered by a raise')
})

test('settle() waits for every queued and in-flight mark write, so the data dir can be closed and removed', async (t) => {
  const root = await tempDir(t, 'peerpacs-mark-settle-')
  const author = toHex(generateNodeKey(random).publicKey)
  const mark = await openSeqMark(root, author)
  // Raises not awaited, as NodeLog issues them while commits go on.
  for (let seq = 1; seq <= 20; seq++) void mark.raise(seq)
  await mark.settle()
  const stored = JSON.parse(await readFile(join(root, MARK_FILE), 'utf8')) as { seq: number }
  assert.equal(stored.seq, 20, 'the last raise is on disk once settle() resolved')
  assert.equal(mark.seq, 20)
})
