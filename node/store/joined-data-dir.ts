/**
 * Writes the data dir of a node that enters an existing org (by invite, or by restore): the keys
 * (createJoinedKeyring: no epoch key yet, the log brings them), the index with its owner record,
 * the addresses the mesh dials first (['mesh', 'bootstrap']) and any extra index records, and
 * peerpacs.json last, so a data dir is initialised only once everything else is in place. On
 * failure everything it wrote is removed again (the root too, if it made it).
 */
import { rm } from 'node:fs/promises'
import { utf8Encode } from '../../protocol/bytes.ts'
import { nodeIdFromPublicKey, type NodeKeyPair } from '../../protocol/identity.ts'
import { keys } from './key-space.ts'
import { createJoinedKeyring, type Keyring } from '../keys/keyring.ts'
import { provider, random } from '../runtime.ts'
import { DATA_DIR_FORMAT, DATA_DIR_VERSION, writeDataDirMeta, type DataDirLayout } from './data-dir.ts'
import type { KvOperation } from './kv.ts'
import { LevelKvStore } from './kv-level.ts'

export const BOOTSTRAP_KEY = keys.bootstrap

export interface JoinedDataDir {
  readonly genesisBytes: Uint8Array
  readonly nodeKey: NodeKeyPair
  readonly passphrase: string | undefined
  /** Multiaddrs the mesh dials first. */
  readonly bootstrap: readonly string[]
  readonly extra?: readonly KvOperation[]
}

/** Removes what a failed set-up wrote (the root only if `rootExisted` is false). */
export async function removeDataDir (layout: DataDirLayout, rootExisted: boolean): Promise<void> {
  for (const path of [layout.metaFile, layout.keysDir, layout.indexDir, layout.blobsDir]) await rm(path, { recursive: true, force: true })
  if (!rootExisted) await rm(layout.root, { recursive: true, force: true })
}

export async function writeJoinedDataDir (layout: DataDirLayout, options: JoinedDataDir): Promise<Keyring> {
  const keyring = await createJoinedKeyring(layout.keysDir, { genesisBytes: options.genesisBytes, nodeKey: options.nodeKey, passphrase: options.passphrase, provider, random })
  const nodeId = nodeIdFromPublicKey(options.nodeKey.publicKey)
  const index = await LevelKvStore.open(layout.indexDir, { create: true })
  try {
    await index.batch([
      { type: 'put', key: keys.owner, value: utf8Encode(nodeId) },
      { type: 'put', key: BOOTSTRAP_KEY, value: utf8Encode(JSON.stringify(options.bootstrap)) },
      ...(options.extra ?? [])
    ])
  } finally {
    await index.close()
  }
  await writeDataDirMeta(layout, { format: DATA_DIR_FORMAT, version: DATA_DIR_VERSION, nodeId, orgId: keyring.orgId, orgName: keyring.org.name, created: new Date().toISOString() })
  return keyring
}
