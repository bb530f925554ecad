/**
 * Writing a membership change as this node's signed ops (docs/protocol.md "Members and
 * permissions"). Before anything is signed for real, the change is tried on a scratch copy of
 * the op set, so a change the log's rules refuse (a grant above this node's level, a removed
 * key, ...) is reported with its reason and nothing is written, not even in memory. Used by
 * `peerpacs members` and by enrollment (node/mesh/enroll.ts, through admit.ts).
 */
import { nodeSource, securityAlertEvent, type Actor, type EventTypeCode } from '../../protocol/audit/index.ts'
import { InvalidArgumentError, PeerpacsError } from '../../protocol/errors.ts'
import type { NodeId } from '../../protocol/identity.ts'
import { createOp, isActiveMember, OpLog, type OpBodies, type OpType, type OrgState, type RejectReason, type SignedOp } from '../../protocol/log/index.ts'
import type { Archive } from '../archive/archive.ts'
import { thisNode } from '../audit/actors.ts'
import type { NodeLog, PreparedOp } from '../log/node-log.ts'

/** The log's rules refuse the change (or it cannot be expressed); nothing was written. */
export class MemberChangeRefusedError extends PeerpacsError {
  static readonly code = 'MEMBER_CHANGE_REFUSED'
  constructor (message: string, hint = 'nothing was written') { super(MemberChangeRefusedError.code, message, { hint }) }
}

/** What each verdict of the log's rules means for a membership change this node tried. */
const REFUSALS: Partial<Record<RejectReason, string>> = {
  'insufficient-level': 'this node\'s level is too low for it: a grant never exceeds its issuer\'s level, grants at org scope and level changes need admin, and a removal needs a level at least the target\'s',
  'not-member': 'this node holds no grant in that scope',
  'after-removal': 'this node has been removed from the org',
  'bad-target': 'the target cannot take this change (it is this node, was removed from the org or that scope, already has a grant there — use `members set-level` —, has another role, or has no grant to change)',
  'bad-epoch': 'the new epoch key is not wrapped as the rules require, or this node is not a site member that may start one',
  'removal-conflict': 'it conflicts with a concurrent removal'
}

export interface Step { readonly type: OpType, readonly body: OpBodies[OpType] }

/** The active site members' keys (the recipients of a new epoch key), optionally but one. */
export function siteKeys (state: OrgState, except?: NodeId): Array<{ member: Uint8Array }> {
  return [...state.members.values()]
    .filter((m) => m.role === 'site' && isActiveMember(state, m.id) && m.id !== except)
    .map((m) => ({ member: m.publicKey }))
}

/**
 * Tries `steps` as this node's next ops on a scratch copy of the op set. Throws a
 * MemberChangeRefusedError with the rules' reason when one would not apply; the real log is not touched.
 */
export function tryOnScratch (archive: Archive, log: NodeLog, steps: readonly Step[], what: string): void {
  const scratch = new OpLog(archive.provider, archive.keyring.org.genesisBytes, { maxPending: log.oplog.size + 16 })
  scratch.addMany(log.ops().filter((op) => op.type !== 'org.genesis'))
  const key = archive.keyring.nodeKey
  for (const step of steps) {
    let op: SignedOp
    try {
      op = createOp(archive.provider, key, {
        org: scratch.orgId, seq: scratch.nextSeq(key.publicKey), parents: scratch.heads(), type: step.type, body: step.body, time: Date.now()
      } as never) as SignedOp
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new MemberChangeRefusedError(`${what} is not possible: ${error.message.replace(/^createOp: (the op would be refused: )?/, '')}`)
      throw error
    }
    const result = scratch.add(op)
    if (result.status !== 'applied') {
      const reason = result.reason ?? result.status
      throw new MemberChangeRefusedError(`${what} was refused by the log's rules (${reason}): ${REFUSALS[reason as RejectReason] ?? 'the op would not apply'}`)
    }
  }
}

/** Signs and writes `steps` in one batch (tried on a scratch copy first). Returns the ops. */
export async function writeSteps (archive: Archive, log: NodeLog, steps: readonly Step[], what: string): Promise<SignedOp[]> {
  tryOnScratch(archive, log, steps, what)
  const prepared: Array<PreparedOp<OpType>> = []
  try {
    for (const step of steps) prepared.push(log.prepare(step.type, step.body as never) as PreparedOp<OpType>)
  } catch (error) {
    for (const p of prepared) p.failed(error)
    throw error
  }
  try {
    await archive.kv.batch(prepared.map((p) => p.write))
  } catch (error) {
    for (const p of prepared) p.failed(error)
    throw error
  }
  archive.keyring.learnEpochs(log.oplog.state)
  return prepared.map((p) => p.op as SignedOp)
}

/**
 * Audits a change of a member's grants: 110113 Security Alert with the given event types
 * (110137 User Security Attributes Changed, plus 110129 Security Configuration for a new epoch);
 * the member node is the alert's subject. `reporter` is who asked for it.
 */
export async function auditMemberChange (archive: Archive, reporter: Actor, target: NodeId, description: string, types: EventTypeCode[]): Promise<void> {
  await archive.auditor.record(securityAlertEvent({
    time: Date.now(),
    source: nodeSource(archive.keyring.nodeId),
    types,
    reporter,
    performers: [thisNode(archive.keyring.nodeId)],
    subjects: [{ kind: 'node', id: target, description }]
  }))
}
