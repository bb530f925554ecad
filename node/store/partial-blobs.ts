/**
 * Objects being received from peers, block by block (DESIGN "Replication": a killed transfer
 * resumes from the last verified block), over any BlobStore's partial files (PartialFiles: on
 * disk <dataDir>/partial/<blobId>.part, a sparse file with block i at offset i × blockSize; in
 * memory a buffer). Blocks are written in any order as they arrive; a block is written only
 * after it matched its hash from the signed log (BlobInfo), so nothing unverified is ever kept.
 *
 * Every byte is verified exactly once before the object enters the store: on arrival
 * (writeBlock), or, for bytes a previous run left, when begin() resumes. Writes are not fsynced
 * one by one: on a restart, begin() hashes every block whose bytes lie within the file's length
 * again and counts only those that match, so after `kill -9` a hole, a torn write or a cut-off
 * tail is simply fetched again. commit() hands the file to the store, which cuts it to size,
 * fdatasyncs it once and renames it into place (no second hash: its blocks were just verified,
 * and the block list was checked against the id when the partial began), so an object is either
 * absent from the store or complete and verified.
 *
 * The BlobInfo's block list is checked against its id once per info object (checkBlobInfo: the
 * fetcher checks it when a blob is wanted, begin() then knows it).
 *
 * Memory stays flat: begin() hashes through one reused buffer of at most 1 MiB, and a PartialBlob
 * keeps one byte per block (a 2 GB object: 2,048 bytes).
 *
 * Concurrency: one PartialBlob per id at a time. A begin() for an id that is already open returns
 * the same object (after it finished opening); each begin() is balanced by close(), and the file
 * is released when the last holder closes. commit() and abort() end it for every holder.
 */
import { blockCount, parseBlobId, verifyBlock, verifyDigest, type BlobId } from '../../protocol/blob-id.ts'
import { equalBytes, expectBytes, expectInteger, expectObject } from '../../protocol/bytes.ts'
import { expectProvider, type CryptoProvider } from '../../protocol/crypto-provider.ts'
import { InvalidArgumentError, PeerpacsError } from '../../protocol/errors.ts'
import type { BlobInfo } from '../../protocol/log/body-content.ts'
import type { PartialFile, PartialFiles } from './blob-store.ts'

const HASH_CHUNK = 1 << 20

/** A received block whose bytes do not hash to what the signed log says: nothing was written. */
export class BlockMismatchError extends PeerpacsError {
  static readonly code = 'BLOCK_MISMATCH'
  constructor (message: string) { super(BlockMismatchError.code, message, { hint: 'fetch the block from another peer; this one sent other bytes' }) }
}

const checked = new WeakSet<BlobInfo>()

/**
 * Throws InvalidArgumentError unless `info`'s size, block size and block hashes hash to its id.
 * Remembered per object, so an info that goes from the fetcher to begin() is checked once.
 */
export function checkBlobInfo (provider: CryptoProvider, info: BlobInfo): void {
  if (checked.has(info)) return
  const id = parseBlobId(info.id)
  let consistent: boolean
  try {
    consistent = verifyDigest(provider, info)
  } catch (cause) {
    throw new InvalidArgumentError(`blob info for ${id} is malformed: ${(cause as Error).message}`, { cause })
  }
  if (!consistent) throw new InvalidArgumentError(`blob info for ${id}: its size, block size and block hashes do not hash to its id`)
  // Its fields are readonly: nothing in the node changes a BlobInfo once made.
  checked.add(info)
}

export class PartialBlobStore {
  readonly #provider: CryptoProvider
  readonly #files: PartialFiles
  readonly #open = new Map<BlobId, Promise<PartialBlob>>()

  constructor (provider: CryptoProvider, files: PartialFiles) {
    expectProvider(provider, 'PartialBlobStore(provider)')
    this.#provider = provider
    this.#files = files
  }

