/**
 * The file store's partial files (blob-store.ts PartialFile): <dataDir>/partial/<blobId>.part,
 * on the same file system as blobs/ so that adopting one is a rename. adopt() cuts the file to
 * the object's size (the folder is made when the store opens) (a resumed file may be longer), fdatasyncs it (the only sync of its bytes:
 * block writes are not synced one by one), then the store renames it into place and fsyncs the
 * shard folder. It does not hash the file again: partial-blobs.ts verified every block.
 */
import { open, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { parseBlobId, type BlobId } from '../../protocol/blob-id.ts'
import type { PartialFile, PartialFiles } from './blob-store.ts'

export class FsPartialFiles implements PartialFiles {
  readonly dir: string
  readonly #place: (path: string, id: BlobId) => Promise<void>

  /** `place` moves a durable, verified file into the store as blob `id`. */
  constructor (dir: string, place: (path: string, id: BlobId) => Promise<void>) {
    this.dir = dir
    this.#place = place
  }

  pathOf (id: BlobId): string {
    return join(this.dir, `${parseBlobId(id)}.part`)
  }

  async open (id: BlobId): Promise<PartialFile> {
    const path = this.pathOf(id)
    let handle: FileHandle
    try {
      handle = await open(path, 'r+')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      handle = await open(path, 'wx+', 0o600)
    }
    return fileAt(handle, path, async () => { await this.#place(path, id) })
  }
}

function fileAt (handle: FileHandle, path: string, place: () => Promise<void>): PartialFile {
  return {
    size: async () => (await handle.stat()).size,
    read: async (into, position) => (await handle.read(into, 0, into.length, position)).bytesRead,
    write: async (bytes, position) => {
      let written = 0
      while (written < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written)
        written += bytesWritten
      }
    },
    adopt: async (size) => {
      // A file that resumed longer than the object had garbage past its end: cut it off.
      if ((await handle.stat()).size !== size) await handle.truncate(size)
      await handle.datasync()
      await handle.close()
      await place()
    },
    close: async () => { await handle.close() },
    remove: async () => { await rm(path, { force: true }) }
  }
}
