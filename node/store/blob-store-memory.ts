/** In-memory BlobStore for fast tests. */
import { BlobHasher, type BlobId } from '../../protocol/blob-id.ts'
import { concatBytes } from '../../protocol/bytes.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { BlobMissingError } from './blob-errors.ts'
import type { BlobStore, BlobWriter, ReadRange } from './blob-store.ts'

export class MemoryBlobStore implements BlobStore {
  readonly #provider: CryptoProvider
  readonly #blobs = new Map<BlobId, Uint8Array>()

  constructor (provider: CryptoProvider) { this.#provider = provider }

  async create (): Promise<BlobWriter> {
    const parts: Uint8Array[] = []
    const hasher = new BlobHasher(this.#provider)
    let done = false
    return {
      write: async (data) => {
        if (done) throw new Error('write after commit or abort')
        parts.push(data.slice())
        hasher.update(data)
      },
      commit: async () => {
        if (done) throw new Error('commit after commit or abort')
        done = true
        const digest = hasher.digest()
        this.#blobs.set(digest.id, concatBytes(...parts))
        return digest
      },
      abort: async () => { done = true }
    }
  }

  async size (id: BlobId): Promise<number | undefined> { return this.#blobs.get(id)?.length }

  async * read (id: BlobId, range: ReadRange = {}): AsyncIterable<Uint8Array> {
    const bytes = this.#blobs.get(id)
    if (bytes === undefined) throw new BlobMissingError(`blob ${id} is not in the store`)
    const end = Math.min(range.end ?? bytes.length, bytes.length)
    for (let offset = range.start ?? 0; offset < end; offset += 65536) {
      yield bytes.slice(offset, Math.min(end, offset + 65536))
    }
  }

  async delete (id: BlobId): Promise<void> { this.#blobs.delete(id) }

  async * list (): AsyncIterable<BlobId> { yield * [...this.#blobs.keys()].sort() }

  readonly quarantined = new Map<BlobId, Uint8Array>()

  async quarantine (id: BlobId): Promise<string | undefined> {
    const bytes = this.#blobs.get(id)
    if (bytes === undefined) return undefined
    this.quarantined.set(id, bytes)
    this.#blobs.delete(id)
    return `memory quarantine/${id}`
  }

  async strays (): Promise<string[]> { return [] }

  /** Test hook: replaces a stored blob's bytes (to simulate damage). */
  tamper (id: BlobId, bytes: Uint8Array): void { this.#blobs.set(id, bytes) }
}
