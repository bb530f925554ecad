/**
 * Reads a stored object and checks every block against its digest before handing it out:
 * what comes out is exactly what was committed, or an IntegrityError naming the first bad
 * block. Needs no key (DESIGN invariant 5).
 */
import { blockCount, verifyBlock, verifyDigest, type BlobDigest } from '../../protocol/blob-id.ts'
import { concatBytes } from '../../protocol/bytes.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { IntegrityError } from '../../protocol/errors.ts'
import type { BlobStore } from './blob-store.ts'

export async function * readVerified (store: BlobStore, provider: CryptoProvider, digest: BlobDigest): AsyncIterable<Uint8Array> {
  let consistent: boolean
  try {
    consistent = verifyDigest(provider, digest)
  } catch (cause) {
    throw new IntegrityError(`blob ${digest.id}: its index record is malformed (${(cause as Error).message})`, { cause })
  }
  if (!consistent) throw new IntegrityError(`blob ${digest.id}: its recorded block list does not hash to its id`)
  const size = await store.size(digest.id)
  if (size === undefined) throw new IntegrityError(`blob ${digest.id} is missing from the store`)
  if (size !== digest.size) throw new IntegrityError(`blob ${digest.id} has ${size} bytes, expected ${digest.size} (truncated or overwritten)`)
  const count = blockCount(digest.size, digest.blockSize)
  let index = 0
  let parts: Uint8Array[] = []
  let filled = 0
  const emit = (block: Uint8Array): Uint8Array => {
    if (!verifyBlock(provider, digest, index, block)) {
      throw new IntegrityError(`blob ${digest.id}: block ${index} of ${count} does not match its hash (damaged, or another object's bytes)`)
    }
    index++
    return block
  }
  for await (const chunk of store.read(digest.id)) {
    let offset = 0
    while (offset < chunk.length) {
      if (index >= count) throw new IntegrityError(`blob ${digest.id} is longer than its recorded ${digest.size} bytes`)
      const want = (index === count - 1 ? digest.size - index * digest.blockSize : digest.blockSize) - filled
      const n = Math.min(want, chunk.length - offset)
      parts.push(chunk.subarray(offset, offset + n))
      filled += n
      offset += n
      if (n === want) {
        yield emit(parts.length === 1 ? parts[0]! : concatBytes(...parts))
        parts = []
        filled = 0
      }
    }
  }
  if (index !== count) throw new IntegrityError(`blob ${digest.id}: ended after ${index} of ${count} blocks (changed while reading)`)
}
