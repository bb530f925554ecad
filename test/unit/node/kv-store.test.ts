/**
 * The KvStore acceptance suite (test/acceptance/kv-store.ts) run against MemoryKvStore,
 * LevelKvStore and GroupCommitKvStore; then what only the level store has: durability across
 * close/reopen and the LevelDB lock (in this process and from another process).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import assert from 'node:assert/strict'
import { InvalidArgumentError } from '../../../protocol/errors.ts'
import type { KvStore } from '../../../node/store/kv.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'
import { GroupCommitKvStore } from '../../../node/store/kv-group-commit.ts'
import { LevelKvStore, StoreLockedError, StoreMissingError } from '../../../node/store/kv-level.ts'
import { assertBytes, bytes, keysUnder, runKvStoreTests } from '../../acceptance/kv-store.ts'
import { tempDir } from './helpers/temp.ts'

runKvStoreTests('memory', async () => {
  const store = new MemoryKvStore()
  return { store, cleanup: async () => { await store.close() } }
})

runKvStoreTests('level', async (t) => {
  const dir = await tempDir(t, 'peerpacs-kv-')
  const store = await LevelKvStore.open(join(dir, 'index'), { create: true })
  return { store, cleanup: async () => { await store.close().catch(() => {}) } }
})

runKvStoreTests('group commit over level', async (t) => {
  const dir = await tempDir(t, 'peerpacs-kv-')
  const store = new GroupCommitKvStore(await LevelKvStore.open(join(dir, 'index'), { create: true }))
  return { store, cleanup: async () => { await store.close().catch(() => {}) } }
})

describe('GroupCommitKvStore', () => {
  test('concurrent batches are merged, each resolves once durable, and a bad one fails alone', async () => {
    const inner = new MemoryKvStore()
    const sizes: number[] = []
    const counting: KvStore = {
      get: (key) => inner.get(key),
      entries: (prefix) => inner.entries(prefix),
      close: () => inner.close(),
      batch: async (ops) => { sizes.push(ops.length); await new Promise((resolve) => setTimeout(resolve, 5)); await inner.batch(ops) }
    }
    const store = new GroupCommitKvStore(counting)
    const writes = Array.from({ length: 20 }, (_, i) => store.batch([{ type: 'put', key: ['k', String(i)], value: bytes(i) }]))
    const bad = assert.rejects(store.batch([{ type: 'put', key: ['bad\u0000key'], value: bytes(1) }]), InvalidArgumentError)
    await Promise.all(writes)
    await bad
    assert.equal((await keysUnder(store, ['k'])).length, 20)
    assert.ok(sizes.length < 10, `20 concurrent batches were written in ${sizes.length} writes (${sizes.join(', ')})`)
    await store.close()
  })
})

describe('LevelKvStore only', () => {
  test('opening a database that does not exist is StoreMissingError unless asked to create it', async (t) => {
    const location = join(await tempDir(t, 'peerpacs-kv-'), 'index')
    await assert.rejects(LevelKvStore.open(location), StoreMissingError)
    await (await LevelKvStore.open(location, { create: true })).close()
    await assert.rejects(LevelKvStore.open(location, { create: true }), 'create refuses an existing database')
    await (await LevelKvStore.open(location)).close()
  })

  test('data survives close and reopen', async (t) => {
    const location = join(await tempDir(t, 'peerpacs-kv-'), 'index')
    const first = await LevelKvStore.open(location, { create: true })
    await first.batch([
      { type: 'put', key: ['a', '1'], value: bytes(1) },
      { type: 'put', key: ['a', '2'], value: bytes(2) },
      { type: 'put', key: ['gone'], value: bytes(3) }
    ])
    await first.batch([{ type: 'del', key: ['gone'] }])
    await first.close()
    const second = await LevelKvStore.open(location)
    try {
      assertBytes(await second.get(['a', '1']), bytes(1))
      assert.equal(await second.get(['gone']), undefined)
      assert.deepEqual(await keysUnder(second, ['a']), [['a', '1'], ['a', '2']])
    } finally {
      await second.close()
    }
  })

  test('a second open in the same process while open throws StoreLockedError; after close it opens', async (t) => {
    const location = join(await tempDir(t, 'peerpacs-kv-'), 'index')
    const first = await LevelKvStore.open(location, { create: true })
    try {
      await assert.rejects(LevelKvStore.open(location), (error: unknown) => {
        assert.ok(error instanceof StoreLockedError)
        assert.equal(error.code, 'STORE_LOCKED')
        assert.ok(error.message.includes(location), 'the message names the location')
        return true
      })
      // The failed open did not disturb the holder.
      await first.batch([{ type: 'put', key: ['still'], value: bytes(1) }])
      assertBytes(await first.get(['still']), bytes(1))
    } finally {
      await first.close()
    }
    const again = await LevelKvStore.open(location)
    assertBytes(await again.get(['still']), bytes(1))
    await again.close()
  })

  test('an open while another process holds the store throws StoreLockedError', async (t) => {
    const location = join(await tempDir(t, 'peerpacs-kv-'), 'index')
    const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../../node/store/kv-level.ts')).href
    const script = [
      `const { LevelKvStore } = await import(${JSON.stringify(moduleUrl)})`,
      `const store = await LevelKvStore.open(${JSON.stringify(location)}, { create: true })`,
      "process.stdout.write('holding\\n')",
      'process.stdin.resume()',
      "process.stdin.on('end', async () => { await store.close(); process.exit(0) })"
    ].join('\n')
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
    t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill() })
    let out = ''
    child.stdout.setEncoding('utf8')
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => { out += chunk; if (out.includes('holding')) resolve() })
      child.once('exit', (code) => reject(new Error(`child exited with ${code} before holding the store: ${out}`)))
    })
    await assert.rejects(LevelKvStore.open(location), StoreLockedError)
    const exited = once(child, 'exit')
    child.stdin.end()
    const [code] = await exited
    assert.equal(code, 0)
    // Released when the holder closed: it opens now.
    const store = await LevelKvStore.open(location)
    await store.close()
  })
})
