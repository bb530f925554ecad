/**
 * The record that founds an org: signed by the first admin node, naming the org, that node, and
 * the recovery key's public half. The org id is the hash of the signed record, so no one can
 * claim an existing org id for a different founding. (The signed log makes this its first op.)
 */
import { expectBytes, expectInteger, expectObject, expectString } from './bytes.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, intField, textField } from './canonical.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope } from './envelope.ts'
import { toHex } from './encoding.ts'
import { DecodeError, InvalidArgumentError, SignatureError } from './errors.ts'
import { equalBytes } from './bytes.ts'
import type { NodeKeyPair } from './identity.ts'
import { draw, type RandomSource } from './random.ts'

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
  expectProvider(provider, 'createGenesis(provider)')
  expectObject(key, 'createGenesis(key)')
  expectObject(options, 'createGenesis(options)')
  checkName(expectString(options.name, 'createGenesis(name)'))
  expectBytes(options.recoveryPublicKey, 'createGenesis(recoveryPublicKey)', 32)
  expectInteger(options.created, 'createGenesis(created)')
  const payload = encodeCanonical({
    name: options.name,
    admin: expectBytes(key.publicKey, 'createGenesis(key.publicKey)', 32),
    recovery: options.recoveryPublicKey,
    created: options.created,
    nonce: draw(options.random, 16, 'createGenesis')
  })
  const bytes = encodeEnvelope(signEnvelope(key, GENESIS_DOMAIN, payload))
  return { bytes, genesis: readGenesis(provider, bytes) }
}

/** Verifies a genesis record (signed by the admin it names) and returns its contents. */
export function readGenesis (provider: CryptoProvider, bytes: Uint8Array): Genesis {
  expectProvider(provider, 'readGenesis(provider)')
  expectBytes(bytes, 'readGenesis(bytes)')
  const envelope = decodeEnvelope(bytes)
  verifyEnvelope(provider, envelope, GENESIS_DOMAIN)
  const body = asMap(decodeCanonical(envelope.payload), 'genesis')
  const extra = Object.keys(body).filter((k) => !GENESIS_FIELDS.includes(k))
  if (extra.length > 0) throw new DecodeError(`genesis: unexpected fields ${extra.join(', ')}`)
  const admin = bytesField(body, 'admin', 'genesis', 32)
  if (!equalBytes(admin, envelope.signer)) throw new SignatureError('genesis is not signed by the admin it names')
  bytesField(body, 'nonce', 'genesis', 16)
  const name = textField(body, 'name', 'genesis')
  try { checkName(name) } catch (cause) { throw new DecodeError((cause as Error).message) }
  const created = intField(body, 'created', 'genesis')
  if (created < 0) throw new DecodeError('genesis.created: expected a time after 1970')
  return {
    orgId: toHex(provider.sha256(bytes)) as OrgId,
    name,
    admin,
    recovery: bytesField(body, 'recovery', 'genesis', 32),
    created
  }
}

const GENESIS_FIELDS = ['name', 'admin', 'recovery', 'created', 'nonce']

function checkName (name: string): void {
  if (name.length === 0 || name.length > 200) throw new InvalidArgumentError(`genesis.name: expected 1 to 200 characters, got ${name.length}`)
}
