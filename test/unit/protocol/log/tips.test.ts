/**
 * Tips (OpLog.tips / divergent / missingFor with tips): two replicas that hold different ops at
 * the same (author, seq) have equal version vectors, so the vector alone says "nothing missing"
 * both ways and the fork is never exchanged. With the tips each side sees the divergence and
 * sends that author's ops, and both end up holding the fork as evidence.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toHex } from '../../../../protocol/encoding.ts'
import { World, SimNode } from './fixtures.ts'

function forkedReplicas () {
  const world = new World(7)
  const a = world.founder
  for (let i = 0; i < 3; i++) a.write('member.addresses', { addresses: [`/ip4/10.0.0.${i}/tcp/1`] })
  // The backup holds everything A signed.
  const backup = world.node()
  backup.pull(a)
  // A's journal lost its two newest ops; it signs the same seqs again with other content.
  const truncated = new SimNode(a.key, world.genesis)
  truncated.log.addMany(a.log.ops().filter((op) => op.type !== 'org.genesis' && op.seq <= 2))
  truncated.write('member.addresses', { addresses: ['/ip4/192.168.0.1/tcp/1'] })
  truncated.write('member.addresses', { addresses: ['/ip4/192.168.0.2/tcp/1'] })
  return { world, a, backup, truncated, author: toHex(a.key.publicKey) }
}

test('equal vectors, different ops: the vector alone exchanges nothing (the defect), the tips find the fork', () => {
  const { backup, truncated, author } = forkedReplicas()
  const vb = backup.log.versionVector()
  const vt = truncated.log.versionVector()
  assert.equal(vb.get(author), 4)
  assert.equal(vt.get(author), 4)
  assert.deepEqual(backup.log.missingFor(vt), [], 'without tips the backup sends nothing')
  assert.deepEqual(truncated.log.missingFor(vb), [], 'and neither does the truncated node')

  assert.deepEqual(backup.log.divergent(vt, truncated.log.tips(vt)), [{ author, seq: 4 }])
  assert.deepEqual(truncated.log.divergent(vb, backup.log.tips(vb)), [{ author, seq: 4 }])
  assert.deepEqual(backup.log.divergent(vb, backup.log.tips(vb)), [], 'a replica never diverges from itself')

  // Each side sends the author's ops; both now hold the fork at seq 3 (where the chains parted).
  const toTruncated = backup.log.missingFor(vt, truncated.log.tips(vt))
  const toBackup = truncated.log.missingFor(vb, backup.log.tips(vb))
  assert.ok(toTruncated.every((op) => toHex(op.author) === author))
  const atTruncated = truncated.log.addMany(toTruncated)
  const atBackup = backup.log.addMany(toBackup)
  assert.ok(atTruncated.some((r) => r.status === 'fork'), 'the truncated node sees the fork')
  assert.ok(atBackup.some((r) => r.status === 'fork'), 'the backup sees the fork')
  const id = backup.log.state.forks.keys().next().value
  assert.equal(backup.log.state.forks.get(id!)!.seq, 3)
  assert.equal(truncated.log.state.forks.get(id!)!.seq, 3)
  // Once both hold the same set, the tips agree again: no endless resending.
  const v1 = backup.log.versionVector()
  assert.deepEqual(truncated.log.divergent(v1, backup.log.tips(v1)), [])
})

test('a peer ahead of this replica is only ahead, not divergent', () => {
  const { a, backup, author } = forkedReplicas()
  a.write('member.addresses', { addresses: ['/ip4/10.0.0.9/tcp/1'] })
  const va = a.log.versionVector()
  assert.equal(va.get(author), 5)
  assert.deepEqual(backup.log.divergent(va, a.log.tips(va)), [])
  assert.equal(backup.log.missingFor(backup.log.versionVector(), backup.log.tips()).length, 0)
})
