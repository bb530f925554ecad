/**
 * What the mesh is assembled from in a running node: the block layer (the /peerpacs/blocks
 * server over this node's blob store, and the fetcher that fills it from peers through the
 * store's partial objects) and the extra protocols (enrollment), kept here so node.ts stays a list
 * of listeners.
 */
import type { BlobId } from '../../protocol/blob-id.ts'
import type { Archive } from '../archive/archive.ts'
import { decodeBlobRecord, keys } from '../archive/index-layout.ts'
import type { Logger } from '../logging/logger.ts'
import { BlockFetcher } from './blocks/fetcher.ts'
import { handleBlocks } from './blocks/server.ts'
import { BLOCKS_PROTOCOL } from '../../protocol/wire/blocks.ts'
import type { BlockLayer } from './blob-replicator.ts'
import type { ExtraProtocol } from './mesh.ts'
import { ENROLL_PROTOCOL, handleEnroll } from './enroll.ts'
import { InviteStore } from './invites.ts'

export interface MeshParts {
  readonly blocks: BlockLayer
  readonly extras: ExtraProtocol[]
  readonly invites: InviteStore
}

export async function blockLayer (archive: Archive, log: Logger): Promise<BlockLayer> {
  const blobs = archive.blobs
  const digestOf = async (blob: BlobId): Promise<ReturnType<typeof decodeBlobRecord> | undefined> => {
    const bytes = await archive.kv.get(keys.blob(blob))
    return bytes === undefined ? undefined : decodeBlobRecord(blob, bytes)
  }
  return {
    protocol: BLOCKS_PROTOCOL,
    handler: (ctx) => handleBlocks({ blobs, may: ctx.may, onViolation: ctx.onViolation, onDamaged: ctx.onDamaged, log, digestOf, provider: archive.provider }),
    // Most instances are one block (a CT slice is ~0.5 MB), so throughput comes from many blobs in
    // flight, each paying its own stream, fsyncs and index write; 12 × 4 blocks bounds memory at
    // 48 MiB of unread blocks whatever the sizes.
    fetcher: (ctx) => new BlockFetcher({ blobs, provider: archive.provider, open: ctx.open, onFetched: ctx.onFetched, onViolation: ctx.onViolation, log, maxBlobs: 12, window: 4 })
  }
}

/** `addresses` gives the running host's addresses (for the enrollment answer). */
export async function meshParts (archive: Archive, log: Logger, addresses: () => string[]): Promise<MeshParts> {
  const invites = await InviteStore.open(archive)
  const enroll: ExtraProtocol = {
    protocol: ENROLL_PROTOCOL,
    handler: handleEnroll({ archive, invites, addresses, log, onAdmitted: (nodeId) => { log.info('mesh.enrolled', { nodeId }) } }),
    // Only while its invite is unexpired and unused: the Noise handshake with the invite key is the proof.
    admits: (peer) => invites.admits(peer)
  }
  return { blocks: await blockLayer(archive, log), extras: [enroll], invites }
}
