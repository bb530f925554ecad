/**
 * Content-addressed storage of sealed objects. A writer hashes what it is given (blob-id.ts)
 * and, on commit, makes the bytes durable under their id; readers get raw stored bytes and
 * verify them with verified-read.ts. An object received from peers is written block by block,
 * each block verified on arrival, through beginPartial (partial-blobs.ts), and adopted whole.
 * Two implementations pass one acceptance suite (test/acceptance/blob-store.ts): files on disk,
 * and memory for fast tests.
 */
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'
import type { BlobInfo } from '../../protocol/log/body-content.ts'
import type { PartialBlob } from './partial-blobs.ts'

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
  /**
   * Opens, or resumes, the object `info` names for writing block by block (partial-blobs.ts):
   * blocks a previous run left that still hash right count as held. Throws InvalidArgumentError
   * when the info's parts do not hash to its id.
   */
  beginPartial (info: BlobInfo): Promise<PartialBlob>
}

/** Where a store keeps one object being received (partial-blobs.ts reads, writes and ends it). */
export interface PartialFile {
  /** Bytes the file holds (its length, holes included). */
  size (): Promise<number>
  /** Reads into `into` from `position`; returns the bytes read (0 at the end). */
  read (into: Uint8Array, position: number): Promise<number>
  write (bytes: Uint8Array, position: number): Promise<void>
  /** Cuts the file to `size`, makes it durable and moves it into the store under its id; closes it. */
  adopt (size: number): Promise<void>
  close (): Promise<void>
  /** Deletes it (after close). */
  remove (): Promise<void>
}

export interface PartialFiles {
  /** Opens the partial file for `id`, creating an empty one when there is none. */
  open (id: BlobId): Promise<PartialFile>
}
