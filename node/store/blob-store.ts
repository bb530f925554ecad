/**
 * Content-addressed storage of sealed objects. A writer hashes what it is given (blob-id.ts)
 * and, on commit, makes the bytes durable under their id; readers get raw stored bytes and
 * verify them with verified-read.ts. Two implementations pass one acceptance suite
 * (test/unit/node/blob-store.test.ts): files on disk, and memory for fast tests.
 */
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'

export interface BlobWriter {
  /** Appends `data`. The writer may keep it until commit: do not modify it afterwards. */
  write (data: Uint8Array): Promise<void>
  /** Makes the object durable under its id and returns its digest. */
  commit (): Promise<BlobDigest>
  /** Throws the partial object away. Safe to call after a failed write or commit. */
  abort (): Promise<void>
}

export interface ReadRange {
  /** First byte (inclusive), default 0. */
  start?: number
  /** Last byte (exclusive), default the end. */
  end?: number
}

export interface BlobStore {
  create (): Promise<BlobWriter>
  /** Releases what the store holds open (the fs store's shard folder handles). */
  close? (): Promise<void>
  /** Stored size in bytes, or undefined when absent. */
  size (id: BlobId): Promise<number | undefined>
  /** The stored bytes, unverified, in pieces. Throws BlobMissingError when absent. */
  read (id: BlobId, range?: ReadRange): AsyncIterable<Uint8Array>
  delete (id: BlobId): Promise<void>
  /** Every stored id. */
  list (): AsyncIterable<BlobId>
  /** Moves a blob out of the store but keeps it for inspection (fsck --repair never deletes); says where, or undefined if absent. */
  quarantine (id: BlobId): Promise<string | undefined>
  /** Things in the store that are not blobs at their right place (for fsck). */
  strays (): Promise<string[]>
}
