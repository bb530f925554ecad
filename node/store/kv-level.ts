/**
 * KvStore on level (classic-level, LevelDB): the node's index on disk. Every batch is written
 * with sync so that "returned" means "survives kill -9 and power loss".
 */
import { ClassicLevel } from 'classic-level'
import { PeerpacsError } from '../../protocol/errors.ts'
import { joinKey, prefixRange, splitKey, type KvKey, type KvOperation, type KvStore } from './kv.ts'

/** The database is held by another process (LevelDB's LOCK file). */
export class StoreLockedError extends PeerpacsError {
  static readonly code = 'STORE_LOCKED'
  constructor (message: string) { super(StoreLockedError.code, message) }
}

// level hands out Buffers; callers get plain Uint8Arrays, as from the memory store, so that
// slice() copies in both.
function plain (value: Uint8Array): Uint8Array {
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
}

/** There is no database at the location (and it was not to be created). */
export class StoreMissingError extends PeerpacsError {
  static readonly code = 'STORE_MISSING'
  constructor (message: string) { super(StoreMissingError.code, message) }
}

export class LevelKvStore implements KvStore {
  readonly #db: ClassicLevel<string, Uint8Array>

  private constructor (db: ClassicLevel<string, Uint8Array>) { this.#db = db }

  /**
   * Opens the database at `location`. Only `init` creates one (`create: true`): an index that has
   * gone missing must be noticed, not silently replaced by an empty one.
   */
  static async open (location: string, options: { create?: boolean } = {}): Promise<LevelKvStore> {
    const create = options.create ?? false
    const db = new ClassicLevel<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: create, errorIfExists: create })
    try {
      await db.open()
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? ''
      if (/lock/i.test(cause)) throw new StoreLockedError(`index ${location} is locked by another process`)
      if (!create && /does not exist|No such file|not found|CURRENT/i.test(cause)) throw new StoreMissingError(`index ${location} does not exist`)
      throw error
    }
    return new LevelKvStore(db)
  }

  async get (key: KvKey): Promise<Uint8Array | undefined> {
    const value = await this.#db.get(joinKey(key))
    return value === undefined ? undefined : plain(value)
  }

  async batch (operations: readonly KvOperation[]): Promise<void> {
    const ops = operations.map((op) => op.type === 'put'
      ? { type: 'put' as const, key: joinKey(op.key), value: op.value }
      : { type: 'del' as const, key: joinKey(op.key) })
    await this.#db.batch(ops, { sync: true })
  }

  async * entries (prefix: KvKey): AsyncIterable<[KvKey, Uint8Array]> {
    for await (const [key, value] of this.#db.iterator(prefixRange(prefix))) {
      yield [splitKey(key), plain(value)]
    }
  }

  async close (): Promise<void> {
    await this.#db.close()
  }
}
