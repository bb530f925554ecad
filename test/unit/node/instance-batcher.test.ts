/**
 * Instances are logged in batches (archive/instance-batcher.ts): one study.instances op per study
 * and burst, written after the instances are acknowledged; an `unlogged` marker makes that
 * durable, so a crash before the op is written loses nothing (the next open writes it), and the
 * log derived from the ops (fsck --rebuild, a peer's index) holds exactly what ingest stored.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { instanceFromLog, studyFromLog } from '../../../node/archive/derive-index.ts'
import { instancesOf } from '../../../node/archive/catalogue.ts'
import { keys } from '../../../node/archive/index-layout.ts'
import type { Archive } from '../../../node/archive/archive.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { ingest, memoryArchive } from './helpers/archive.ts'

const studies = [1, 2, 3].map((seed) => syntheticStudy({ seed: 900 + seed, profile: 'ct', size: 'small', slices: 7 }))

async function count (archive: Archive, prefix: readonly string[]): Promise<number> {
  let n = 0
  for await (const _ of archive.kv.entries(prefix as never)) n++
  return n
}

function loggedInstances (state: Awaited<ReturnType<Archive['log']>>['oplog']['state']): number {
  let n = 0
  for (const study of state.studies.values()) n += study.instances.size
  return n
}

test('a crash after the instances were acknowledged and before their op: the next open logs them, once each', async (t) => {
  const { archive, restart } = await memoryArchive(t, {}, { lingerMs: 60_000 })
  for (const study of studies) for (const instance of study) assert.equal((await ingest(archive, instance.bytes)).status, 'imported')
  const log = await archive.log()
  assert.equal(await count(archive, keys.unloggedAll), 21, 'each stored instance has its marker until its op is written')
  assert.equal(loggedInstances(log.oplog.state), 0, 'no op yet: the studies are quiet for less than the linger')
  // "kill -9": the first archive never flushes; a new one opens the same stores.
  const again = restart()
  assert.equal(await again.unlogged.flushAll(), 21)
  const state = (await again.log()).oplog.state
  assert.equal(loggedInstances(state), 21)
  assert.equal(await count(again, keys.unloggedAll), 0)
  const types = (await again.log()).ops().map((op) => op.type)
  assert.equal(types.filter((type) => type === 'study.instances').length, 3, 'one op per study')
  assert.equal(types.filter((type) => type === 'study.instance').length, 0)
  assert.equal(await again.unlogged.flushAll(), 0, 'nothing is logged twice')
})

test('what a peer derives from the ops is, instance by instance, what ingest indexed', async (t) => {
  const { archive } = await memoryArchive(t, {}, { lingerMs: 60_000, maxPerOp: 3 })
  for (const study of studies) for (const instance of study) await ingest(archive, instance.bytes)
  await archive.unlogged.flushAll()
  const log = await archive.log()
  const ops = log.ops().filter((op) => op.type === 'study.instances')
  assert.equal(ops.length, 9, '7 instances per study in ops of at most 3: 3 ops per study')
  for (const study of log.oplog.state.studies.values()) {
    const derivedContext = studyFromLog(archive, study).context
    const indexed = new Map<string, unknown>()
    for await (const entry of instancesOf(archive, await archive.study(study.id))) indexed.set(entry.blob, entry.attributes)
    assert.equal(study.instances.size, 7)
    for (const instance of study.instances.values()) {
      const derived = instanceFromLog(archive, derivedContext, instance)
      assert.deepEqual(derived.entry.attributes, indexed.get(instance.blob.id), 'the same attributes, sha256 and size included')
    }
  }
  // A CT slice's entry in the log: well under the 1.4 KB of a one-instance op.
  const bytes = ops.reduce((n, op) => n + op.bytes.length, 0)
  t.diagnostic(`study.instances: ${ops.length} ops, ${(bytes / 21).toFixed(0)} B per instance (3 per op)`)
})

test('a sealed list moved to other blobs, or reordered, does not open', async (t) => {
  const { archive } = await memoryArchive(t, {}, { lingerMs: 60_000 })
  for (const instance of studies[0]!) await ingest(archive, instance.bytes)
  await archive.unlogged.flushAll()
  const study = [...(await archive.log()).oplog.state.studies.values()][0]!
  const context = studyFromLog(archive, study).context
  const [first, second] = [...study.instances.values()]
  const swapped = { ...first!, opBlobs: [first!.opBlobs[1]!, first!.opBlobs[0]!, ...first!.opBlobs.slice(2)] }
  assert.throws(() => instanceFromLog(archive, context, { ...swapped, sealed: new Uint8Array(swapped.sealed) }), /authentication|does not open|AUTH/i)
  assert.throws(() => instanceFromLog(archive, context, { ...second!, index: 0, sealed: new Uint8Array(second!.sealed) }), /does not name blob/)
})

test('a sealed list that inflates past its bound, or names fewer instances than blobs, is refused (a peer\'s op is input)', async (t) => {
  const { deflateRawSync } = await import('node:zlib')
  const { secretboxSeal } = await import('../../../protocol/secretbox.ts')
  const { encodeCanonical } = await import('../../../protocol/canonical.ts')
  const { instanceListAad, openInstanceList } = await import('../../../node/archive/instance-list.ts')
  const { provider, random } = await import('../../../node/runtime.ts')
  const key = random(32)
  const org = 'a'.repeat(64) as never
  const study = 'b'.repeat(32) as never
  const blobs = ['c'.repeat(64) as never]
  const seal = (plain: Uint8Array): Uint8Array => secretboxSeal(provider, random, key, deflateRawSync(plain), instanceListAad(org, study, blobs))
  assert.throws(() => openInstanceList(provider, key, org, study, blobs, seal(new Uint8Array(9 << 20))), /does not inflate/)
  assert.throws(() => openInstanceList(provider, key, org, study, blobs, seal(encodeCanonical([]))), /names 0 instances, its op 1 blobs/)
  assert.throws(() => openInstanceList(provider, key, org, study, [...blobs, 'd'.repeat(64) as never], seal(encodeCanonical([]))), /auth|tag|open/i)
})
