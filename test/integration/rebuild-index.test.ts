/**
 * The index is derived from the signed log: with every study, instance, lookup and blob record
 * deleted from the index (the log's journal kept), `fsck --rebuild` brings back the same
 * catalogue, fsck is clean, and every study exports byte-identical to what was imported.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { keys } from '../../node/archive/index-layout.ts'
import { LevelKvStore } from '../../node/store/kv-level.ts'
import type { KvOperation } from '../../node/store/kv.ts'
import { runCli, show } from '../helpers/cli.ts'
import { mixedStudies, writeStudies } from '../helpers/dataset.ts'
import { tempDir } from '../helpers/files.ts'

it('fsck --rebuild derives the lost index records from the log; exports stay byte-identical', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), mixedStudies(93).slice(0, 2))
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  assert.equal((await runCli(['import', '--data', data, set.dir])).code, 0)
  const before = (await runCli(['studies', '--data', data, '--json'])).records.filter((r) => r.type === 'study')
  assert.equal(before.length, 2)

  const level = await LevelKvStore.open(join(data, 'index'))
  const dels: KvOperation[] = []
  for (const prefix of [keys.studies, keys.studyUids, keys.instances, keys.sops, keys.blobs]) {
    for await (const [key] of level.entries(prefix)) dels.push({ type: 'del', key })
  }
  // A stray record the log does not name is dropped by the rebuild.
  await level.batch([...dels, { type: 'put', key: ['study', 'f'.repeat(32)], value: new Uint8Array([1, 2, 3]) }])
  await level.close()
  assert.ok(dels.length > 0)

  const lost = await runCli(['studies', '--data', data, '--json'])
  assert.equal(lost.records.filter((r) => r.type === 'study').length, 0, 'the index lost its studies')
  const rebuilt = await runCli(['fsck', '--rebuild', '--data', data, '--json'])
  assert.equal(rebuilt.code, 0, show(rebuilt))
  const summary = rebuilt.records.find((r) => r.type === 'rebuild')!
  assert.equal(summary.studies, 2)
  assert.equal(summary.instances, set.instances.length)
  assert.equal(summary.dropped, 1)
  assert.equal(summary.unopened, 0)

  const after = (await runCli(['studies', '--data', data, '--json'])).records.filter((r) => r.type === 'study')
  const strip = (rs: typeof before): unknown[] => rs.map(({ studyId, ...rest }) => ({ studyId, ...rest })).sort((a, b) => String(a.studyId).localeCompare(String(b.studyId)))
  assert.deepEqual(strip(after), strip(before))
  for (const study of before) {
    const out = join(root, 'out', String(study.studyId))
    const exported = await runCli(['export', '--data', data, study.studyInstanceUid as string, out, '--json'])
    assert.equal(exported.code, 0, show(exported))
    for (const r of exported.records.filter((x) => x.type === 'instance')) {
      const original = set.instances.find((i) => i.sopInstanceUid === r.sopInstanceUid)!
      assert.deepEqual(await readFile(r.path as string), Buffer.from(original.bytes), 'byte-identical after the rebuild')
    }
  }
})
