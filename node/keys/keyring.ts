/**
 * A node's keys: its Ed25519 node key, the key for its private index lookups, the org's
 * genesis op, and the org's epoch keys (the content keys that wrap every study key). On disk:
 *
 *   keys/node-secrets.cbor  node secret + lookup key, sealed with the passphrase (passphrase-seal.ts)
 *   keys/org.cbor           the org's genesis op (signed; its id is the org id). The first epoch
 *                           key travels in it, sealed to the founder and to the recovery key; later
 *                           epochs are ops in the log, and the keyring learns them from the log's state.
 *
 * The recovery key's secret is never written here: `init` shows it once.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeCanonical, asMap, bytesField, decodeCanonical, intField } from '../../protocol/canonical.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { OrgId } from '../../protocol/genesis.ts'
import { generateNodeKey, nodeIdFromPublicKey, nodeKeyFromSecret, x25519SecretKey, type NodeId, type NodeKeyPair } from '../../protocol/identity.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { createOrg, decodeOp, openEpoch, type EpochBody, type OrgState, type SignedOpOf } from '../../protocol/log/index.ts'
import { writeFileAtomic } from '../store/atomic-file.ts'
import { KeyFileError } from './errors.ts'
import { isSealed, openWithPassphrase, sealWithPassphrase, type ScryptParams } from './passphrase-seal.ts'

export const SECRETS_FILE = 'node-secrets.cbor'
export const ORG_FILE = 'org.cbor'

export interface OrgFile {
  readonly genesisBytes: Uint8Array
  readonly genesis: SignedOpOf<'org.genesis'>
  readonly orgId: OrgId
  readonly name: string
  /** When the org was founded (the founder's clock, ms). */
  readonly created: number
}

export interface Keyring {
  readonly nodeKey: NodeKeyPair
  readonly nodeId: NodeId
  readonly lookupKey: Uint8Array
  readonly org: OrgFile
  readonly orgId: OrgId
  /** The newest epoch this node holds (its id: the op that started it): new studies' keys are wrapped with it. */
  readonly currentEpoch: string
  /** Whether the node's secrets are sealed with a passphrase on disk. */
  readonly sealed: boolean
  epochKey (epoch: string): Uint8Array
  /** Opens the epochs of the log's state that are wrapped to this node and not yet held. */
  learnEpochs (state: OrgState): void
}

function encodeOrgFile (genesisBytes: Uint8Array): Uint8Array {
  return encodeCanonical({ v: 2, genesis: genesisBytes })
}

