/**
 * Sealing of an audit record for the `audit.event {sealed}` op body (docs/protocol.md "Audit"):
 *   key    = HKDF-SHA256(epoch key, salt = empty, LABELS.auditKey)
 *   aad    = canonical(['peerpacs/audit/v1', org, author])
 *   sealed = secretbox(key, encodeAuditRecord(record), aad)
 * Every member holding the epoch key can read the org's audit trail; a backup or relay sees
 * only that an event happened. The AAD binds the box to its org and signing member, so a record
 * copied into another member's chain or another org fails to open. The derived key keeps audit
 * boxes apart from anything else sealed under the epoch key.
 */
import { expectBytes, expectObject } from '../bytes.ts'
import { encodeCanonical } from '../canonical.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import { InvalidArgumentError } from '../errors.ts'
import { isOrgId, type OrgId } from '../genesis.ts'
import { hkdfSha256, LABELS } from '../kdf.ts'
import type { RandomSource } from '../random.ts'
import { secretboxOpen, secretboxSeal } from '../secretbox.ts'
import { decodeAuditRecord, encodeAuditRecord } from './codec.ts'
import type { AuditRecord } from './record.ts'

export const AUDIT_AAD_DOMAIN = 'peerpacs/audit/v1'

export interface AuditContext {
  org: OrgId
  /** Ed25519 public key of the member signing the op. */
  author: Uint8Array
}

const EMPTY = new Uint8Array(0)

function keyAndAad (where: string, epochKey: Uint8Array, context: AuditContext): [Uint8Array, Uint8Array] {
  expectBytes(epochKey, `${where}(epochKey)`, 32)
  expectObject(context, `${where}(context)`)
  if (!isOrgId(context.org)) throw new InvalidArgumentError(`${where}(context.org): expected an org id (64 lowercase hex digits)`)
  expectBytes(context.author, `${where}(context.author)`, 32)
  return [hkdfSha256(epochKey, EMPTY, LABELS.auditKey), encodeCanonical([AUDIT_AAD_DOMAIN, context.org, context.author])]
}

export function sealAuditRecord (provider: CryptoProvider, random: RandomSource, epochKey: Uint8Array, context: AuditContext, record: AuditRecord): Uint8Array {
  const [key, aad] = keyAndAad('sealAuditRecord', epochKey, context)
  return secretboxSeal(provider, random, key, encodeAuditRecord(record), aad)
}

/** Inverse of sealAuditRecord: AuthenticationError for a wrong key, org, author or a damaged box; DecodeError for a bad record inside. */
export function openAuditRecord (provider: CryptoProvider, epochKey: Uint8Array, context: AuditContext, sealed: Uint8Array): AuditRecord {
  const [key, aad] = keyAndAad('openAuditRecord', epochKey, context)
  expectBytes(sealed, 'openAuditRecord(sealed)')
  return decodeAuditRecord(secretboxOpen(provider, key, sealed, aad))
}
