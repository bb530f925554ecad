/**
 * Founding an org in the log: the genesis op (seq 1, no parents, org "") carrying the org's
 * name, the recovery key's public half and the first epoch key, wrapped to the founder and to
 * the recovery key. The org id is the genesis op's id.
 */
import { expectBytes, expectInteger, expectObject, expectString } from '../bytes.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import type { OrgId } from '../genesis.ts'
import type { NodeKeyPair } from '../identity.ts'
import { draw, type RandomSource } from '../random.ts'
import { createEpoch } from './epoch.ts'
import { createOp, type SignedOpOf } from './op.ts'

export interface CreateOrgOptions {
  name: string
  /** The recovery key's public half (Ed25519, as recovery-key.ts's seed gives it). */
  recoveryPublicKey: Uint8Array
  time: number
}

export function createOrg (provider: CryptoProvider, random: RandomSource, key: NodeKeyPair, options: CreateOrgOptions): { op: SignedOpOf<'org.genesis'>, orgId: OrgId, epochKey: Uint8Array } {
  expectObject(options, 'createOrg(options)')
  expectString(options.name, 'createOrg(name)')
  expectBytes(options.recoveryPublicKey, 'createOrg(recoveryPublicKey)', 32)
  expectInteger(options.time, 'createOrg(time)')
  const epoch = createEpoch(provider, random, { org: '', members: [{ member: key.publicKey }], recoveryPublicKey: options.recoveryPublicKey })
  const op = createOp(provider, key, {
    org: '',
    seq: 1,
    parents: [],
    type: 'org.genesis',
    body: { name: options.name, recovery: options.recoveryPublicKey, nonce: draw(random, 16, 'createOrg'), epoch: epoch.body },
    time: options.time
  })
  return { op, orgId: op.idHex as string as OrgId, epochKey: epoch.key }
}
