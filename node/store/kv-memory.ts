/** In-memory KvStore for fast tests: same contract as the level one, nothing on disk. */
import { compareKeys, joinKey, prefixRange, splitKey, type KvKey, type KvOperation, type KvStore } from './kv.ts'

export class MemoryKvStore implements KvStore {
  readonly #map = new Map<string, Uint8Array>()
  #closed = false

  async get (key: KvKey): Promise<Uint8Array | undefined> {
    this.#open()
    const v = this.#map.get(joinKey(key))
    return v === undefined ? undefined : v.slice()
  }

  async batch (operations: readonly KvOperation[]): Promise<void> {
    this.#open()
    const joined = operations.map((op) => [op, joinKey(op.key)] as const) // validate all before applying any
    for (const [op, key] of joined) {
      if (op.type === 'put') this.#map.set(key, op.value.slice())
      else this.#map.delete(key)
    }
  }

  async * entries (prefix: KvKey): AsyncIterable<[KvKey, Uint8Array]> {
    this.#open()
    const { gte, lt } = prefixRange(prefix)
    const keys = [...this.#map.keys()]
      .filter((k) => (gte === undefined || compareKeys(k, gte) >= 0) && (lt === undefined || compareKeys(k, lt) < 0))
      .sort(compareKeys)
    for (const key of keys) {
      const value = this.#map.get(key)
      if (value !== undefined) yield [splitKey(key), value.slice()]
    }
  }

  async close (): Promise<void> { this.#closed = true }

  #open (): void {
    if (this.#closed) throw new Error('MemoryKvStore is closed')
  }
}