/** Reads a key file, or says which one could not be read and why. */
async function readKeyFile (path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new KeyFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

export function orgFileOf (provider: CryptoProvider, genesisBytes: Uint8Array): OrgFile {
  const genesis = decodeOp(provider, genesisBytes)
  if (genesis.type !== 'org.genesis') throw new Error(`expected the org's genesis op, found a ${genesis.type} op`)
  return { genesisBytes, genesis, orgId: genesis.idHex as string as OrgId, name: genesis.body.name, created: genesis.time }
}

export async function readOrgFile (keysDir: string, provider: CryptoProvider): Promise<OrgFile> {
  const path = join(keysDir, ORG_FILE)
  const bytes = await readKeyFile(path)
  try {
    const map = asMap(decodeCanonical(bytes), 'org file')
    const version = intField(map, 'v', 'org file')
    if (version !== 2) throw new Error(`format version ${version} is not this version's (2); this data dir was made by an older peerpacs`)
    return orgFileOf(provider, bytesField(map, 'genesis', 'org file'))
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

/** Creates a node key, an org (its genesis op, carrying the first epoch key); writes them; returns the unlocked keyring and the recovery key seed (never stored). */
export async function createKeyring (keysDir: string, options: CreateKeyringOptions): Promise<{ keyring: Keyring, recoverySeed: Uint8Array }> {
  const { provider, random } = options
  const nodeKey = generateNodeKey(random)
  const lookupKey = random(32)
  const recoverySeed = random(32)
  const recovery = nodeKeyFromSecret(recoverySeed)
  const { op, epochKey } = createOrg(provider, random, nodeKey, { name: options.orgName, recoveryPublicKey: recovery.publicKey, time: options.now })
  const secrets = encodeCanonical({ v: 1, nodeSecret: nodeKey.secretKey, lookupKey })
  await writeFileAtomic(join(keysDir, SECRETS_FILE),
    await sealWithPassphrase(secrets, options.passphrase, { provider, random, ...(options.scrypt === undefined ? {} : { params: options.scrypt }) }))
  await writeFileAtomic(join(keysDir, ORG_FILE), encodeOrgFile(op.bytes))
  const org = orgFileOf(provider, op.bytes)
  return { keyring: makeKeyring(provider, nodeKey, lookupKey, org, new Map([[org.orgId as string, epochKey]]), options.passphrase !== undefined), recoverySeed }
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
  let first: Uint8Array
  try {
    first = openEpoch(provider, org.genesis.body.epoch, '', { member: nodeKey.publicKey, secretKey: x25519SecretKey(nodeKey.secretKey) })
  } catch {
    // Every node so far is the org's founder. (A node that joins later will hold no box here and
    // learn its epochs from the log; joining arrives with the mesh.)
    throw new KeyFileError(`the first epoch key in ${join(keysDir, ORG_FILE)} does not open with this node's key (the files do not belong together)`)
  }
  return makeKeyring(provider, nodeKey, lookupKey, org, new Map([[org.orgId as string, first]]), sealed)
}

/**
 * Opens an epoch key with the recovery key (disaster recovery, and to prove the recovery key
 * works): the genesis epoch from the org file, later ones from the log's state.
 */
export function openEpochWithRecoveryKey (provider: CryptoProvider, org: OrgFile, recoverySeed: Uint8Array, epoch: string = org.orgId, state?: OrgState): Uint8Array {
  const body = epochBody(org, epoch, state)
  return openEpoch(provider, body, epoch === org.orgId ? '' : org.orgId, { recoverySecret: x25519SecretKey(recoverySeed) })
}

function epochBody (org: OrgFile, epoch: string, state: OrgState | undefined): EpochBody {
  if (epoch === org.orgId) return org.genesis.body.epoch
  const found = state?.epochs.find((e) => (e.id as string) === epoch)
  if (found === undefined) throw new KeyFileError(`no epoch ${epoch} in the org's log`)
  return found.body
}

function makeKeyring (provider: CryptoProvider, nodeKey: NodeKeyPair, lookupKey: Uint8Array, org: OrgFile, epochKeys: Map<string, Uint8Array>, sealed: boolean): Keyring {
  let current = epochKeys.size > 0 ? org.orgId as string : ''
  const secretKey = x25519SecretKey(nodeKey.secretKey)
  return {
    nodeKey,
    nodeId: nodeIdFromPublicKey(nodeKey.publicKey),
    lookupKey,
    org,
    orgId: org.orgId,
    get currentEpoch () {
      if (current === '') throw new KeyFileError('this node holds no epoch key of its org yet (it has not been given one)')
      return current
    },
    sealed,
    epochKey (epoch) {
      const key = epochKeys.get(epoch)
      if (key === undefined) throw new KeyFileError(`this node holds no key for epoch ${epoch}`)
      return key
    },
    learnEpochs (state) {
      for (const e of state.epochs) {
        if (!epochKeys.has(e.id)) {
          try {
            epochKeys.set(e.id, openEpoch(provider, e.body, (e.id as string) === org.orgId ? '' : org.orgId, { member: nodeKey.publicKey, secretKey }))
          } catch { continue /* not wrapped to this node: removed, or not a full member */ }
        }
        current = e.id
      }
      // The current epoch is the newest this node can use.
      for (let i = state.epochs.length - 1; i >= 0; i--) {
        if (epochKeys.has(state.epochs[i]!.id)) { current = state.epochs[i]!.id; break }
      }
    }
  }
}
