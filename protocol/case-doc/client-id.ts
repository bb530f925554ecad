/**
 * The Yjs client id a member writes with in one study, derived rather than announced:
 *   clientId = first 4 bytes (big-endian) of SHA-256(canonical(['peerpacs/case-client/v1', study, member]))
 * Every replica computes the same id from the signer of a `case.update` op, so it can check that
 * the update carries only that member's structs without any extra op binding ids to members.
 *
 * Collisions. Ids are 32 bits (Yjs draws its own at random from the same range), so two writers
 * of one study share an id with probability about n²/2³³ (n = 100 writers: ~1e-6). The study id
 * is in the hash, so a collision is confined to one study. Deliberately, someone who can have a
 * key admitted as a member could grind ~2³² keys to collide with a chosen member in a chosen,
 * existing study, and then write structs under that member's id (the op is still signed by, and
 * attributed to, the real author). `caseClientCollisions` finds such pairs among a study's
 * writers, so whoever holds the member list can refuse or flag them.
 */
import { equalBytes, expectBytes, readUintBE } from '../bytes.ts'
import { encodeCanonical } from '../canonical.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import { InvalidArgumentError } from '../errors.ts'
import { isStudyId, type StudyId } from '../study-id.ts'

export const CASE_CLIENT_DOMAIN = 'peerpacs/case-client/v1'

function expectStudy (study: unknown, name: string): StudyId {
  if (!isStudyId(study)) throw new InvalidArgumentError(`${name}: expected a study id (32 lowercase hex digits), got ${typeof study === 'string' ? `string of length ${study.length}` : typeof study}`)
  return study
}

/** The Yjs clientID of `member` (an Ed25519 public key) in `study`: an integer in [0, 2³²). */
export function caseClientId (provider: CryptoProvider, member: Uint8Array, study: StudyId): number {
  expectProvider(provider, 'caseClientId(provider)')
  expectBytes(member, 'caseClientId(member)', 32)
  expectStudy(study, 'caseClientId(study)')
  return readUintBE(provider.sha256(encodeCanonical([CASE_CLIENT_DOMAIN, study, member])), 0, 4)
}

/** Pairs of distinct members whose client ids in `study` are equal (normally none). */
export function caseClientCollisions (provider: CryptoProvider, members: readonly Uint8Array[], study: StudyId): Array<[Uint8Array, Uint8Array]> {
  const byId = new Map<number, Uint8Array[]>()
  for (const [i, member] of members.entries()) {
    expectBytes(member, `caseClientCollisions(members[${i}])`, 32)
    const id = caseClientId(provider, member, study)
    const same = byId.get(id) ?? []
    if (!same.some(other => equalBytes(other, member))) same.push(member)
    byId.set(id, same)
  }
  const out: Array<[Uint8Array, Uint8Array]> = []
  for (const same of byId.values()) {
    for (let i = 0; i < same.length; i++) for (let j = i + 1; j < same.length; j++) out.push([same[i]!, same[j]!])
  }
  return out
}

export { expectStudy }
