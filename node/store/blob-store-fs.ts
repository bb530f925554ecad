/**
 * BlobStore on the file system: one file per sealed object at blobs/ab/<id>. The 256 shard
 * folders are made when the store is first opened, so committing never creates a folder (which
 * would cost two more fsyncs); at 256 shards a folder holds ~40,000 files per 10 million
 * instances, which ext4 and xfs index well. A writer goes to blobs/tmp/<random>.part; commit
 * fdatasyncs it, renames it into place and fsyncs the folder, so an object is either absent or
 * whole. Each file-system call is a thread hand-off (~0.1 ms on a small VM) and a synchronous
 * sender waits for every one, so the per-blob sequence is kept short: the file opens while the
 * first bytes are sealed, close and rename run together, and the shard folders stay open for
 * their fsync (shard-folders.ts).
 * A process killed mid-write leaves only a .part file, removed when the store next opens (the
 * data dir's lock guarantees no other writer is using tmp/ then).
 * An object received from peers is assembled under partial/ (beginPartial: partial-blobs.ts over
 * partial-files-fs.ts), every block verified on arrival, then made durable and renamed in.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { BlobHasher, isBlobId, type BlobId } from '../../protocol/blob-id.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { BlobInfo } from '../../protocol/log/body-content.ts'
import { BlobMissingError } from './blob-errors.ts'
import type { BlobStore, BlobWriter, ReadRange } from './blob-store.ts'
import { fsyncDirectory } from './fsync.ts'
import { PartialBlobStore, type PartialBlob } from './partial-blobs.ts'
import { FsPartialFiles } from './partial-files-fs.ts'
import { ShardFolders } from './shard-folders.ts'

const WRITE_BATCH = 1 << 20
const READ_CHUNK = 1 << 20

function isNotFound (error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

export class FsBlobStore implements BlobStore {
  readonly root: string
  readonly #provider: CryptoProvider
  readonly #tmp: string
  readonly #quarantineDir: string
  readonly #folders = new ShardFolders(this)
  readonly #partialFiles: FsPartialFiles
  readonly #partials: PartialBlobStore

  private constructor (root: string, provider: CryptoProvider, quarantineDir: string, partialDir: string) {
    this.root = root
    this.#provider = provider
    this.#tmp = join(root, 'tmp')
    this.#quarantineDir = quarantineDir
    this.#partialFiles = new FsPartialFiles(partialDir, async (path, id) => { await this.#place(path, id) })
    this.#partials = new PartialBlobStore(provider, this.#partialFiles)
  }

  /**
   * Opens (creating if needed) the store at `root`, and clears partial writes left by a killed
   * process. Blobs set aside go to `quarantineDir`, objects being received to `partialDir`
   * (default: beside the store; partial/ is kept across restarts, to resume).
   */
  static async open (root: string, provider: CryptoProvider, quarantineDir = join(root, '..', 'quarantine'), partialDir = join(root, '..', 'partial')): Promise<FsBlobStore> {
    const store = new FsBlobStore(root, provider, quarantineDir, partialDir)
    await mkdir(store.#tmp, { recursive: true, mode: 0o700 })
    await mkdir(partialDir, { recursive: true, mode: 0o700 })
    for (const name of await readdir(store.#tmp)) await rm(join(store.#tmp, name), { force: true, recursive: true })
    const existing = new Set(await readdir(root))
    let created = false
    for (let i = 0; i < 256; i++) {
      const shard = i.toString(16).padStart(2, '0')
      if (!existing.has(shard)) { await mkdir(join(root, shard), { mode: 0o700 }); created = true }
    }
    if (created) await fsyncDirectory(root)
    return store
  }

  /** Releases the shard folders held open for fsync (also released when the store is collected). */
  async close (): Promise<void> {
    await this.#folders.close()
  }

  pathOf (id: BlobId): string {
    return join(this.root, id.slice(0, 2), id)
  }

  async create (): Promise<BlobWriter> {
    const tmpPath = join(this.#tmp, `${randomBytes(12).toString('hex')}.part`)
    // The file opens while the caller seals its first bytes (each fs call is a thread hand-off,
    // ~0.1 ms on a small VM); a failure surfaces at the first flush or at commit.
    const opening = open(tmpPath, 'wx', 0o600)
    opening.catch(() => {})
    const hasher = new BlobHasher(this.#provider)
    let pending: Uint8Array[] = []
    let pendingLength = 0
    let state: 'open' | 'committed' | 'aborted' = 'open'

    const flush = async (): Promise<void> => {
      const handle = await opening
      if (pendingLength === 0) return
      const buffers = pending
      const total = pendingLength
      pending = []
      pendingLength = 0
      let written = 0
      while (written < total) {
        const { bytesWritten } = await handle.writev(written === 0 ? buffers : [Buffer.concat(buffers).subarray(written)])
        written += bytesWritten
      }
    }

    return {
      write: async (data) => {
        if (state !== 'open') throw new Error(`blob writer is ${state}`)
        hasher.update(data)
        pending.push(data)
        pendingLength += data.length
        if (pendingLength >= WRITE_BATCH) await flush()
      },
      commit: async () => {
        if (state !== 'open') throw new Error(`blob writer is ${state}`)
        const digest = hasher.digest()
        await flush()
        const handle = await opening
        // fdatasync: the bytes and the size (what reading them back needs), not the times.
        await handle.datasync()
        state = 'committed'
        await Promise.all([handle.close(), rename(tmpPath, this.pathOf(digest.id))])
        await this.#folders.sync(join(this.root, digest.id.slice(0, 2)))
        return digest
      },
      abort: async () => {
        if (state === 'open') await opening.then(async (handle) => await handle.close(), () => {}).catch(() => {})
        state = 'aborted'
        await rm(tmpPath, { force: true })
      }
    }
  }

  async beginPartial (info: BlobInfo): Promise<PartialBlob> {
    return await this.#partials.begin(info)
  }

  /** Where the object being received for `id` is kept (for tests and fsck). */
  partialPathOf (id: BlobId): string {
    return this.#partialFiles.pathOf(id)
  }

  /** A durable file whose every block was verified (partial-blobs.ts) becomes blob `id`. */
  async #place (path: string, id: BlobId): Promise<void> {
    await rename(path, this.pathOf(id))
    await this.#folders.sync(join(this.root, id.slice(0, 2)))
  }

  async size (id: BlobId): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(id))).size
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  async * read (id: BlobId, range: ReadRange = {}): AsyncIterable<Uint8Array> {
    const start = range.start ?? 0
    if (range.end !== undefined && range.end <= start) return
    const stream = createReadStream(this.pathOf(id), { start, end: range.end === undefined ? undefined : range.end - 1, highWaterMark: READ_CHUNK })
    try {
      for await (const chunk of stream) yield chunk as Buffer
    } catch (error) {
      if (isNotFound(error)) throw new BlobMissingError(`blob ${id} is not in the store (expected at ${this.pathOf(id)})`)
      throw error
    } finally {
      stream.destroy()
    }
  }

  async delete (id: BlobId): Promise<void> {
    try {
      await unlink(this.pathOf(id))
    } catch (error) {
      if (!isNotFound(error)) throw error
      return
    }
    await fsyncDirectory(join(this.root, id.slice(0, 2)))
  }

  async * list (): AsyncIterable<BlobId> {
    for (const { id } of await this.#scan()) if (id !== undefined) yield id
  }

  async strays (): Promise<string[]> {
    return (await this.#scan()).filter((entry) => entry.id === undefined).map((entry) => entry.path)
  }

  async quarantine (id: BlobId): Promise<string | undefined> {
    const dir = this.#quarantineDir
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const target = join(dir, `${id}.${Date.now()}`)
    try {
      await rename(this.pathOf(id), target)
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
    await fsyncDirectory(dir)
    await fsyncDirectory(join(this.root, id.slice(0, 2)))
    return target
  }

  async #scan (): Promise<Array<{ path: string, id?: BlobId }>> {
    const out: Array<{ path: string, id?: BlobId }> = []
    const shard = /^[0-9a-f]{2}$/
    for (const a of (await readdir(this.root)).sort()) {
      if (a === 'tmp') continue
      const aPath = join(this.root, a)
      if (!shard.test(a) || !(await stat(aPath)).isDirectory()) { out.push({ path: aPath }); continue }
      for (const name of (await readdir(aPath)).sort()) {
        const path = join(aPath, name)
        if (isBlobId(name) && name.startsWith(a)) out.push({ path, id: name })
        else out.push({ path })
      }
    }
    return out
  }
}
