/**
 * The KvStore contract (node/store/kv.ts) as one acceptance suite, `runKvStoreTests`, run
 * against MemoryKvStore and LevelKvStore; then what only the level store has: durability across
 * close/reopen and the LevelDB lock (in this process and from another process).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { pathToFileURL } from 'node:url'
import assert from 'node:assert/strict'
import { InvalidArgumentError } from '../../../protocol/errors.ts'
import type { KvKey, KvStore } from '../../../node/store/kv.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'
import { GroupCommitKvStore } from '../../../node/store/kv-group-commit.ts'
import { LevelKvStore, StoreLockedError, StoreMissingError } from '../../../node/store/kv-level.ts'
import { seeded } from './helpers/seeded.ts'
import { tempDir } from './helpers/temp.ts'

export interface OpenedKvStore { store: KvStore, cleanup: () => Promise<void> }

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Compares bytes only: level hands out Buffers, memory plain Uint8Arrays; both satisfy the contract. */
function assertBytes (actual: Uint8Array | undefined, expected: Uint8Array, message?: string): void {
  assert.ok(actual instanceof Uint8Array, message ?? `expected bytes, got ${String(actual)}`)
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected),
    message ?? `bytes differ: got ${actual.length} bytes, expected ${expected.length}`)
}

async function collect (store: KvStore, prefix: KvKey): Promise<Array<[KvKey, Uint8Array]>> {
  const out: Array<[KvKey, Uint8Array]> = []
  for await (const entry of store.entries(prefix)) out.push(entry)
  return out
}

async function keysUnder (store: KvStore, prefix: KvKey): Promise<KvKey[]> {
  return (await collect(store, prefix)).map(([key]) => [...key])
}

/** Part by part, each part by UTF-16 code unit (JavaScript's string order): the order kv.ts promises. */
function compareKeys (a: KvKey, b: KvKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1
    if (a[i]! > b[i]!) return 1
  }
  return a.length - b.length
}

async function putAll (store: KvStore, keys: KvKey[]): Promise<void> {
  await store.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: bytes(i) })))
}

