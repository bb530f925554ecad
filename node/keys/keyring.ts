/**
 * A node's keys: its Ed25519 node key, the key for its private index lookups, the org's
 * genesis op, and the org's epoch keys (the content keys that wrap every study key). On disk:
 *
 *   keys/node-secrets.cbor  node secret + lookup key (+ the org id, for a node that joined), sealed
 *                           with the passphrase (passphrase-seal.ts)
 *   keys/org.cbor           the org's genesis op (signed; its id is the org id). The first epoch
 *                           key travels in it, sealed to the founder and to the recovery key; later
 *                           epochs are ops in the log, and the keyring learns them from the log's state.
 *
 * A node that joined later (createJoinedKeyring, `init --join`) holds no box in genesis: it starts
 * with no epoch key and learns them from the log, including the earlier epochs an `epoch.start`
 * wrapped to it carries in its history (protocol/log/epoch.ts).
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
import { equalBytes } from '../../protocol/bytes.ts'
import { createOrg, decodeOp, openEpoch, openEpochHistory, type EpochBody, type OrgState, type SignedOpOf } from '../../protocol/log/index.ts'
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
  /** Whether the node holds any epoch key yet (a node that joined holds none until the log gives it one). */
  readonly hasEpochKey: boolean
  /** Every epoch key this node holds (for an epoch history: protocol/log/epoch.ts). */
  epochKeys (): Array<{ id: string, key: Uint8Array }>
  /** Opens the epochs of the log's state that are wrapped to this node and not yet held, and their histories. */
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

export interface CreateJoinedKeyringOptions {
  /** The org's genesis op, as the inviter sent it (its id is the org id). */
  genesisBytes: Uint8Array
  /** The node key, made before enrolling (it signed the enrollment request). */
  nodeKey: NodeKeyPair
  passphrase: string | undefined
  provider: CryptoProvider
  random: RandomSource
  scrypt?: ScryptParams
}

/**
 * Writes the keys of a node that joined an existing org: its node key and a fresh lookup key
 * (sealed with the passphrase), and the org's genesis op. It holds no epoch key yet: the log
 * gives it one (the epoch.start its admission wrote), and the earlier ones in that epoch's history.
 */
export async function createJoinedKeyring (keysDir: string, options: CreateJoinedKeyringOptions): Promise<Keyring> {
  const { provider, random, nodeKey } = options
  const org = orgFileOf(provider, options.genesisBytes)
  const lookupKey = random(32)
  // The org id binds the secrets to their org file: a joined node holds no box in genesis to prove it.
  const secrets = encodeCanonical({ v: 1, nodeSecret: nodeKey.secretKey, lookupKey, org: org.genesis.id })
  await writeFileAtomic(join(keysDir, SECRETS_FILE),
    await sealWithPassphrase(secrets, options.passphrase, { provider, random, ...(options.scrypt === undefined ? {} : { params: options.scrypt }) }))
  await writeFileAtomic(join(keysDir, ORG_FILE), encodeOrgFile(options.genesisBytes))
  return makeKeyring(provider, nodeKeyFromSecret(nodeKey.secretKey), lookupKey, org, new Map(), options.passphrase !== undefined)
}

/** Opens the node's keys with the passphrase. Reads only; writes nothing, whatever happens. */
export async function unlockKeyring (keysDir: string, passphrase: string | undefined, provider: CryptoProvider): Promise<Keyring> {
  const secretsPath = join(keysDir, SECRETS_FILE)
  const file = await readKeyFile(secretsPath)
  const secrets = await openWithPassphrase(provider, file, passphrase, secretsPath)
  const sealed = isSealed(file)
  let nodeKey: NodeKeyPair
  let lookupKey: Uint8Array
  let joinedOrg: Uint8Array | undefined
  try {
    const map = asMap(decodeCanonical(secrets), 'node secrets')
    nodeKey = nodeKeyFromSecret(bytesField(map, 'nodeSecret', 'node secrets', 32))
    lookupKey = bytesField(map, 'lookupKey', 'node secrets', 32)
    joinedOrg = map.org === undefined ? undefined : bytesField(map, 'org', 'node secrets', 32)
  } catch (cause) {
    throw new KeyFileError(`node secrets in ${secretsPath} are damaged: ${(cause as Error).message}`)
  }
  const org = await readOrgFile(keysDir, provider)
  // The founder holds the first epoch key in genesis. A node that joined later holds no box there
  // and learns its epochs from the log (learnEpochs); its secrets name the org they belong to.
  const founder = equalBytes(org.genesis.author, nodeKey.publicKey)
  if (joinedOrg !== undefined && !equalBytes(joinedOrg, org.genesis.id)) {
    throw new KeyFileError(`the org file ${join(keysDir, ORG_FILE)} is of org ${org.orgId}, not the one this node joined (the files do not belong together)`)
  }
  const keys = new Map<string, Uint8Array>()
  try {
    keys.set(org.orgId, openEpoch(provider, org.genesis.body.epoch, '', { member: nodeKey.publicKey, secretKey: x25519SecretKey(nodeKey.secretKey) }))
  } catch {
    if (founder || joinedOrg === undefined) throw new KeyFileError(`the first epoch key in ${join(keysDir, ORG_FILE)} does not open with this node's key (the files do not belong together)`)
  }
  return makeKeyring(provider, nodeKey, lookupKey, org, keys, sealed)
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
  /** Epochs whose box (and history) this node has opened. */
  const opened = new Set<string>()
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
    get hasEpochKey () { return current !== '' },
    epochKeys () { return [...epochKeys].map(([id, key]) => ({ id, key })) },
    epochKey (epoch) {
      const key = epochKeys.get(epoch)
      if (key === undefined) throw new KeyFileError(`this node holds no key for epoch ${epoch}`)
      return key
    },
    learnEpochs (state) {
      // Passes until nothing new opens: a history can hand over the key of an epoch met earlier in
      // the list, whose own history then opens too.
      for (let learned = true; learned;) {
        learned = false
        for (const e of state.epochs) {
          if (opened.has(e.id)) continue
          const inGenesis = (e.id as string) === org.orgId
          let key: Uint8Array | undefined
          try {
            // The box wrapped to this node decides; a key from a history stands in when there is none.
            key = openEpoch(provider, e.body, inGenesis ? '' : org.orgId, { member: nodeKey.publicKey, secretKey })
          } catch {
            key = epochKeys.get(e.id)
          }
          if (key === undefined) continue // not wrapped to this node: removed, not a full member, or not one yet
          epochKeys.set(e.id, key)
          opened.add(e.id)
          learned = true
          // The earlier epochs its issuer held (a node that joined later reads older studies with them).
          // A history that does not open is its issuer's fault: the epoch itself stands.
          if (inGenesis || e.body.history === undefined) continue
          try {
            for (const earlier of openEpochHistory(provider, e.body, org.orgId, key)) if (!epochKeys.has(earlier.id)) epochKeys.set(earlier.id, earlier.key)
          } catch { continue }
        }
      }
      // The current epoch is the newest this node can use.
      for (let i = state.epochs.length - 1; i >= 0; i--) {
        if (epochKeys.has(state.epochs[i]!.id)) { current = state.epochs[i]!.id; break }
      }
    }
  }
}
