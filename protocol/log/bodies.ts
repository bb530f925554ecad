/**
 * The op types and their body codecs, in one table: the type names the codec, and an op whose
 * type is not in the table is refused ('unknown-type'). OpBodies maps each type to its body.
 */
import type { CanonicalValue } from '../canonical.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import {
  auditEventCodec, caseUpdateCodec, studyInstanceCodec, studyInstancesCodec, studyRegisterCodec,
  type AuditEventBody, type CaseUpdateBody, type StudyInstanceBody, type StudyInstancesBody, type StudyRegisterBody
} from './body-content.ts'
import {
  epochStartCodec, genesisCodec, memberAddCodec, memberAddressesCodec, memberRemoveCodec, memberSetLevelCodec,
  type EpochStartBody, type GenesisBody, type MemberAddBody, type MemberAddressesBody, type MemberRemoveBody, type MemberSetLevelBody
} from './body-membership.ts'
import { userAddCodec, userDisableCodec, userEnableCodec, userUpdateCodec, type UserBody } from './body-users.ts'

export interface OpBodies {
  'org.genesis': GenesisBody
  'member.add': MemberAddBody
  'member.set-level': MemberSetLevelBody
  'member.remove': MemberRemoveBody
  'member.addresses': MemberAddressesBody
  'epoch.start': EpochStartBody
  'study.register': StudyRegisterBody
  'study.instance': StudyInstanceBody
  'study.instances': StudyInstancesBody
  'audit.event': AuditEventBody
  'case.update': CaseUpdateBody
  'user.add': UserBody
  'user.update': UserBody
  'user.disable': UserBody
  'user.enable': UserBody
}

export type OpType = keyof OpBodies

interface BodyCodec<B> {
  encode (body: B): CanonicalValue
  decode (value: CanonicalValue, provider: CryptoProvider): B
}

export const BODY_CODECS: { readonly [T in OpType]: BodyCodec<OpBodies[T]> } = {
  'org.genesis': genesisCodec,
  'member.add': memberAddCodec,
  'member.set-level': memberSetLevelCodec,
  'member.remove': memberRemoveCodec,
  'member.addresses': memberAddressesCodec,
  'epoch.start': epochStartCodec,
  'study.register': studyRegisterCodec,
  'study.instance': studyInstanceCodec,
  'study.instances': studyInstancesCodec,
  'audit.event': auditEventCodec,
  'case.update': caseUpdateCodec,
  'user.add': userAddCodec,
  'user.update': userUpdateCodec,
  'user.disable': userDisableCodec,
  'user.enable': userEnableCodec
}

export const OP_TYPES = Object.keys(BODY_CODECS) as OpType[]

export function isOpType (value: unknown): value is OpType {
  return typeof value === 'string' && Object.hasOwn(BODY_CODECS, value)
}

/** Types that change membership, levels or epoch keys: their arrival can change other ops' verdicts. */
export const MEMBERSHIP_TYPES: ReadonlySet<OpType> = new Set<OpType>([
  'org.genesis', 'member.add', 'member.set-level', 'member.remove', 'member.addresses', 'epoch.start'
])
