/**
 * The record that founds an org: signed by the first admin node, naming the org, that node, and
 * the recovery key's public half. The org id is the hash of the signed record, so no one can
 * claim an existing org id for a different founding. (The signed log makes this its first op.)
 */
import { expectBytes, expectString } from './bytes.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, intField, textField } from './canonical.ts'
import type { CryptoProvider } from './crypto-provider.ts'
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope } from './envelope.ts'
import { toHex } from './encoding.ts'
import { DecodeError, SignatureError } from './errors.ts'
import { equalBytes } from './bytes.ts'
import type { NodeKeyPair } from './identity.ts'
import type { RandomSource } from './random.ts'

export type OrgId = string & { readonly __brand: 'OrgId' }

export const GENESIS_DOMAIN = 'peerpacs/org-genesis/v1'

export interface Genesis {
  readonly orgId: OrgId
  readonly name: string
  readonly admin: Uint8Array
  readonly recovery: Uint8Array
  /** Milliseconds since the Unix epoch, from the founder's clock. */
  readonly created: number
}

export function isOrgId (value: unknown): value is OrgId {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
}

export interface CreateGenesisOptions {
  name: string
  recoveryPublicKey: Uint8Array
  created: number
  random: RandomSource
}

export function createGenesis (provider: CryptoProvider, key: NodeKeyPair, options: CreateGenesisOptions): { bytes: Uint8Array, genesis: Genesis } {
  expectString(options.name, 'createGenesis(name)')
  expectBytes(options.recoveryPublicKey, 'createGenesis(recoveryPublicKey)', 32)
  const payload = encodeCanonical({
    name: options.name,
    admin: key.publicKey,
    recovery: options.recoveryPublicKey,
    created: options.created,
    nonce: options.random(16)
  })
  const bytes = encodeEnvelope(signEnvelope(key, GENESIS_DOMAIN, payload))
  return { bytes, genesis: readGenesis(provider, bytes) }
}

/** Verifies a genesis record (signed by the admin it names) and returns its contents. */
export function readGenesis (provider: CryptoProvider, bytes: Uint8Array): Genesis {
  const envelope = decodeEnvelope(bytes)
  verifyEnvelope(provider, envelope, GENESIS_DOMAIN)
  const body = asMap(decodeCanonical(envelope.payload), 'genesis')
  const admin = bytesField(body, 'admin', 'genesis', 32)
  if (!equalBytes(admin, envelope.signer)) throw new SignatureError('genesis is not signed by the admin it names')
  bytesField(body, 'nonce', 'genesis', 16)
  const name = textField(body, 'name', 'genesis')
  if (name.length === 0 || name.length > 200) throw new DecodeError('genesis.name: expected 1 to 200 characters')
  return {
    orgId: toHex(provider.sha256(bytes)) as OrgId,
    name,
    admin,
    recovery: bytesField(body, 'recovery', 'genesis', 32),
    created: intField(body, 'created', 'genesis')
  }
}
