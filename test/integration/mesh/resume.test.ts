/**
 * `kill -9` of a receiving site in the middle of a large multi-frame object (80 MiB of pixel
 * data in 160 frames): on restart it resumes from the blocks it already had and verified, and
 * re-fetches less than one block's worth of them; the object then exports byte-identical.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { Archive } from '../../../node/archive/archive.ts'
import { dataDirLayout } from '../../../node/store/data-dir.ts'
import { provider, random } from '../../../node/runtime.ts'
import { BLOCK_SIZE } from '../../../protocol/blob-id.ts'
import { runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { sha256Hex, tempDir } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'

const run = promisify(execFile)
const FRAMES = 160

test('a receiver killed with kill -9 mid-object resumes and re-fetches less than one block it had', async (t) => {
  const root = await tempDir(t, 'peerpacs-resume-')
  const set = await writeStudies(join(root, 'in'), [{ seed: 801, profile: 'ct', slices: 1 }])
  const big = join(root, 'big', 'big.dcm')
  await run('mkdir', ['-p', join(root, 'big')])
  await copyFile(set.instances[0]!.path, big)
  await writeFile(join(root, 'px.raw'), random(512 * 512 * 2 * FRAMES))
  await run('dcmodify', ['-nb', '-m', '(0028,0010)=512', '-m', '(0028,0011)=512', '-i', `(0028,0008)=${FRAMES}`, '-m', '(0008,0018)=2.25.888000111', '-if', `(7fe0,0010)=${join(root, 'px.raw')}`, big])

  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  await waitFor('B connected to A', async () => (await status(b)).mesh.peers.some((p: { connected: boolean }) => p.connected))
  // A small instance of the study first, then the large one: B holds part of the study for a while.
  assert.equal((await runCli(['import', set.dir, '--data', a.data])).code, 0)
  await waitFor('B to hold the small instance', async () => (await status(b)).mesh.studies.local === 1)
  const imported = await runCli(['import', join(root, 'big'), '--data', a.data])
  assert.equal(imported.code, 0, show(imported))

  // Kill B as soon as a quarter of the object sits in its partial file. B learns of the object
  // only once A offers its op (after A's high-water mark write), so wait for that first.
  const partialDir = dataDirLayout(b.data).partialDir
  const size = (await stat(big)).size
  await waitFor('B to learn of the large instance', async () => (await status(b)).mesh.studies.partial === 1 || (await readdir(partialDir).catch(() => [] as string[])).length > 0)
  for (;;) {
    const files = await readdir(partialDir).catch(() => [] as string[])
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(partialDir, f)).catch(() => ({ size: 0 }))).size))
    if (sizes.some((s) => s >= size / 4)) break
    assert.ok((await status(b).catch(() => ({ mesh: { studies: { partial: 1 } } }))).mesh.studies.partial === 1, 'the object arrived before B could be killed mid-way')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  await b.process.stop('SIGKILL')

  // Exporting the half-arrived study says it is not complete (and fails), never passes it off as whole.
  const studyUid = set.instances[0]!.studyInstanceUid
  const early = await runCli(['export', studyUid, join(root, 'early'), '--data', b.data])
  assert.equal(early.code, 1, show(early))
  assert.match(early.stderr, /not complete at this node: 1 instance/)

  // What B holds, verified, after the kill (the same check its fetcher makes when it resumes).
  const archive = await Archive.open(b.data, { keys: 'required', passphrase: undefined, provider, random, command: 'test' })
  const study = [...(await archive.log()).oplog.state.studies.values()][0]!
  const info = [...study.instances.values()].map((i) => i.blob).find((blob) => blob.size > 50e6)!
  const partial = await archive.blobs.beginPartial(info)
  const held = partial.heldBytes
  await partial.close()
  await archive.close()
  assert.ok(held > 0 && held < info.size, `B held part of the object when killed (${held} of ${info.size} bytes)`)

  await b.restart()
  await waitFor('B to hold the whole study', async () => (await status(b)).mesh.studies.local === 1 && (await status(b)).mesh.studies.partial === 0, 120_000)
  const fetched = (await status(b)).mesh.transfers.bytesFetched as number
  const refetched = fetched - (info.size - held)
  assert.ok(refetched >= 0 && refetched < BLOCK_SIZE, `after the restart B fetched ${fetched} bytes for the ${info.size - held} it lacked: ${refetched} re-fetched`)

  const uid = studyUid
  const out = join(root, 'export-b')
  const exported = await runCli(['export', uid, out, '--data', b.data])
  assert.equal(exported.code, 0, show(exported))
  const files: string[] = []
  const walk = async (d: string): Promise<void> => { for (const e of await readdir(d, { withFileTypes: true })) e.isDirectory() ? await walk(join(d, e.name)) : files.push(join(d, e.name)) }
  await walk(out)
  assert.equal(files.length, 2)
  const aOut = join(root, 'export-a')
  assert.equal((await runCli(['export', uid, aOut, '--data', a.data])).code, 0)
  const aFiles: string[] = []
  const walkA = async (d: string): Promise<void> => { for (const e of await readdir(d, { withFileTypes: true })) e.isDirectory() ? await walkA(join(d, e.name)) : aFiles.push(join(d, e.name)) }
  await walkA(aOut)
  const hashesOf = async (list: string[]): Promise<string[]> => (await Promise.all(list.map(async (f) => sha256Hex(await readFile(f))))).sort()
  assert.deepEqual(await hashesOf(files), await hashesOf(aFiles), 'B exports the study byte-identical to A')
})
