/**
 * Admitting a member: what `peerpacs members add` and enrollment (node/mesh/enroll.ts) both do.
 * A `member.add` with the role, level and scope; for a `site` member, in the same batch, an
 * `epoch.start` wrapping a new epoch key to every active site member, the new one included
 * (member.add alone hands it no key), whose history carries every epoch key this node holds, so
 * the new site reads what was sealed before it joined. Then the audit record: 110113 Security
 * Alert / 110137 User Security Attributes Changed, plus 110129 Security Configuration when an
 * epoch started.
 */
import { EVENT_TYPE, type Actor } from '../../protocol/audit/index.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { generateNodeKey, nodeIdFromPublicKey, type NodeId } from '../../protocol/identity.ts'
import { createEpoch, type Level, type OrgState, type Role, type Scope, type SignedOp } from '../../protocol/log/index.ts'
import type { Archive } from '../archive/archive.ts'
import { thisNode } from '../audit/actors.ts'
import { auditMemberChange, MemberChangeRefusedError, siteKeys, tryOnScratch, writeSteps, type Step } from './change.ts'

export interface Admission {
  /** The new member's Ed25519 public key. */
  readonly member: Uint8Array
  readonly role: Role
  readonly level: Level
  readonly scope: Scope
  /** Why, for the audit record (e.g. "members add", "enrolled with invite …"). */
  readonly reason: string
  /** Who asked for it (the audit record's reporter); this node when not given. */
  readonly reporter?: Actor
}

export interface Admitted {
  readonly ops: SignedOp[]
  /** The epoch started for a site member (its op id). */
  readonly epochId?: string
}

/** The member was added, but its audit record could not be written. */
export class AdmissionAuditError extends PeerpacsError {
  static readonly code = 'AUDIT_WRITE'
  readonly admitted: Admitted
  constructor (admitted: Admitted, cause: unknown) {
    super(AdmissionAuditError.code, `the member was added (op ${admitted.ops[0]!.idHex}), but its audit record could not be written: ${(cause as Error).message}`,
      { cause, hint: 'see the node\'s log; the change itself stands' })
    this.admitted = admitted
  }
}

function where (scope: Scope): string {
  return scope === 'org' ? 'the org' : `study ${scope}`
}

function refuseKnown (archive: Archive, state: OrgState, id: NodeId, scope: Scope): void {
  if (id === archive.keyring.nodeId) throw new MemberChangeRefusedError(`${id} is this node`, 'it is a member already')
  const existing = state.members.get(id)
  if (existing?.removed === true) throw new MemberChangeRefusedError(`${id} was removed from the org; a removed key is never a member again`, 'the node needs a new identity (a new data dir)')
  if (existing?.levels.has(scope) === true) throw new MemberChangeRefusedError(`${id} already has level ${existing.levels.get(scope)!} in ${where(scope)}`, 'change it with `peerpacs members set-level`')
}

function stepsFor (archive: Archive, state: OrgState, a: Omit<Admission, 'reason' | 'reporter'>): Step[] {
  const steps: Step[] = [{ type: 'member.add', body: { member: a.member, role: a.role, level: a.level, scope: a.scope } }]
  if (a.role === 'site') {
    const previous = archive.keyring.epochKeys()
    const { body } = createEpoch(archive.provider, archive.random, {
      org: state.orgId, members: [...siteKeys(state), { member: a.member }], recoveryPublicKey: state.recovery, ...(previous.length === 0 ? {} : { previous })
    })
    steps.push({ type: 'epoch.start', body })
  }
  return steps
}

/** Adds the member (see the header). Throws MemberChangeRefusedError, writing nothing, when the rules refuse it. */
export async function admitMember (archive: Archive, admission: Admission): Promise<Admitted> {
  const log = await archive.log()
  const state = log.oplog.state
  const id = nodeIdFromPublicKey(admission.member)
  refuseKnown(archive, state, id, admission.scope)
  const steps = stepsFor(archive, state, admission)
  const what = `adding ${id} as ${admission.role} at level ${admission.level} in ${where(admission.scope)}`
  const ops = await writeSteps(archive, log, steps, what)
  const admitted: Admitted = admission.role === 'site' ? { ops, epochId: ops[1]!.idHex } : { ops }
  try {
    await auditMemberChange(archive, admission.reporter ?? thisNode(archive.keyring.nodeId), id,
      `member.add role=${admission.role} level=${admission.level} scope=${admission.scope} op=${ops[0]!.idHex}${admitted.epochId === undefined ? '' : ` epoch=${admitted.epochId}`} reason=${admission.reason}`,
      admitted.epochId === undefined ? [EVENT_TYPE.userSecurityAttributesChanged] : [EVENT_TYPE.userSecurityAttributesChanged, EVENT_TYPE.securityConfiguration])
  } catch (error) {
    throw new AdmissionAuditError(admitted, error)
  }
  return admitted
}

/**
 * Whether this node could admit a member with this grant now (e.g. before issuing an invite):
 * tried on a scratch copy with a throwaway key. Throws MemberChangeRefusedError when not.
 */
export async function checkAdmission (archive: Archive, grant: { role: Role, level: Level, scope: Scope }): Promise<void> {
  const log = await archive.log()
  const state = log.oplog.state
  const probe = generateNodeKey(archive.random).publicKey
  tryOnScratch(archive, log, stepsFor(archive, state, { member: probe, ...grant }), `granting ${grant.role} at level ${grant.level} in ${where(grant.scope)}`)
}