/** The acceptance suite every KvStore implementation passes. */
export function runKvStoreTests (name: string, open: (t: TestContext) => Promise<OpenedKvStore>): void {
  describe(`KvStore contract: ${name}`, () => {
    const withStore = (title: string, body: (store: KvStore, t: TestContext) => Promise<void>, options: { todo?: string } = {}): void => {
      test(title, options, async (t) => {
        const { store, cleanup } = await open(t)
        try {
          await body(store, t)
        } finally {
          await cleanup()
        }
      })
    }

    withStore('get of a missing key is undefined', async (store) => {
      assert.equal(await store.get(['nothing']), undefined)
      assert.equal(await store.get(['a', 'b', 'c']), undefined)
    })

    withStore('put then get returns the value; a second put overwrites it', async (store) => {
      await store.batch([{ type: 'put', key: ['study', 's1'], value: text('one') }])
      assertBytes(await store.get(['study', 's1']), text('one'))
      await store.batch([{ type: 'put', key: ['study', 's1'], value: text('two') }])
      assertBytes(await store.get(['study', 's1']), text('two'))
      assert.equal(await store.get(['study']), undefined, 'a prefix of a key is not the key')
      assert.equal(await store.get(['study', 's1', 'x']), undefined)
    })

    withStore('empty values and 1 MiB values round-trip', async (store) => {
      const big = seeded(21).bytes(1 << 20)
      await store.batch([{ type: 'put', key: ['empty'], value: new Uint8Array(0) }, { type: 'put', key: ['big'], value: big }])
      const empty = await store.get(['empty'])
      assert.ok(empty instanceof Uint8Array)
      assert.equal(empty.length, 0)
      assertBytes(await store.get(['big']), big)
    })

    withStore('a batch applies puts and dels together, in order', async (store) => {
      await store.batch([
        { type: 'put', key: ['k', '1'], value: bytes(1) },
        { type: 'put', key: ['k', '2'], value: bytes(2) },
        { type: 'del', key: ['k', '1'] },
        { type: 'put', key: ['k', '3'], value: bytes(3) },
        { type: 'put', key: ['k', '3'], value: bytes(33) }
      ])
      assert.equal(await store.get(['k', '1']), undefined)
      assertBytes(await store.get(['k', '2']), bytes(2))
      assertBytes(await store.get(['k', '3']), bytes(33))
      await store.batch([])
      assert.deepEqual(await keysUnder(store, ['k']), [['k', '2'], ['k', '3']])
    })

    withStore('a batch with one invalid key applies nothing', async (store) => {
      await store.batch([{ type: 'put', key: ['keep'], value: bytes(1) }])
      const invalid: KvKey[] = [['bad\u0000key'], [], ['ok', 'x\u0000']]
      for (const key of invalid) {
        await assert.rejects(store.batch([
          { type: 'put', key: ['new', '1'], value: bytes(9) },
          { type: 'del', key: ['keep'] },
          { type: 'put', key, value: bytes(2) },
          { type: 'put', key: ['new', '2'], value: bytes(9) }
        ]), InvalidArgumentError, JSON.stringify(key))
        assert.equal(await store.get(['new', '1']), undefined)
        assert.equal(await store.get(['new', '2']), undefined)
        assertBytes(await store.get(['keep']), bytes(1))
      }
      // An invalid key in a del is just as fatal.
      await assert.rejects(store.batch([{ type: 'put', key: ['new', '3'], value: bytes(3) }, { type: 'del', key: [] }]), InvalidArgumentError)
      assert.equal(await store.get(['new', '3']), undefined)
    })

    withStore('del removes a key; deleting a missing key is not an error', async (store) => {
      await putAll(store, [['a', '1'], ['a', '2']])
      await store.batch([{ type: 'del', key: ['a', '1'] }])
      assert.equal(await store.get(['a', '1']), undefined)
      assertBytes(await store.get(['a', '2']), bytes(1))
      await store.batch([{ type: 'del', key: ['never', 'there'] }])
      assert.deepEqual(await keysUnder(store, ['a']), [['a', '2']])
    })

    withStore('entries(prefix) returns exactly the keys under the prefix, in order', async (store) => {
      await putAll(store, [
        ['a', 'c'], ['ab'], ['a'], ['a', 'b', 'x'], ['b', 'a'], ['a', 'b'], ['a\u0001'], ['a', ''], ['a', 'b', ''], ['A', 'b'], ['', 'a']
      ])
      // Not ['a'] itself, not ['ab'] or ['a\u0001'] (siblings sharing a string prefix), nothing outside.
      assert.deepEqual(await keysUnder(store, ['a']), [['a', ''], ['a', 'b'], ['a', 'b', ''], ['a', 'b', 'x'], ['a', 'c']])
      assert.deepEqual(await keysUnder(store, ['a', 'b']), [['a', 'b', ''], ['a', 'b', 'x']])
      assert.deepEqual(await keysUnder(store, ['ab']), [])
      assert.deepEqual(await keysUnder(store, ['a', 'b', 'x']), [])
      assert.deepEqual(await keysUnder(store, ['']), [['', 'a']])
      assert.deepEqual(await keysUnder(store, ['zzz']), [])
      // The values come with their keys.
      const entries = await collect(store, ['b'])
      assert.equal(entries.length, 1)
      assert.deepEqual([...entries[0]![0]], ['b', 'a'])
      assertBytes(entries[0]![1], bytes(4))
    })

    withStore('entries([]) returns every key in order', async (store) => {
      const keys: KvKey[] = [['b'], ['a', 'x'], ['a'], ['ab'], ['', 'z']]
      await putAll(store, keys)
      assert.deepEqual(await keysUnder(store, []), [...keys].sort(compareKeys).map((k) => [...k]))
    })

    withStore('entries order matches part-by-part order for 300 random keys', async (store) => {
      const rng = seeded(22)
      const alphabet = ['a', 'b', 'c', 'A', '0', '-', '.', '~']
      const part = (): string => Array.from({ length: rng.int(0, 3) }, () => rng.pick(alphabet)).join('')
      const unique = new Map<string, KvKey>()
      while (unique.size < 300) {
        const key = [rng.pick(['x', 'y']), ...Array.from({ length: rng.int(0, 3) }, part)]
        unique.set(JSON.stringify(key), key)
      }
      const keys = [...unique.values()]
      await putAll(store, keys)
      for (const prefix of [['x'], ['y'], ['x', 'a'], ['y', ''], ['x', 'b', 'c']] as KvKey[]) {
        const want = keys.filter((k) => k.length > prefix.length && prefix.every((p, i) => k[i] === p)).sort(compareKeys)
        assert.deepEqual(await keysUnder(store, prefix), want.map((k) => [...k]), JSON.stringify(prefix))
      }
    })

    withStore('values are copies: mutating a put or returned value does not change the store', async (store) => {
      const value = bytes(1, 2, 3)
      await store.batch([{ type: 'put', key: ['v'], value }])
      value[0] = 99
      const got = await store.get(['v'])
      assertBytes(got, bytes(1, 2, 3))
      got![1] = 99
      assertBytes(await store.get(['v']), bytes(1, 2, 3))
      for await (const [, v] of store.entries([])) v.fill(7)
      assertBytes(await store.get(['v']), bytes(1, 2, 3))
    })

    withStore('keys with unicode parts round-trip and list', async (store) => {
      const keys: KvKey[] = [['patient', 'Müller^Jürgen'], ['patient', '山田^太郎'], ['patient', '😀'], ['patient', 'e\u0301'], ['patient', 'é']]
      await putAll(store, keys)
      for (const [i, key] of keys.entries()) assertBytes(await store.get(key), bytes(i), key.join('/'))
      assert.equal(await store.get(['patient', 'Muller^Jurgen']), undefined)
      const listed = await keysUnder(store, ['patient'])
      assert.deepEqual(new Set(listed.map((k) => k[1])), new Set(keys.map((k) => k[1])))
    })

    withStore('entries order of unicode parts is by UTF-8 bytes (code points), as LevelDB orders them and kv.ts documents', async (store) => {
      // U+E000 and U+FFFF sort after a surrogate pair (U+1F600) in UTF-16 but before it in UTF-8.
      const keys: KvKey[] = [['u', 'z'], ['u', 'é'], ['u', '😀'], ['u', '\ue000'], ['u', '\uffff']]
      await putAll(store, keys)
      const utf8 = (a: KvKey, b: KvKey): number => Buffer.compare(Buffer.from(a.join('\u0000')), Buffer.from(b.join('\u0000')))
      assert.deepEqual(await keysUnder(store, ['u']), [...keys].sort(utf8).map((k) => [...k]))
      assert.deepEqual((await keysUnder(store, ['u'])).map((k) => k[1]), ['z', 'é', '\ue000', '\uffff', '😀'])
    })

    withStore('entries([]) includes keys whose first part starts at or above U+FFFF', async (store) => {
      await putAll(store, [['a'], ['\uffff'], ['\uffffx', 'y'], ['😀']])
      assert.deepEqual(new Set((await keysUnder(store, [])).map((k) => k.join('/'))), new Set(['a', '\uffff', '\uffffx/y', '😀']))
    })

    withStore('rejects keys that are empty or contain U+0000, with InvalidArgumentError', async (store) => {
      const invalid: unknown[] = [[], ['a\u0000'], ['ok', '\u0000'], 'not-an-array', [1], [null]]
      for (const key of invalid) {
        await assert.rejects(async () => await store.get(key as KvKey), InvalidArgumentError, `get ${JSON.stringify(key)}`)
        await assert.rejects(store.batch([{ type: 'put', key: key as KvKey, value: bytes(1) }]), InvalidArgumentError, `put ${JSON.stringify(key)}`)
      }
      await assert.rejects(async () => { for await (const _ of store.entries(['a\u0000'])) break }, InvalidArgumentError)
      // Empty parts are allowed: only the separator itself is reserved.
      await store.batch([{ type: 'put', key: [''], value: bytes(5) }])
      assertBytes(await store.get(['']), bytes(5))
    })

    withStore('after close, every operation fails', async (store) => {
      await store.batch([{ type: 'put', key: ['a'], value: bytes(1) }])
      await store.close()
      await assert.rejects(async () => await store.get(['a']))
      await assert.rejects(async () => await store.batch([{ type: 'put', key: ['b'], value: bytes(1) }]))
      await assert.rejects(async () => { for await (const _ of store.entries(['a'])) break })
    })
  })
}

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
