/**
 * protocol/blob-id.ts: content addresses of sealed objects. The frozen ids
 * (test/vectors/peerpacs-blob-id.json) re-derived from the format, BlobHasher fed whole and in
 * random pieces, verifyBlock on right, wrong, short and long blocks, verifyDigest catching a
 * changed block hash, and parseBlobId's strict shape.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  BLOCK_SIZE, blobIdBytes, blobIdOf, BlobHasher, blockCount, isBlobId, parseBlobId, verifyBlock, verifyDigest, type BlobDigest, type BlobId
} from '../../../protocol/blob-id.ts'
import { encodeCanonical } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { DecodeError, InvalidArgumentError } from '../../../protocol/errors.ts'
import { concat, fixedPieces, flipBit, h, hx, loadVectors, pattern, randomPieces, Rng, throwsPeerpacs } from './helpers.ts'

interface BlobVectors { cases: Array<{ size: number, blockSize: number, blockHashes: string, id: string, preimage: string }> }
const v = loadVectors<BlobVectors>('peerpacs-blob-id.json')
const p = nobleProvider

function hashWhole (data: Uint8Array, blockSize?: number): BlobDigest {
  const hasher = new BlobHasher(p, blockSize)
  hasher.update(data)
  return hasher.digest()
}

function hashPieces (pieces: Uint8Array[], blockSize?: number): BlobDigest {
  const hasher = new BlobHasher(p, blockSize)
  for (const piece of pieces) hasher.update(piece)
  return hasher.digest()
}

test('BLOCK_SIZE is 1 MiB', () => assert.equal(BLOCK_SIZE, 1 << 20))

test('frozen ids: empty object, 1 byte, exactly one small block, 2.5 small blocks, 2.5 MiB blocks', () => {
  const rng = new Rng(60)
  for (const c of v.cases) {
    const data = pattern(c.size)
    const blockSize = c.blockSize === BLOCK_SIZE ? undefined : c.blockSize
    const whole = hashWhole(data, blockSize)
    assert.equal(whole.id, c.id, `${c.size}/${c.blockSize}`)
    assert.equal(hx(whole.blockHashes), c.blockHashes)
    assert.equal(whole.size, c.size)
    assert.equal(whole.blockSize, c.blockSize)
    for (const pieces of [fixedPieces(data, 1 + (c.size > 100 ? 4095 : 0)), randomPieces(data, rng, Math.max(1, c.size >> 2) + 7)]) {
      assert.deepEqual(hashPieces(pieces, blockSize), whole, `${c.size}/${c.blockSize} in ${pieces.length} pieces`)
    }
    // Re-derived from the format with the reference SHA-256.
    const blocks = fixedPieces(data, c.blockSize).map(b => sha256(b))
    assert.equal(hx(concat(blocks)), c.blockHashes)
    assert.equal(hx(encodeCanonical(['peerpacs/blob/v1', c.size, c.blockSize, concat(blocks)])), c.preimage)
    assert.equal(hx(sha256(h(c.preimage))), c.id)
    assert.equal(blobIdOf(p, c.size, c.blockSize, h(c.blockHashes)), c.id)
    assert.ok(verifyDigest(p, whole))
  }
})

test('BlobHasher in random pieces equals whole, for sizes around block boundaries', () => {
  const rng = new Rng(61)
  for (const blockSize of [1, 7, 64, 1000]) {
    for (const size of [0, 1, blockSize - 1, blockSize, blockSize + 1, 3 * blockSize, 3 * blockSize + 5, rng.int(0, 10 * blockSize)]) {
      if (size < 0) continue
      const data = rng.bytes(size)
      const whole = hashWhole(data, blockSize)
      assert.equal(whole.blockHashes.length, blockCount(size, blockSize) * 32)
      assert.deepEqual(hashPieces(randomPieces(data, rng, rng.int(1, 3 * blockSize)), blockSize), whole, `${size}/${blockSize}`)
      assert.deepEqual(hashPieces([new Uint8Array(0), ...randomPieces(data, rng, 3), new Uint8Array(0)], blockSize), whole)
    }
  }
})

test('the id commits to size and block size, not just the bytes', () => {
  const data = pattern(10)
  assert.notEqual(hashWhole(data, 4).id, hashWhole(data, 5).id)
  assert.notEqual(hashWhole(data, 10).id, hashWhole(data, 11).id, 'one block either way, but a different block size')
  assert.notEqual(hashWhole(new Uint8Array(0), 4).id, hashWhole(new Uint8Array(0), 5).id)
})

test('verifyBlock accepts each right block and refuses wrong, short and long ones', () => {
  const rng = new Rng(62)
  const blockSize = 16
  const data = rng.bytes(2 * blockSize + 5)
  const digest = hashWhole(data, blockSize)
  const blocks = fixedPieces(data, blockSize)
  assert.equal(blocks.length, 3)
  blocks.forEach((block, i) => {
    assert.equal(verifyBlock(p, digest, i, block), true, `block ${i}`)
    assert.equal(verifyBlock(p, digest, i, flipBit(block, 3)), false, `block ${i} with a flipped bit`)
    assert.equal(verifyBlock(p, digest, i, block.subarray(0, block.length - 1)), false, `block ${i} short`)
    assert.equal(verifyBlock(p, digest, i, new Uint8Array([...block, 0])), false, `block ${i} long`)
  })
  assert.equal(verifyBlock(p, digest, 0, blocks[1]!), false, 'block 1 at index 0')
  assert.equal(verifyBlock(p, digest, 2, blocks[0]!.subarray(0, 5)), false, 'a prefix of block 0 as the short last block')
  for (const index of [-1, 3, 1.5]) {
    assert.match(throwsPeerpacs(() => verifyBlock(p, digest, index, blocks[0]!), InvalidArgumentError, String(index)).message, /verifyBlock\(index\)/)
  }
})

test('verifyDigest catches a changed block hash, size or block size', () => {
  const digest = hashWhole(new Rng(63).bytes(100), 16)
  assert.ok(verifyDigest(p, digest))
  for (let byte = 0; byte < digest.blockHashes.length; byte += 5) {
    assert.equal(verifyDigest(p, { ...digest, blockHashes: flipBit(digest.blockHashes, byte * 8) }), false, `block hash byte ${byte}`)
  }
  assert.equal(verifyDigest(p, { ...digest, size: 99 }), false)
  assert.equal(verifyDigest(p, { ...digest, id: hashWhole(new Uint8Array(1)).id }), false)
  // A block list that does not fit the size is refused outright.
  throwsPeerpacs(() => verifyDigest(p, { ...digest, size: 200 }), InvalidArgumentError)
  throwsPeerpacs(() => verifyDigest(p, { ...digest, blockSize: 0 }), InvalidArgumentError)
})

test('parseBlobId, isBlobId and blobIdBytes: exactly 64 lowercase hex digits', () => {
  const id = v.cases[0]!.id
  assert.equal(parseBlobId(id), id)
  assert.ok(isBlobId(id))
  assert.equal(hx(blobIdBytes(id as BlobId)), id)
  for (const bad of [id.toUpperCase(), `${id.slice(0, 63)}A`, id.slice(1), `${id}0`, `${id.slice(0, 63)}g`, ` ${id.slice(1)}`, '', `${id}\n`]) {
    assert.equal(isBlobId(bad), false, JSON.stringify(bad))
    throwsPeerpacs(() => parseBlobId(bad), DecodeError, JSON.stringify(bad))
    throwsPeerpacs(() => blobIdBytes(bad as BlobId), DecodeError, JSON.stringify(bad))
  }
  for (const notText of [undefined, null, 64, h(id)]) {
    assert.equal(isBlobId(notText), false)
    throwsPeerpacs(() => parseBlobId(notText as unknown as string), DecodeError)
  }
  // The error quotes at most 80 characters of what arrived.
  assert.ok(throwsPeerpacs(() => parseBlobId('x'.repeat(10_000)), DecodeError).message.length < 200)
})

test('blobIdOf refuses a block list that does not match the size', () => {
  assert.match(throwsPeerpacs(() => blobIdOf(p, 10, 4, new Uint8Array(64)), InvalidArgumentError).message, /blobIdOf\(blockHashes\): expected Uint8Array of length 96/)
  throwsPeerpacs(() => blobIdOf(p, 0, 4, new Uint8Array(32)), InvalidArgumentError)
  throwsPeerpacs(() => blobIdOf(p, -1, 4, new Uint8Array(0)), InvalidArgumentError)
  throwsPeerpacs(() => blobIdOf(p, 1, 0, new Uint8Array(32)), InvalidArgumentError)
})

test('blockCount refuses sizes and block sizes that are not integers in range', () => {
  for (const [size, blockSize] of [[5, 0], [-1, 4], ['a', 1], [1, 1.5], [1, NaN]] as const) {
    throwsPeerpacs(() => blockCount(size as number, blockSize), InvalidArgumentError, `${String(size)}/${blockSize}`)
  }
})

test('the id preimage written directly is canonical CBOR, byte for byte, at every head width', async () => {
  const { blobIdPreimage } = await import('../../../protocol/blob-id.ts')
  const { encodeCanonical } = await import('../../../protocol/canonical.ts')
  const widths = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]
  for (const size of widths) {
    for (const blockSize of [1, 23, 24, 1 << 20, 2 ** 30]) {
      for (const hashes of [new Uint8Array(0), new Uint8Array(32).fill(7), new Uint8Array(64 * 32).fill(3)]) {
        assert.deepEqual(blobIdPreimage(size, blockSize, hashes), encodeCanonical(['peerpacs/blob/v1', size, blockSize, hashes]), `${size} ${blockSize} ${hashes.length}`)
      }
    }
  }
})
