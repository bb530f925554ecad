/**
 * Sealing of a case-document update for the `case.update` op body:
 *   key    = HKDF-SHA256(study data key, salt = empty, LABELS.caseUpdateKey)
 *   aad    = canonical(['peerpacs/case-update/v1', org, study, author])
 *   sealed = secretbox(key, update, aad)
 * The AAD binds the box to its org, study and signing member, so a box copied into another
 * study, org or another member's op fails to open.
 */
import { expectBytes, expectObject } from '../bytes.ts'
import { encodeCanonical } from '../canonical.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import { InvalidArgumentError } from '../errors.ts'
import { isOrgId, type OrgId } from '../genesis.ts'
import { hkdfSha256, LABELS } from '../kdf.ts'
import type { RandomSource } from '../random.ts'
import { secretboxOpen, secretboxSeal } from '../secretbox.ts'
import type { StudyId } from '../study-id.ts'
import { expectStudy } from './client-id.ts'

export const CASE_UPDATE_AAD_DOMAIN = 'peerpacs/case-update/v1'

export interface CaseUpdateContext {
  org: OrgId
  study: StudyId
  /** Ed25519 public key of the member signing the op. */
  author: Uint8Array
}

const EMPTY = new Uint8Array(0)

function keyAndAad (where: string, dataKey: Uint8Array, context: CaseUpdateContext): [Uint8Array, Uint8Array] {
  expectBytes(dataKey, `${where}(dataKey)`, 32)
  expectObject(context, `${where}(context)`)
  if (!isOrgId(context.org)) throw new InvalidArgumentError(`${where}(context.org): expected an org id (64 lowercase hex digits)`)
  expectStudy(context.study, `${where}(context.study)`)
  expectBytes(context.author, `${where}(context.author)`, 32)
  const aad = encodeCanonical([CASE_UPDATE_AAD_DOMAIN, context.org, context.study, context.author])
  return [hkdfSha256(dataKey, EMPTY, LABELS.caseUpdateKey), aad]
}

export function sealCaseUpdate (provider: CryptoProvider, random: RandomSource, dataKey: Uint8Array, context: CaseUpdateContext, update: Uint8Array): Uint8Array {
  const [key, aad] = keyAndAad('sealCaseUpdate', dataKey, context)
  expectBytes(update, 'sealCaseUpdate(update)')
  return secretboxSeal(provider, random, key, update, aad)
}

/** Inverse of sealCaseUpdate; AuthenticationError for a wrong key, context or damaged box. */
export function openCaseUpdate (provider: CryptoProvider, dataKey: Uint8Array, context: CaseUpdateContext, sealed: Uint8Array): Uint8Array {
  const [key, aad] = keyAndAad('openCaseUpdate', dataKey, context)
  expectBytes(sealed, 'openCaseUpdate(sealed)')
  return secretboxOpen(provider, key, sealed, aad)
}
