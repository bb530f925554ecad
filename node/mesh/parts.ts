/**
 * What the mesh is assembled from in a running node: the block layer and the extra protocols
 * (enrollment), kept here so node.ts stays a list of listeners.
 */
import type { Archive } from '../archive/archive.ts'
import type { Logger } from '../daemon/log.ts'
import type { BlockLayer, ExtraProtocol } from './mesh.ts'

export interface MeshParts {
  readonly blocks: BlockLayer | undefined
  readonly extras: ExtraProtocol[]
  readonly invites: unknown
}

export async function meshParts (_archive: Archive, _log: Logger): Promise<MeshParts> {
  return { blocks: undefined, extras: [], invites: undefined }
}
