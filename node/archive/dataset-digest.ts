/**
 * The identity of an instance's content: the SHA-256 and length of its dataset, that is of the
 * Part 10 file's bytes after the file meta information (group 0002). Two copies of one instance
 * that differ only in their file meta — the Source AE Title (0002,0016) of whoever sent it, the
 * implementation that wrote the meta, a STOW file against a C-STORE dataset — are the same
 * instance; two copies whose datasets differ by one byte, or are in another transfer syntax,
 * are not. The file as first stored is kept byte for byte; this is only how copies are compared.
 *
 * Fed the file in pieces; only the file meta (small, capped by parseFileMeta) is held.
 */
import type { CryptoProvider, Hasher } from '../../protocol/crypto-provider.ts'
import { concatBytes } from '../../protocol/bytes.ts'
import { parseFileMeta } from '../dicom/file-meta.ts'

export interface DatasetDigest {
  readonly sha256: Uint8Array
  readonly size: number
  readonly transferSyntaxUid: string
}

export class DatasetHasher {
  readonly #hash: Hasher
  readonly #fileSize: number
  #prefix: Uint8Array[] = []
  #metaEnd: number | undefined
  #transferSyntaxUid = ''
  #offset = 0

  /** `fileSize`: the whole file's length when known (a stored copy), else unbounded. */
  constructor (provider: CryptoProvider, fileSize = Number.MAX_SAFE_INTEGER) {
    this.#hash = provider.createSha256()
    this.#fileSize = fileSize
  }

  push (chunk: Uint8Array): void {
    const start = this.#offset
    this.#offset += chunk.length
    if (this.#metaEnd === undefined) {
      this.#prefix.push(chunk)
      const prefix = concatBytes(...this.#prefix)
      this.#prefix = [prefix]
      const meta = parseFileMeta(prefix, Math.max(this.#fileSize, prefix.length))
      if (meta === undefined) return
      this.#metaEnd = meta.metaEnd
      this.#transferSyntaxUid = meta.transferSyntaxUid
      this.#prefix = []
      this.#hash.update(prefix.subarray(meta.metaEnd))
      return
    }
    this.#hash.update(start >= this.#metaEnd ? chunk : chunk.subarray(this.#metaEnd - start))
  }

  digest (): DatasetDigest {
    if (this.#metaEnd === undefined) {
      const prefix = concatBytes(...this.#prefix)
      const meta = parseFileMeta(prefix, prefix.length)
      if (meta === undefined) throw new Error('file ends inside its file meta information')
      this.#metaEnd = meta.metaEnd
      this.#transferSyntaxUid = meta.transferSyntaxUid
      this.#hash.update(prefix.subarray(meta.metaEnd))
    }
    return { sha256: this.#hash.digest(), size: this.#offset - this.#metaEnd, transferSyntaxUid: this.#transferSyntaxUid }
  }
}

/** The dataset digest of a whole file given as pieces. */
export async function datasetDigestOf (provider: CryptoProvider, pieces: AsyncIterable<Uint8Array>, fileSize?: number): Promise<DatasetDigest> {
  const hasher = new DatasetHasher(provider, fileSize)
  for await (const piece of pieces) hasher.push(piece)
  return hasher.digest()
}
