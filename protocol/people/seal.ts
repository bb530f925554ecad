/**
 * Sealing of a people op's record (docs/protocol.md "Users"):
 *   key    = HKDF-SHA256(epoch key, salt = empty, LABELS.userKey)
 *   aad    = canonical(['peerpacs/user/v1', org, user id (16 bytes), op type])
 *   sealed = secretbox(key, record bytes, aad)
 * Only holders of the epoch key (full site members, the recovery key) open it. The AAD binds the
 * box to its org, its account and its op type, so a record cannot be replayed onto another
 * account, or a disable's body passed off as an account record.
 */
import { expectBytes } from '../bytes.ts'
import { encodeCanonical } from '../canonical.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import { InvalidArgumentError } from '../errors.ts'
import { isOrgId, type OrgId } from '../genesis.ts'
import { hkdfSha256, LABELS } from '../kdf.ts'
import type { RandomSource } from '../random.ts'
import { secretboxOpen, secretboxSeal } from '../secretbox.ts'
import { USER_ID_BYTES, USER_OP_TYPES, type UserOpType } from '../log/body-users.ts'

export const USER_AAD_DOMAIN = 'peerpacs/user/v1'

export interface UserSealContext {
  readonly org: OrgId
  readonly user: Uint8Array
  readonly type: UserOpType
}

const EMPTY = new Uint8Array(0)

function keyAndAad (where: string, epochKey: Uint8Array, context: UserSealContext): [Uint8Array, Uint8Array] {
  expectBytes(epochKey, `${where}(epochKey)`, 32)
  if (!isOrgId(context.org)) throw new InvalidArgumentError(`${where}(context.org): expected an org id (64 lowercase hex digits)`)
  expectBytes(context.user, `${where}(context.user)`, USER_ID_BYTES)
  if (!USER_OP_TYPES.includes(context.type)) throw new InvalidArgumentError(`${where}(context.type): expected one of ${USER_OP_TYPES.join(', ')}`)
  return [hkdfSha256(epochKey, EMPTY, LABELS.userKey), encodeCanonical([USER_AAD_DOMAIN, context.org, context.user, context.type])]
}

export function sealUserRecord (provider: CryptoProvider, random: RandomSource, epochKey: Uint8Array, context: UserSealContext, record: Uint8Array): Uint8Array {
  const [key, aad] = keyAndAad('sealUserRecord', epochKey, context)
  return secretboxSeal(provider, random, key, record, aad)
}

/** The record's bytes; AuthenticationError for a wrong key, org, account, op type or a damaged box. */
export function openUserRecord (provider: CryptoProvider, epochKey: Uint8Array, context: UserSealContext, sealed: Uint8Array): Uint8Array {
  const [key, aad] = keyAndAad('openUserRecord', epochKey, context)
  return secretboxOpen(provider, key, sealed, aad)
}
