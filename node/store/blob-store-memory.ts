/**
 * In-memory BlobStore for fast tests. Objects being received are kept as growable buffers until
 * committed or aborted (a later beginPartial resumes them, as the file store resumes its files).
 */
import { BlobHasher, type BlobId } from '../../protocol/blob-id.ts'
import { concatBytes } from '../../protocol/bytes.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { BlobInfo } from '../../protocol/log/body-content.ts'
import { BlobMissingError } from './blob-errors.ts'
import type { BlobStore, BlobWriter, PartialFile, ReadRange } from './blob-store.ts'
import { PartialBlobStore, type PartialBlob } from './partial-blobs.ts'

export class MemoryBlobStore implements BlobStore {
  readonly #provider: CryptoProvider
  readonly #blobs = new Map<BlobId, Uint8Array>()

  readonly #partialBytes = new Map<BlobId, Uint8Array>()
  readonly #partials: PartialBlobStore

  constructor (provider: CryptoProvider) {
    this.#provider = provider
    this.#partials = new PartialBlobStore(provider, { open: async (id) => this.#partialFile(id) })
  }

  async beginPartial (info: BlobInfo): Promise<PartialBlob> {
    return await this.#partials.begin(info)
  }

  /** Test hook: the bytes held for an object being received (to damage them, as a torn write would). */
  partialBytes (id: BlobId): Uint8Array | undefined { return this.#partialBytes.get(id) }

  /** Test hook: replaces them. */
  setPartialBytes (id: BlobId, bytes: Uint8Array): void { this.#partialBytes.set(id, bytes) }

  #partialFile (id: BlobId): PartialFile {
    if (!this.#partialBytes.has(id)) this.#partialBytes.set(id, new Uint8Array(0))
    const bytes = (): Uint8Array => this.#partialBytes.get(id) ?? new Uint8Array(0)
    return {
      size: async () => bytes().length,
      read: async (into, position) => {
        const piece = bytes().subarray(position, position + into.length)
        into.set(piece)
        return piece.length
      },
      write: async (data, position) => {
        let current = bytes()
        if (position + data.length > current.length) {
          const grown = new Uint8Array(position + data.length)
          grown.set(current)
          current = grown
        }
        current.set(data, position)
        this.#partialBytes.set(id, current)
      },
      adopt: async (size) => {
        this.#blobs.set(id, bytes().slice(0, size))
        this.#partialBytes.delete(id)
      },
      close: async () => {},
      remove: async () => { this.#partialBytes.delete(id) }
    }
  }

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
