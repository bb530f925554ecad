/**
 * A node's keys: its Ed25519 node key, the key for its private index lookups, the org's
 * genesis, and the org's epoch keys (the content keys that wrap every study key). On disk:
 *
 *   keys/node-secrets.cbor  node secret + lookup key, sealed with the passphrase (passphrase-seal.ts)
 *   keys/org.cbor           genesis record; each epoch key sealed to this node's X25519 key and
 *                           to the recovery key's, so only this node or the recovery key opens it
 *
 * The recovery key's secret is never written here: `init` shows it once.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeCanonical, asMap, bytesField, decodeCanonical, intField, field } from '../../protocol/canonical.ts'
import type { CanonicalValue } from '../../protocol/canonical.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { createGenesis, readGenesis, type Genesis, type OrgId } from '../../protocol/genesis.ts'
import { generateNodeKey, nodeIdFromPublicKey, nodeKeyFromSecret, x25519PublicKey, x25519SecretKey, type NodeId, type NodeKeyPair } from '../../protocol/identity.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { openSealedBox, sealToPublicKey } from '../../protocol/sealed-box.ts'
import { writeFileAtomic } from '../store/atomic-file.ts'
import { KeyFileError } from './errors.ts'
import { isSealed, openWithPassphrase, sealWithPassphrase, type ScryptParams } from './passphrase-seal.ts'

export const SECRETS_FILE = 'node-secrets.cbor'
export const ORG_FILE = 'org.cbor'

export interface EpochWrap {
  readonly epoch: number
  /** The epoch key sealed to this node's X25519 key. */
  readonly toNode: Uint8Array
  /** The epoch key sealed to the recovery key's X25519 key. */
  readonly toRecovery: Uint8Array
}

export interface OrgFile {
  readonly genesisBytes: Uint8Array
  readonly genesis: Genesis
  readonly epochs: readonly EpochWrap[]
}

export interface Keyring {
  readonly nodeKey: NodeKeyPair
  readonly nodeId: NodeId
  readonly lookupKey: Uint8Array
  readonly org: OrgFile
  readonly orgId: OrgId
  /** The newest epoch: new studies' keys are wrapped with it. */
  readonly currentEpoch: number
  /** Whether the node's secrets are sealed with a passphrase on disk. */
  readonly sealed: boolean
  epochKey (epoch: number): Uint8Array
}

export function epochKeyAad (orgId: OrgId, epoch: number): Uint8Array {
  return encodeCanonical(['peerpacs/epoch-key/v1', orgId, epoch])
}

function encodeOrgFile (genesisBytes: Uint8Array, epochs: readonly EpochWrap[]): Uint8Array {
  return encodeCanonical({
    v: 1,
    genesis: genesisBytes,
    epochs: epochs.map((e) => ({ epoch: e.epoch, toNode: e.toNode, toRecovery: e.toRecovery }))
  })
}

