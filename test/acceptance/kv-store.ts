/**
 * The KvStore contract (node/store/kv.ts) as one acceptance suite, `runKvStoreTests`. Importing
 * this module runs nothing: each implementation's *.test.ts calls it.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidArgumentError } from '../../protocol/errors.ts'
import type { KvKey, KvStore } from '../../node/store/kv.ts'
import { seeded } from '../unit/node/helpers/seeded.ts'

export interface OpenedKvStore { store: KvStore, cleanup: () => Promise<void> }

export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)
export const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Compares bytes only: level hands out Buffers, memory plain Uint8Arrays; both satisfy the contract. */
export function assertBytes (actual: Uint8Array | undefined, expected: Uint8Array, message?: string): void {
  assert.ok(actual instanceof Uint8Array, message ?? `expected bytes, got ${String(actual)}`)
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected),
    message ?? `bytes differ: got ${actual.length} bytes, expected ${expected.length}`)
}

export async function collect (store: KvStore, prefix: KvKey): Promise<Array<[KvKey, Uint8Array]>> {
  const out: Array<[KvKey, Uint8Array]> = []
  for await (const entry of store.entries(prefix)) out.push(entry)
  return out
}

export async function keysUnder (store: KvStore, prefix: KvKey): Promise<KvKey[]> {
  return (await collect(store, prefix)).map(([key]) => [...key])
}

/** Part by part, each part by UTF-16 code unit (JavaScript's string order): the order kv.ts promises. */
export function compareKeys (a: KvKey, b: KvKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1
    if (a[i]! > b[i]!) return 1
  }
  return a.length - b.length
}

export async function putAll (store: KvStore, keys: KvKey[]): Promise<void> {
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
