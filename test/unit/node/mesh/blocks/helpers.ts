/**
 * Real libp2p hosts on 127.0.0.1 with a blob store, a partial store, a blocks server and a
 * fetcher, for the /peerpacs/blocks tests. Everything a helper opens is closed in t.after.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import type { TestContext } from 'node:test'
import type { PeerId } from '@libp2p/interface'
import { BlobHasher, type BlobId } from '../../../../../protocol/blob-id.ts'
import type { BlobInfo } from '../../../../../protocol/log/body-content.ts'
import { nativeProvider } from '../../../../../node/crypto/native-provider.ts'
import { BlockFetcher, type BlockFetcherOptions } from '../../../../../node/mesh/blocks/fetcher.ts'
import { handleBlocks, type BlocksServerContext } from '../../../../../node/mesh/blocks/server.ts'
import { BLOCKS_PROTOCOL } from '../../../../../protocol/wire/blocks.ts'
import { createHost, type Host } from '../../../../../node/mesh/host.ts'
import type { BlobStore, ReadRange } from '../../../../../node/store/blob-store.ts'
import { FsBlobStore } from '../../../../../node/store/blob-store-fs.ts'
import type { PartialBlob } from '../../../../../node/store/partial-blobs.ts'
import { tempDir } from '../../helpers/temp.ts'

export const provider = nativeProvider

export function infoOf (data: Uint8Array): BlobInfo {
  const hasher = new BlobHasher(provider)
  hasher.update(data)
  const { id, size, blockSize, blockHashes } = hasher.digest()
  return { id, size, blockSize, blockHashes }
}

export async function readAll (store: BlobStore, id: BlobId): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of store.read(id)) parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength))
  return Buffer.concat(parts)
}

/** A BlobStore that counts the bytes read out of it (what a server sent). */
export class CountingBlobStore implements BlobStore {
  readonly inner: BlobStore
  bytesRead = 0
  constructor (inner: BlobStore) { this.inner = inner }
  async create (): ReturnType<BlobStore['create']> { return await this.inner.create() }
  async size (id: BlobId): Promise<number | undefined> { return await this.inner.size(id) }
  async * read (id: BlobId, range?: ReadRange): AsyncIterable<Uint8Array> {
    for await (const chunk of this.inner.read(id, range)) { this.bytesRead += chunk.length; yield chunk }
  }

  async delete (id: BlobId): Promise<void> { await this.inner.delete(id) }
  list (): AsyncIterable<BlobId> { return this.inner.list() }
  async quarantine (id: BlobId): Promise<string | undefined> { return await this.inner.quarantine(id) }
  async beginPartial (info: BlobInfo): Promise<PartialBlob> { return await this.inner.beginPartial(info) }
  async strays (): Promise<string[]> { return await this.inner.strays() }
}

export interface TestPartials {
  readonly dir: string
  pathOf (id: BlobId): string
  begin (info: BlobInfo): Promise<PartialBlob>
}

/** The partial objects of a file store, as the tests look at them. */
export function partialsOf (blobs: FsBlobStore): TestPartials {
  return { dir: dirname(blobs.partialPathOf('0'.repeat(64) as BlobId)), pathOf: (id) => blobs.partialPathOf(id), begin: async (info) => await blobs.beginPartial(info) }
}

export interface TestNode {
  readonly host: Host
  readonly root: string
  readonly blobs: FsBlobStore
  /** The file store's objects being received. */
  readonly partials: TestPartials
  /** Stores `data` and returns its BlobInfo. */
  put (data: Uint8Array): Promise<BlobInfo>
}

export async function makeNode (t: TestContext): Promise<TestNode> {
  const root = await tempDir(t, 'peerpacs-blocks-')
  const host = await createHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], gate: () => true })
  t.after(async () => { await host.stop() })
  const blobs = await FsBlobStore.open(join(root, 'blobs'), provider)
  t.after(async () => { await blobs.close() })
  const partials = partialsOf(blobs)
  return {
    host,
    root,
    blobs,
    partials,
    put: async (data) => {
      const writer = await blobs.create()
      await writer.write(data)
      const digest = await writer.commit()
      return { id: digest.id, size: digest.size, blockSize: digest.blockSize, blockHashes: digest.blockHashes }
    }
  }
}

export interface Violation { peer: string, reason: string }

/** Serves node.blobs (or `store`) on node.host; violations are collected. */
export async function serve (node: TestNode, options: Partial<BlocksServerContext> = {}): Promise<{ violations: Violation[], mayAsked: BlobId[] }> {
  const violations: Violation[] = []
  const mayAsked: BlobId[] = []
  await node.host.handle(BLOCKS_PROTOCOL, handleBlocks({
    blobs: node.blobs,
    may: (_peer, blob) => { mayAsked.push(blob); return true },
    onViolation: (peer, reason) => { violations.push({ peer: peer.toString(), reason }) },
    ...options
  }), { maxInboundStreams: 8 })
  return { violations, mayAsked }
}

export async function connect (from: TestNode, to: TestNode): Promise<void> {
  await from.host.dial(to.host.getMultiaddrs()[0]!)
}

export interface TestFetcher {
  readonly fetcher: BlockFetcher
  readonly fetched: BlobId[]
  readonly violations: Violation[]
  /** Resolves once `id` was fetched (rejects after `ms`). */
  whenFetched (id: BlobId, ms?: number): Promise<void>
}

export function makeFetcher (t: TestContext, node: TestNode, options: Partial<BlockFetcherOptions> = {}): TestFetcher {
  const fetched: BlobId[] = []
  const violations: Violation[] = []
  const waiting = new Map<BlobId, Array<() => void>>()
  const fetcher = new BlockFetcher({
    blobs: node.blobs,
    provider,
    open: async (peer: PeerId, signal) => await node.host.dialProtocol(peer, BLOCKS_PROTOCOL, { signal }),
    onFetched: (id) => {
      fetched.push(id)
      for (const resolve of waiting.get(id) ?? []) resolve()
      waiting.delete(id)
    },
    onViolation: (peer, reason) => { violations.push({ peer: peer.toString(), reason }) },
    ...options
  })
  t.after(async () => { await fetcher.close() })
  return {
    fetcher,
    fetched,
    violations,
    whenFetched: async (id, ms = 20_000) => {
      if (fetched.includes(id)) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`blob ${id} not fetched within ${ms} ms (status ${JSON.stringify(fetcher.status())})`)), ms)
        const list = waiting.get(id) ?? []
        list.push(() => { clearTimeout(timer); resolve() })
        waiting.set(id, list)
      })
    }
  }
}

export async function until (what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
