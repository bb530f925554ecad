/**
 * Content addresses for stored objects, checkable without any key (DESIGN invariant 5).
 * The sealed object is cut into fixed blocks (1 MiB; the last may be short, and an empty object
 * has no blocks); each block is hashed, and the id commits to the size, the block size and every
 * block hash:
 *
 *   blockHash_i = SHA-256(block_i)
 *   blobId      = SHA-256(canonical(["peerpacs/blob/v1", size, blockSize, blockHash_0 ‖ … ‖ blockHash_n-1]))
 *
 * So a receiver holding only the id can check a block list, then each block as it arrives, and
 * resume a transfer from the last verified block. Ids print as 64 lowercase hex digits.
 */
import { concatBytes, equalBytes, expectBytes, expectInteger, expectObject } from './bytes.ts'
import { encodeCanonical } from './canonical.ts'
import { expectProvider, type CryptoProvider, type Hasher } from './crypto-provider.ts'
import { fromHex, toHex } from './encoding.ts'
import { DecodeError, InvalidArgumentError } from './errors.ts'

export type BlobId = string & { readonly __brand: 'BlobId' }

export const BLOCK_SIZE = 1 << 20
const HASH_LENGTH = 32

export interface BlobDigest {
  readonly id: BlobId
  readonly size: number
  readonly blockSize: number
  /** Concatenated 32-byte SHA-256 hashes of the blocks, in order. */
  readonly blockHashes: Uint8Array
}

export function isBlobId (value: unknown): value is BlobId {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
}

export function parseBlobId (value: string): BlobId {
  if (!isBlobId(value)) throw new DecodeError(`not a blob id (64 lowercase hex digits): ${JSON.stringify(String(value).slice(0, 80))}`)
  return value
}

export function blockCount (size: number, blockSize: number): number {
  expectInteger(size, 'blockCount(size)')
  expectInteger(blockSize, 'blockCount(blockSize)', 1)
  return Math.ceil(size / blockSize)
}

export function blobIdOf (provider: CryptoProvider, size: number, blockSize: number, blockHashes: Uint8Array): BlobId {
  expectProvider(provider, 'blobIdOf(provider)')
  expectInteger(size, 'blobIdOf(size)')
  expectInteger(blockSize, 'blobIdOf(blockSize)', 1)
  expectBytes(blockHashes, 'blobIdOf(blockHashes)', blockCount(size, blockSize) * HASH_LENGTH)
  return toHex(provider.sha256(blobIdPreimage(size, blockSize, blockHashes))) as BlobId
}

const PREIMAGE_HEAD = encodeCanonical(['peerpacs/blob/v1']).subarray(1)

/** CBOR head of major type `major` with argument `n` (a safe integer), as canonical CBOR writes it. */
function head (major: number, n: number): number[] {
  const m = major << 5
  if (n < 24) return [m | n]
  if (n < 0x100) return [m | 24, n]
  if (n < 0x10000) return [m | 25, n >>> 8, n & 0xff]
  if (n < 0x100000000) return [m | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
  const hi = Math.floor(n / 0x100000000)
  const lo = n >>> 0
  return [m | 27, hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]
}

/**
 * canonical(["peerpacs/blob/v1", size, blockSize, blockHashes]), written directly: a study's
 * log names a million blobs, and the general encoder costs ten times as much per id
 * (test/unit/protocol/blob-id.test.ts checks it byte for byte against encodeCanonical).
 */
export function blobIdPreimage (size: number, blockSize: number, blockHashes: Uint8Array): Uint8Array {
  const prefix = [0x84, ...PREIMAGE_HEAD, ...head(0, size), ...head(0, blockSize), ...head(2, blockHashes.length)]
  const out = new Uint8Array(prefix.length + blockHashes.length)
  out.set(prefix)
  out.set(blockHashes, prefix.length)
  return out
}

/** Hashes a sealed object pushed in pieces of any size. */
export class BlobHasher {
  readonly #provider: CryptoProvider
  readonly #blockSize: number
  readonly #hashes: Uint8Array[] = []
  #block: Hasher
  #inBlock = 0
  #size = 0
  #digested = false

  constructor (provider: CryptoProvider, blockSize = BLOCK_SIZE) {
    this.#provider = expectProvider(provider, 'BlobHasher(provider)')
    this.#blockSize = expectInteger(blockSize, 'BlobHasher(blockSize)', 1)
    this.#block = provider.createSha256()
  }

  update (data: Uint8Array): void {
    expectBytes(data, 'BlobHasher.update(data)')
    if (this.#digested) throw new InvalidArgumentError('BlobHasher.update after digest')
    let offset = 0
    while (offset < data.length) {
      const n = Math.min(data.length - offset, this.#blockSize - this.#inBlock)
      this.#block.update(data.subarray(offset, offset + n))
      this.#inBlock += n
      offset += n
      if (this.#inBlock === this.#blockSize) this.#endBlock()
    }
    this.#size += data.length
  }

  digest (): BlobDigest {
    if (this.#digested) throw new InvalidArgumentError('BlobHasher.digest called twice')
    this.#digested = true
    if (this.#inBlock > 0) this.#endBlock()
    const blockHashes = concatBytes(...this.#hashes)
    return { id: blobIdOf(this.#provider, this.#size, this.#blockSize, blockHashes), size: this.#size, blockSize: this.#blockSize, blockHashes }
  }

  #endBlock (): void {
    this.#hashes.push(this.#block.digest())
    this.#block = this.#provider.createSha256()
    this.#inBlock = 0
  }
}

/** Checks that a digest's block list really belongs to its id. */
export function verifyDigest (provider: CryptoProvider, digest: BlobDigest): boolean {
  expectObject(digest, 'verifyDigest(digest)')
  return blobIdOf(provider, digest.size, digest.blockSize, digest.blockHashes) === digest.id
}

/** Checks one block against the digest. */
export function verifyBlock (provider: CryptoProvider, digest: BlobDigest, index: number, block: Uint8Array): boolean {
  expectProvider(provider, 'verifyBlock(provider)')
  expectObject(digest, 'verifyBlock(digest)')
  expectBytes(block, 'verifyBlock(block)')
  const count = blockCount(digest.size, digest.blockSize)
  if (count === 0) throw new InvalidArgumentError('verifyBlock: an empty blob has no blocks')
  expectInteger(index, 'verifyBlock(index)', 0, count - 1)
  const expectedLength = index === count - 1 ? digest.size - index * digest.blockSize : digest.blockSize
  if (block.length !== expectedLength) return false
  return equalBytes(provider.sha256(block), digest.blockHashes.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH))
}

export function blobIdBytes (id: BlobId): Uint8Array {
  return fromHex(parseBlobId(id), 32)
}