/** Reads a key file, or says which one could not be read and why. */
async function readKeyFile (path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new KeyFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

export async function readOrgFile (keysDir: string, provider: CryptoProvider): Promise<OrgFile> {
  const path = join(keysDir, ORG_FILE)
  const bytes = await readKeyFile(path)
  try {
    const map = asMap(decodeCanonical(bytes), 'org file')
    const genesisBytes = bytesField(map, 'genesis', 'org file')
    const list = field(map, 'epochs', 'org file', (v): v is CanonicalValue[] => Array.isArray(v), 'array')
    const epochs = list.map((item, i) => {
      const e = asMap(item, `org file.epochs[${i}]`)
      return { epoch: intField(e, 'epoch', 'epoch'), toNode: bytesField(e, 'toNode', 'epoch'), toRecovery: bytesField(e, 'toRecovery', 'epoch') }
    })
    if (epochs.length === 0) throw new Error('no epochs')
    return { genesisBytes, genesis: readGenesis(provider, genesisBytes), epochs }
  } catch (cause) {
    throw new KeyFileError(`org file ${path} is damaged: ${(cause as Error).message}`)
  }
}

export interface CreateKeyringOptions {
  passphrase: string | undefined
  orgName: string
  provider: CryptoProvider
  random: RandomSource
  now: number
  scrypt?: ScryptParams
}

/** Creates a node key, an org and its first epoch key; writes them; returns the unlocked keyring and the recovery key seed (never stored). */
export async function createKeyring (keysDir: string, options: CreateKeyringOptions): Promise<{ keyring: Keyring, recoverySeed: Uint8Array }> {
  const { provider, random } = options
  const nodeKey = generateNodeKey(random)
  const lookupKey = random(32)
  const recoverySeed = random(32)
  const recovery = nodeKeyFromSecret(recoverySeed)
  const { bytes: genesisBytes, genesis } = createGenesis(provider, nodeKey, {
    name: options.orgName, recoveryPublicKey: recovery.publicKey, created: options.now, random
  })
  const epochKey = random(32)
  const aad = epochKeyAad(genesis.orgId, 0)
  const wrap: EpochWrap = {
    epoch: 0,
    toNode: sealToPublicKey(provider, random, x25519PublicKey(nodeKey.publicKey), epochKey, aad),
    toRecovery: sealToPublicKey(provider, random, x25519PublicKey(recovery.publicKey), epochKey, aad)
  }
  const secrets = encodeCanonical({ v: 1, nodeSecret: nodeKey.secretKey, lookupKey })
  await writeFileAtomic(join(keysDir, SECRETS_FILE),
    await sealWithPassphrase(secrets, options.passphrase, { provider, random, ...(options.scrypt === undefined ? {} : { params: options.scrypt }) }))
  await writeFileAtomic(join(keysDir, ORG_FILE), encodeOrgFile(genesisBytes, [wrap]))
  const org = { genesisBytes, genesis, epochs: [wrap] }
  return { keyring: makeKeyring(nodeKey, lookupKey, org, new Map([[0, epochKey]]), options.passphrase !== undefined), recoverySeed }
}

/** Opens the node's keys with the passphrase. Reads only; writes nothing, whatever happens. */
export async function unlockKeyring (keysDir: string, passphrase: string | undefined, provider: CryptoProvider): Promise<Keyring> {
  const secretsPath = join(keysDir, SECRETS_FILE)
  const file = await readKeyFile(secretsPath)
  const secrets = await openWithPassphrase(provider, file, passphrase, secretsPath)
  const sealed = isSealed(file)
  let nodeKey: NodeKeyPair
  let lookupKey: Uint8Array
  try {
    const map = asMap(decodeCanonical(secrets), 'node secrets')
    nodeKey = nodeKeyFromSecret(bytesField(map, 'nodeSecret', 'node secrets', 32))
    lookupKey = bytesField(map, 'lookupKey', 'node secrets', 32)
  } catch (cause) {
    throw new KeyFileError(`node secrets in ${secretsPath} are damaged: ${(cause as Error).message}`)
  }
  const org = await readOrgFile(keysDir, provider)
  const epochKeys = new Map<number, Uint8Array>()
  const mySecret = x25519SecretKey(nodeKey.secretKey)
  for (const wrap of org.epochs) {
    try {
      epochKeys.set(wrap.epoch, openSealedBox(provider, mySecret, wrap.toNode, epochKeyAad(org.genesis.orgId, wrap.epoch)))
    } catch {
      throw new KeyFileError(`epoch ${wrap.epoch} key in ${join(keysDir, ORG_FILE)} does not open with this node's key (the files do not belong together)`)
    }
  }
  return makeKeyring(nodeKey, lookupKey, org, epochKeys, sealed)
}

/** Opens an epoch key with the recovery key (disaster recovery, and to prove the recovery key works). */
export function openEpochWithRecoveryKey (provider: CryptoProvider, org: OrgFile, recoverySeed: Uint8Array, epoch: number): Uint8Array {
  const wrap = org.epochs.find((e) => e.epoch === epoch)
  if (wrap === undefined) throw new KeyFileError(`no epoch ${epoch} in the org file`)
  return openSealedBox(provider, x25519SecretKey(recoverySeed), wrap.toRecovery, epochKeyAad(org.genesis.orgId, epoch))
}

function makeKeyring (nodeKey: NodeKeyPair, lookupKey: Uint8Array, org: OrgFile, epochKeys: Map<number, Uint8Array>, sealed: boolean): Keyring {
  const currentEpoch = Math.max(...epochKeys.keys())
  return {
    nodeKey,
    nodeId: nodeIdFromPublicKey(nodeKey.publicKey),
    lookupKey,
    org,
    orgId: org.genesis.orgId,
    currentEpoch,
    sealed,
    epochKey (epoch) {
      const key = epochKeys.get(epoch)
      if (key === undefined) throw new KeyFileError(`this node holds no key for epoch ${epoch}`)
      return key
    }
  }
}
