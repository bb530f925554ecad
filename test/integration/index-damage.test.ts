/**
 * The index is the only map from instances to their keys and blobs until the signed log exists,
 * so damage to it must be loud and must never make repair destroy data. Through the CLI: a
 * missing index and a foreign index are refused; a damaged study record leaves the other studies
 * usable, its files rejected one by one, and every blob in place after fsck --repair.
 */
import assert from 'node:assert/strict'
import { cp, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { Archive } from '../../node/archive/archive.ts'
import { keys } from '../../node/archive/index-layout.ts'
import { provider, random } from '../../node/runtime.ts'
import { runCli, show } from '../helpers/cli.ts'
import { mixedStudies, writeStudies } from '../helpers/dataset.ts'
import { listFiles, tempDir } from '../helpers/files.ts'

async function blobCount (data: string): Promise<number> {
  return (await listFiles(join(data, 'blobs'))).filter((f) => !f.includes('/blobs/tmp/')).length
}

it('a missing or foreign index is refused with what to do, and nothing is changed', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), mixedStudies(91).slice(0, 1))
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  assert.equal((await runCli(['import', '--data', data, set.dir])).code, 0)
  const blobs = await blobCount(data)

  await rename(join(data, 'index'), join(root, 'index-aside'))
  for (const args of [['studies'], ['fsck', '--repair'], ['import', set.dir]]) {
    const r = await runCli([...args, '--data', data])
    assert.equal(r.code, 3, `${args.join(' ')}: ${show(r)}`)
    assert.match(r.stderr, /the index of .* is missing: the data dir is incomplete/)
    assert.match(r.stderr, /do not run `fsck --repair` on it/)
  }
  assert.equal(await blobCount(data), blobs, 'no blob was touched')

  const other = join(root, 'other')
  assert.equal((await runCli(['init', '--data', other])).code, 0)
  await cp(join(other, 'index'), join(data, 'index'), { recursive: true })
  const foreign = await runCli(['fsck', '--repair', '--data', data])
  assert.equal(foreign.code, 3, show(foreign))
  assert.match(foreign.stderr, /does not belong to this data dir/)
  assert.equal(await blobCount(data), blobs)
})

it('a damaged study record: other studies list and import, its files are rejected alone, repair keeps every blob', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), mixedStudies(93))
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  assert.equal((await runCli(['import', '--data', data, set.dir])).code, 0)
  const blobs = await blobCount(data)

  // Flip one bit of one study's sealed attributes, as a disk fault would.
  const archive = await Archive.open(data, { keys: 'none', passphrase: undefined, provider, random, command: 'test' })
  let victim: readonly string[] | undefined
  for await (const [key] of archive.kv.entries(keys.studies)) { victim = key; break }
  const bytes = new Uint8Array((await archive.kv.get(victim!))!)
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x10
  await archive.kv.batch([{ type: 'put', key: victim!, value: bytes }])
  await archive.close()

  const studies = await runCli(['studies', '--data', data, '--json'])
  assert.equal(studies.code, 1, show(studies))
  assert.equal(studies.records.filter((r) => r.type === 'study').length, 1, 'the intact study is still listed')
  assert.match(studies.stderr, /the record of study [0-9a-f]{32} does not open.*run `peerpacs fsck`/)

  const again = await runCli(['import', '--data', data, '--json', set.dir])
  assert.equal(again.code, 1, show(again))
  const files = again.records.filter((r) => r.type === 'file')
  const rejected = files.filter((f) => f.status === 'rejected')
  assert.equal(files.length, set.instances.length, 'the import went through every file')
  assert.ok(rejected.length > 0 && rejected.every((f) => /the record of study .* does not open/.test(f.reason)))
  assert.equal(files.filter((f) => f.status === 'duplicate').length + rejected.length, set.instances.length)

  const repair = await runCli(['fsck', '--data', data, '--repair', '--json'])
  assert.equal(repair.code, 1, show(repair))
  assert.ok(repair.records.some((r) => r.type === 'problem' && r.kind === 'study-unreadable'))
  assert.equal(await blobCount(data), blobs, 'repair removed no blob')
})
