/**
 * Why an op is refused. One error class with a stable code and a reason from a closed list, so
 * every replica, the node's logs and the wire speak of the same verdicts. Reasons from decoding
 * (validation step 1) are thrown as OpRejectedError; reasons from the set (steps 2 and 3) are
 * verdicts kept next to the op (OpLog, OrgState.rejected).
 */
import { PeerpacsError, type ErrorOptions } from '../errors.ts'

export type RejectReason =
  // step 1: the op alone
  | 'too-large'
  | 'malformed'
  | 'signature'
  | 'not-canonical'
  | 'unknown-type'
  | 'bad-body'
  // step 2: the op in the set
  | 'wrong-org'
  | 'bad-seq'
  | 'fork'
  | 'pending-full'
  // step 3: authority at the op's causal position
  | 'not-member'
  | 'insufficient-level'
  | 'after-removal'
  | 'removal-conflict'
  | 'bad-target'
  | 'bad-epoch'
  | 'unknown-study'
  | 'duplicate-study'
  | 'unknown-user'
  | 'duplicate-user'

export const REJECT_REASONS: readonly RejectReason[] = [
  'too-large', 'malformed', 'signature', 'not-canonical', 'unknown-type', 'bad-body',
  'wrong-org', 'bad-seq', 'fork', 'pending-full',
  'not-member', 'insufficient-level', 'after-removal', 'removal-conflict', 'bad-target', 'bad-epoch', 'unknown-study', 'duplicate-study',
  'unknown-user', 'duplicate-user'
]

export class OpRejectedError extends PeerpacsError {
  static readonly code = 'OP_REJECTED'
  readonly reason: RejectReason

  constructor (reason: RejectReason, message: string, options?: ErrorOptions) {
    super(OpRejectedError.code, `op rejected (${reason}): ${message}`, options)
    this.reason = reason
  }
}
