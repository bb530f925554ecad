/**
 * The key-value seam the index (and later the log) sits on: opaque byte values under keys that
 * are short paths of strings. Two implementations pass one acceptance suite
 * (test/acceptance/kv-store.ts): level on disk, and memory for fast tests.
 */
import { InvalidArgumentError } from '../../protocol/errors.ts'

export type KvKey = readonly string[]

export type KvOperation =
  | { readonly type: 'put', readonly key: KvKey, readonly value: Uint8Array }
  | { readonly type: 'del', readonly key: KvKey }

export interface KvStore {
  get (key: KvKey): Promise<Uint8Array | undefined>
  /** Applies all operations or none; durable (fsynced) when the promise resolves. */
  batch (operations: readonly KvOperation[]): Promise<void>
  /** Entries whose key starts with `prefix` (all of them for []), in key order: part by part, each part by UTF-8 bytes. */
  entries (prefix: KvKey): AsyncIterable<[KvKey, Uint8Array]>
  close (): Promise<void>
}

// Parts are joined with U+0000, which sorts below every other character, so the joined strings
// sort exactly as the part lists do and a prefix range is [prefix + SEP, prefix + SEP + 1).
// Order is by UTF-8 bytes (= code points), which is LevelDB's; the memory store sorts the same way.
export const SEPARATOR = '\u0000'

export function checkKey (key: KvKey): void {
  if (!Array.isArray(key) || key.length === 0) throw new InvalidArgumentError('kv key: expected a non-empty array of strings')
  for (const part of key) {
    if (typeof part !== 'string' || part.includes(SEPARATOR)) {
      throw new InvalidArgumentError('kv key: every part must be a string without U+0000')
    }
  }
}

export function joinKey (key: KvKey): string {
  checkKey(key)
  return key.join(SEPARATOR)
}

export function splitKey (joined: string): KvKey {
  return joined.split(SEPARATOR)
}

/** The range of joined keys under `prefix`; an empty prefix has no bounds. */
export function prefixRange (prefix: KvKey): { gte?: string, lt?: string } {
  if (prefix.length === 0) return {}
  const p = joinKey(prefix)
  return { gte: p + SEPARATOR, lt: p + '\u0001' }
}

/** Compares joined keys by UTF-8 bytes, as LevelDB orders them. */
export function compareKeys (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
