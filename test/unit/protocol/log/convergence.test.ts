/**
 * Convergence property (DESIGN invariant 3): random op sets written by several simulated nodes
 * with partial views (grants, level changes, removals, concurrent conflicting removals, forks,
 * studies, batches of instances and single ones, audit, case updates), delivered to replicas in random orders
 * (children before parents included) give the same state digest everywhere, and the incremental
 * state equals a full replay.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stateDigest, type BlobInfo, type Level, type SignedOp } from '../../../../protocol/log/index.ts'
import { blobIdOf } from '../../../../protocol/blob-id.ts'
import type { StudyId } from '../../../../protocol/study-id.ts'
import { p, World, hexBytes, type SimNode } from './fixtures.ts'
import { OpLog } from '../../../../protocol/log/index.ts'

const LEVELS: Level[] = ['relay', 'read', 'write', 'admin']

/** A one-block blob of `size` bytes whose block hash is `hash`. */
function blobInfo (hash: Uint8Array, size: number): BlobInfo {
  const blockHashes = size === 0 ? new Uint8Array(0) : hash
  return { id: blobIdOf(p, size, 1 << 20, blockHashes), size, blockSize: 1 << 20, blockHashes }
}

function scenario (seed: number): { world: World, ops: SignedOp[] } {
  const w = new World(seed)
  const rng = w.rng
  const nodes: SimNode[] = [w.founder, w.node(), w.node(), w.node()]
  const studies: StudyId[] = []
  const pick = <T>(list: readonly T[]): T => list[rng.int(0, list.length - 1)]!
  const steps = rng.int(15, 35)
  for (let s = 0; s < steps; s++) {
    const n = pick(nodes)
    const other = pick(nodes)
    const roll = rng.int(0, 99)
    try {
      if (roll < 20) n.pull(pick(nodes)) // partial, one-way sync: partitions come from who pulls whom
      else if (roll < 32) n.write('member.add', { member: other.key.publicKey, role: 'site', level: pick(LEVELS), scope: 'org' })
      else if (roll < 38) n.write('member.set-level', { member: other.key.publicKey, level: pick(LEVELS), scope: 'org' })
      else if (roll < 44) {
        const rest = nodes.filter((x) => x !== other).map((x) => x.key)
        n.write('member.remove', { member: other.key.publicKey, scope: 'org', epoch: w.epoch(rest).body })
      } else if (roll < 52) {
        const study = w.study()
        studies.push(study)
        n.write('study.register', w.registerBody(n, study))
      } else if (roll < 57 && studies.length > 0) n.write('case.update', { study: pick(studies), sealed: rng.bytes(rng.int(1, 20)) })
      else if (roll < 60 && studies.length > 0) {
        const blobs = Array.from({ length: rng.int(1, 4) }, () => blobInfo(rng.bytes(32), rng.int(1, 1 << 20)))
        n.write('study.instances', { study: pick(studies), blobs, sealed: rng.bytes(rng.int(1, 40)) })
      } else if (roll < 62 && studies.length > 0) n.write('study.instance', { study: pick(studies), blob: blobInfo(rng.bytes(32), rng.int(0, 1 << 20)), sealed: rng.bytes(rng.int(0, 20)) })
      else if (roll < 66 && studies.length > 0) {
        n.write('member.add', { member: other.key.publicKey, role: 'specialist', level: pick(LEVELS), scope: pick(studies) })
      } else if (roll < 70) {
        // a fork: a second op at a seq already used, on older heads
        const seq = n.log.nextSeq(n.key.publicKey) - 1
        if (seq >= 1 && n !== w.founder) n.write('audit.event', { epoch: w.genesis.id, sealed: rng.bytes(3) }, { seq, parents: [w.genesis.id] })
      } else if (roll < 74) {
        // concurrent conflicting removals: two admins remove each other before syncing
        const x = pick(nodes)
        const y = pick(nodes)
        if (x !== y) {
          x.write('member.remove', { member: y.key.publicKey, scope: 'org', epoch: w.epoch([x.key]).body })
          y.write('member.remove', { member: x.key.publicKey, scope: 'org', epoch: w.epoch([y.key]).body })
        }
      } else {
        const epoch = n.log.state.epochs.at(-1)!
        n.write('audit.event', { epoch: hexBytes(epoch.id), sealed: rng.bytes(rng.int(1, 30)) })
      }
    } catch (error) {
      if (!(error as Error).message.includes('createOp')) throw error
    }
  }
  const all = new Map<string, SignedOp>()
  for (const n of nodes) for (const op of n.log.ops()) all.set(op.idHex, op)
  all.delete(w.genesis.idHex)
  return { world: w, ops: [...all.values()] }
}

test('≥200 random op sets converge on 3 replicas in random orders; incremental equals replay', () => {
  let rejectedSeen = 0
  let forksSeen = 0
  let batchedSeen = 0
  for (let seed = 1; seed <= 200; seed++) {
    const { world, ops } = scenario(seed)
    const rng = world.rng
    const digests: string[] = []
    for (let r = 0; r < 3; r++) {
      const order = [...ops]
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i)
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
      const log = new OpLog(p, world.genesis)
      if (r === 2) log.addMany(order)
      else for (const op of order) log.add(op)
      assert.equal(log.pendingCount, 0, `seed ${seed}: nothing left pending`)
      const digest = stateDigest(p, log.state)
      assert.equal(digest, stateDigest(p, log.replay()), `seed ${seed} replica ${r}: incremental == replay`)
      digests.push(digest)
      rejectedSeen += log.state.rejected.size
      forksSeen += log.state.forks.size
      for (const study of log.state.studies.values()) for (const i of study.instances.values()) batchedSeen += i.index >= 0 ? 1 : 0
    }
    assert.equal(new Set(digests).size, 1, `seed ${seed}: replicas differ`)
  }
  assert.ok(rejectedSeen > 100, `the scenarios exercise rejections (${rejectedSeen})`)
  assert.ok(forksSeen > 5, `the scenarios exercise forks (${forksSeen})`)
  assert.ok(batchedSeen > 50, `the scenarios apply batches of instances (${batchedSeen})`)
})