  /**
   * Opens the partial object for `info`, resuming what a previous run left: every block already
   * in the file that hashes right counts as held. Returns the open one if there is one.
   */
  async begin (info: BlobInfo): Promise<PartialBlob> {
    expectObject(info, 'PartialBlobStore.begin(info)')
    const id = parseBlobId(info.id)
    checkBlobInfo(this.#provider, info)
    for (;;) {
      const opening = this.#open.get(id)
      if (opening === undefined) break
      const partial = await opening.catch(() => undefined)
      if (partial !== undefined && partial.state === 'open') {
        partial.retain()
        return partial
      }
      // It failed to open or has just ended: forget it (unless someone replaced it) and open anew.
      if (this.#open.get(id) === opening) this.#open.delete(id)
    }
    const opening = PartialBlob.resume(this.#provider, info, this.#files, () => {
      if (this.#open.get(id) === opening) this.#open.delete(id)
    })
    this.#open.set(id, opening)
    opening.catch(() => { if (this.#open.get(id) === opening) this.#open.delete(id) })
    return await opening
  }
}

export type PartialBlobState = 'open' | 'committing' | 'committed' | 'aborted' | 'closed'

export class PartialBlob {
  readonly info: BlobInfo
  /** Number of blocks of the whole object. */
  readonly blocks: number
  readonly #provider: CryptoProvider
  readonly #held: Uint8Array
  readonly #file: PartialFile
  readonly #onEnd: () => void
  readonly #writes = new Set<Promise<void>>()
  #heldCount = 0
  #heldBytes = 0
  #refs = 1
  #state: PartialBlobState = 'open'

  private constructor (provider: CryptoProvider, info: BlobInfo, file: PartialFile, onEnd: () => void) {
    this.#provider = provider
    this.info = info
    this.blocks = blockCount(info.size, info.blockSize)
    this.#held = new Uint8Array(this.blocks)
    this.#file = file
    this.#onEnd = onEnd
  }

  /** @internal Used by PartialBlobStore.begin. */
  static async resume (provider: CryptoProvider, info: BlobInfo, files: PartialFiles, onEnd: () => void): Promise<PartialBlob> {
    const file = await files.open(info.id)
    const partial = new PartialBlob(provider, info, file, onEnd)
    try {
      await partial.#verifyExisting()
    } catch (error) {
      await file.close().catch(() => {})
      throw error
    }
    return partial
  }

  get state (): PartialBlobState { return this.#state }
  get heldBytes (): number { return this.#heldBytes }
  get heldBlocks (): number { return this.#heldCount }
  get complete (): boolean { return this.#heldCount === this.blocks }

  held (index: number): boolean {
    expectInteger(index, 'PartialBlob.held(index)', 0, Math.max(0, this.blocks - 1))
    return this.#held[index] === 1
  }

  /** Indexes of the blocks still to fetch, in order. */
  missing (): number[] {
    const out: number[] = []
    for (let i = 0; i < this.blocks; i++) if (this.#held[i] === 0) out.push(i)
    return out
  }

  /** Expected length of block `index`. */
  blockLength (index: number): number {
    return index === this.blocks - 1 ? this.info.size - index * this.info.blockSize : this.info.blockSize
  }

  /**
   * Stores block `index` after checking it against its hash; a block that does not match throws
   * BlockMismatchError and nothing is written. Writing a held block again only checks it.
   */
  async writeBlock (index: number, bytes: Uint8Array): Promise<void> {
    this.#expectOpen('writeBlock')
    if (this.blocks === 0) throw new InvalidArgumentError(`blob ${this.info.id} is empty: it has no block ${String(index)}`)
    expectInteger(index, 'PartialBlob.writeBlock(index)', 0, this.blocks - 1)
    expectBytes(bytes, 'PartialBlob.writeBlock(bytes)')
    if (!verifyBlock(this.#provider, this.info, index, bytes)) {
      const expected = this.blockLength(index)
      throw new BlockMismatchError(bytes.length === expected
        ? `block ${index} of blob ${this.info.id} does not match its hash`
        : `block ${index} of blob ${this.info.id} has ${bytes.length} bytes, expected ${expected}`)
    }
    if (this.#held[index] === 1) return
    const write = this.#writeAt(bytes, index * this.info.blockSize)
    this.#writes.add(write)
    try {
      await write
    } finally {
      this.#writes.delete(write)
    }
    if (this.#held[index] === 0) {
      this.#held[index] = 1
      this.#heldCount++
      this.#heldBytes += bytes.length
    }
  }

  /**
   * Once every block is held: the store cuts the file to size, makes it durable once and moves it
   * into place. Ends the partial for every holder.
   */
  async commit (): Promise<void> {
    this.#expectOpen('commit')
    if (!this.complete) {
      throw new InvalidArgumentError(`blob ${this.info.id}: cannot commit with ${this.#heldCount} of ${this.blocks} blocks held (first missing: ${this.missing()[0]})`)
    }
    this.#state = 'committing'
    try {
      await Promise.all(this.#writes)
      // Every block was verified (on arrival or at resume): the store adopts it as it is.
      await this.#file.adopt(this.info.size)
    } catch (error) {
      // The file stays where it is; a later begin() checks it again from scratch.
      await this.#file.close().catch(() => {})
      this.#state = 'closed'
      this.#onEnd()
      throw error
    }
    this.#state = 'committed'
    this.#onEnd()
  }

  /** Deletes the partial object (for every holder). */
  async abort (): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'committing') return
    const wasOpen = this.#state === 'open'
    this.#state = 'aborted'
    this.#onEnd()
    if (wasOpen) {
      await Promise.allSettled(this.#writes)
      await this.#file.close().catch(() => {})
    }
    await this.#file.remove()
  }

  /** Releases this holder's use; the file stays for a later begin() to resume. */
  async close (): Promise<void> {
    if (this.#state !== 'open') return
    if (--this.#refs > 0) return
    this.#state = 'closed'
    this.#onEnd()
    await Promise.allSettled(this.#writes)
    await this.#file.close()
  }

  /** @internal Another begin() for the same id. */
  retain (): void {
    this.#expectOpen('retain')
    this.#refs++
  }

  #expectOpen (what: string): void {
    if (this.#state !== 'open') throw new InvalidArgumentError(`PartialBlob.${what}: the partial object for ${this.info.id} is ${this.#state}`)
  }

  async #writeAt (bytes: Uint8Array, position: number): Promise<void> {
    await this.#file.write(bytes, position)
  }

  /** Hashes every block that lies within the file; those that match are held. */
  async #verifyExisting (): Promise<void> {
    const fileSize = await this.#file.size()
    if (fileSize === 0 || this.blocks === 0) return
    const buffer = new Uint8Array(Math.min(HASH_CHUNK, this.info.blockSize))
    for (let index = 0; index < this.blocks; index++) {
      const start = index * this.info.blockSize
      const length = this.blockLength(index)
      if (start + length > fileSize) break
      const hasher = this.#provider.createSha256()
      let done = 0
      while (done < length) {
        const want = Math.min(buffer.length, length - done)
        const bytesRead = await this.#file.read(buffer.subarray(0, want), start + done)
        if (bytesRead === 0) break
        hasher.update(buffer.subarray(0, bytesRead))
        done += bytesRead
      }
      if (done !== length) break
      const expected = this.info.blockHashes.subarray(index * 32, index * 32 + 32)
      if (equalBytes(hasher.digest(), expected)) {
        this.#held[index] = 1
        this.#heldCount++
        this.#heldBytes += length
      }
    }
  }
}
