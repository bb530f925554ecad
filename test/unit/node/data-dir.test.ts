/**
 * node/store/data-dir.ts and node/store/atomic-file.ts: the data dir layout, its description
 * file (written, read back, refused when missing, malformed or of another version), preparing a
 * new data dir, the holder file, and atomic small-file writes (mode, replace, no leftovers).
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileAtomic } from '../../../node/store/atomic-file.ts'
import {
  clearHolder, DATA_DIR_FORMAT, DATA_DIR_VERSION, DataDirError, dataDirLayout, prepareNewDataDir, readDataDirMeta, readHolder,
  writeDataDirMeta, writeHolder, type DataDirMeta
} from '../../../node/store/data-dir.ts'
import { tempDir } from './helpers/temp.ts'

const META: DataDirMeta = {
  format: DATA_DIR_FORMAT, version: DATA_DIR_VERSION, nodeId: '12D3KooWexample', orgId: 'ab'.repeat(32), orgName: 'Praxis', created: '2024-03-15T09:30:00.000Z'
}

function dataDirError (code: string, pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DataDirError, `expected DataDirError, got ${String(error)}`)
    assert.equal(error.code, code)
    assert.match(error.message, pattern)
    return true
  }
}

describe('data dir', () => {
  test('the layout names every part under one absolute root', () => {
    const layout = dataDirLayout('relative/dir')
    assert.ok(layout.root.startsWith('/'))
    assert.ok(layout.root.endsWith('/relative/dir'))
    assert.deepEqual(
      [layout.metaFile, layout.keysDir, layout.indexDir, layout.blobsDir, layout.quarantineDir, layout.holderFile].map((p) => p.slice(layout.root.length + 1)),
      ['peerpacs.json', 'keys', 'index', 'blobs', 'quarantine', 'holder.json'])
  })

  test('prepareNewDataDir creates private keys/ and blobs/ in a new or empty folder', async (t) => {
    const base = await tempDir(t, 'peerpacs-dd-')
    for (const root of [join(base, 'new', 'nested'), join(base, 'empty')]) {
      if (root.endsWith('empty')) await mkdir(root)
      const layout = dataDirLayout(root)
      await prepareNewDataDir(layout)
      assert.deepEqual((await readdir(root)).sort(), ['blobs', 'keys'])
      assert.equal((await stat(layout.keysDir)).mode & 0o777, 0o700)
      assert.equal((await stat(layout.blobsDir)).mode & 0o777, 0o700)
    }
  })

  test('prepareNewDataDir refuses an initialised dir, and a dir holding anything else', async (t) => {
    const root = await tempDir(t, 'peerpacs-dd-')
    const layout = dataDirLayout(root)
    await writeFile(join(root, 'photo.jpg'), 'x')
    await assert.rejects(prepareNewDataDir(layout), dataDirError('DATA_DIR_NOT_EMPTY', /is not empty and is not a peerpacs data dir/))
    await writeDataDirMeta(layout, META)
    await assert.rejects(prepareNewDataDir(layout), dataDirError('ALREADY_INITIALISED', /is already a peerpacs data dir/))
  })

  test('the description round-trips, mode 0644, without secrets', async (t) => {
    const layout = dataDirLayout(await tempDir(t, 'peerpacs-dd-'))
    await writeDataDirMeta(layout, META)
    assert.deepEqual(await readDataDirMeta(layout), META)
    assert.equal((await stat(layout.metaFile)).mode & 0o777, 0o644)
    assert.ok((await readFile(layout.metaFile, 'utf8')).endsWith('}\n'))
  })

  test('no description → NOT_INITIALISED with a hint naming init', async (t) => {
    const layout = dataDirLayout(await tempDir(t, 'peerpacs-dd-'))
    await assert.rejects(readDataDirMeta(layout), (error: unknown) => {
      dataDirError('NOT_INITIALISED', /no peerpacs data dir at /)(error)
      assert.match((error as DataDirError).hint ?? '', /peerpacs init --data/)
      return true
    })
  })

  test('a malformed description, or another version → DATA_DIR_FORMAT', async (t) => {
    const layout = dataDirLayout(await tempDir(t, 'peerpacs-dd-'))
    const cases: Array<[string, RegExp]> = [
      ['{not json', /is not valid JSON/],
      ['', /is not valid JSON/],
      [JSON.stringify({ ...META, format: 'something-else' }), /is not a peerpacs data dir description/],
      [JSON.stringify({ ...META, nodeId: 5 }), /is not a peerpacs data dir description/],
      [JSON.stringify({ ...META, version: 2 }), /data dir format version 2 is not supported by this peerpacs \(it reads version 1\)/],
      ['[]', /is not a peerpacs data dir description/],
      ['"text"', /is not a peerpacs data dir description/]
    ]
    for (const [content, pattern] of cases) {
      await writeFile(layout.metaFile, content)
      await assert.rejects(readDataDirMeta(layout), dataDirError('DATA_DIR_FORMAT', pattern), content)
    }
  })

  test('a description holding JSON null → DATA_DIR_FORMAT', async (t) => {
    const layout = dataDirLayout(await tempDir(t, 'peerpacs-dd-'))
    await writeFile(layout.metaFile, 'null')
    await assert.rejects(readDataDirMeta(layout), dataDirError('DATA_DIR_FORMAT', /is not a peerpacs data dir description/))
  })

  test('the holder file names this process, and is cleared', async (t) => {
    const layout = dataDirLayout(await tempDir(t, 'peerpacs-dd-'))
    assert.equal(await readHolder(layout), undefined)
    await writeHolder(layout, 'import')
    const holder = await readHolder(layout)
    assert.equal(holder?.pid, process.pid)
    assert.equal(holder?.command, 'import')
    assert.ok(!Number.isNaN(Date.parse(holder?.since ?? '')))
    await clearHolder(layout)
    assert.equal(await readHolder(layout), undefined)
    await clearHolder(layout) // twice is fine
    await writeFile(layout.holderFile, '{broken')
    assert.equal(await readHolder(layout), undefined, 'an unreadable holder file is informational only')
  })
})

describe('writeFileAtomic', () => {
  test('writes the content with mode 0600 by default, or the mode given; leaves no temp file', async (t) => {
    const dir = await tempDir(t, 'peerpacs-atomic-')
    await writeFileAtomic(join(dir, 'a'), 'hello')
    await writeFileAtomic(join(dir, 'b'), new Uint8Array([1, 2, 3]), 0o644)
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'hello')
    assert.deepEqual(new Uint8Array(await readFile(join(dir, 'b'))), new Uint8Array([1, 2, 3]))
    assert.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o600)
    assert.equal((await stat(join(dir, 'b'))).mode & 0o777, 0o644)
    assert.deepEqual((await readdir(dir)).sort(), ['a', 'b'])
  })

  test('replaces an existing file whole', async (t) => {
    const dir = await tempDir(t, 'peerpacs-atomic-')
    const path = join(dir, 'f')
    await writeFileAtomic(path, 'a much longer first version of the file')
    await writeFileAtomic(path, 'short')
    assert.equal(await readFile(path, 'utf8'), 'short')
    assert.deepEqual(await readdir(dir), ['f'])
  })

  test('into a missing folder it throws and leaves nothing', async (t) => {
    const dir = await tempDir(t, 'peerpacs-atomic-')
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'f'), 'x'), /ENOENT/)
    assert.deepEqual(await readdir(dir), [])
  })

  test('two concurrent writes of one path both succeed and leave one of the two contents whole', {
  }, async (t) => {
    const dir = await tempDir(t, 'peerpacs-atomic-')
    const path = join(dir, 'f')
    const a = 'a'.repeat(100_000)
    const b = 'b'.repeat(50_000)
    const results = await Promise.allSettled([writeFileAtomic(path, a), writeFileAtomic(path, b)])
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled'])
    assert.ok([a, b].includes(await readFile(path, 'utf8')))
  })
})
