/**
 * An archive over memory stores (or stores a test wraps to inject faults), with real keys made
 * in a temp folder: fast, and a "restart" is a new Archive over the same stores.
 */
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { Archive } from '../../../../node/archive/archive.ts'
import { Ingester, type IngestResult } from '../../../../node/archive/ingest.ts'
import type { InstanceBatcherOptions } from '../../../../node/archive/instance-batcher.ts'
import { createKeyring, type Keyring } from '../../../../node/keys/keyring.ts'
import { provider, random } from '../../../../node/runtime.ts'
import type { BlobStore } from '../../../../node/store/blob-store.ts'
import { MemoryBlobStore } from '../../../../node/store/blob-store-memory.ts'
import { DATA_DIR_FORMAT, dataDirLayout } from '../../../../node/store/data-dir.ts'
import type { KvStore } from '../../../../node/store/kv.ts'
import { MemoryKvStore } from '../../../../node/store/kv-memory.ts'
import { tempDir } from './temp.ts'

export interface TestArchive {
  archive: Archive
  keyring: Keyring
  kv: KvStore
  blobs: BlobStore
  /** A new Archive over the same keys and stores: what a process restart sees. */
  restart: (stores?: { kv?: KvStore, blobs?: BlobStore }) => Archive
}

export async function memoryArchive (t: Pick<TestContext, 'after'>, stores: { kv?: KvStore, blobs?: BlobStore } = {}, unlogged?: InstanceBatcherOptions): Promise<TestArchive> {
  const dir = await tempDir(t, 'peerpacs-archive-')
  const { keyring } = await createKeyring(dir, { passphrase: undefined, orgName: 'Unit clinic', provider, random, now: 0 })
  const make = (kv: KvStore, blobs: BlobStore): Archive => new Archive({
    layout: dataDirLayout(join(dir, 'data')),
    meta: { format: DATA_DIR_FORMAT, version: 1, nodeId: keyring.nodeId, orgId: keyring.orgId, orgName: 'Unit clinic', created: '' },
    keyring, kv, blobs, provider, random, release: async () => {}, ...(unlogged === undefined ? {} : { unlogged })
  })
  const kv = stores.kv ?? new MemoryKvStore()
  const blobs = stores.blobs ?? new MemoryBlobStore(provider)
  return { archive: make(kv, blobs), keyring, kv, blobs, restart: (s = {}) => make(s.kv ?? kv, s.blobs ?? blobs) }
}

export async function * pieces (bytes: Uint8Array, size = 4096): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.slice(offset, offset + size)
}

export function ingest (archive: Archive, bytes: Uint8Array): Promise<IngestResult> {
  return new Ingester(archive).ingest(pieces(bytes), bytes.length)
}
