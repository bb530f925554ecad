/**
 * The org's state: a pure function of the op set (docs/protocol.md), built by replaying the applied
 * ops in the deterministic topological order. Lists whose order replay would not fix (audit ops,
 * case updates, instances) are kept in a canonical order (seq, id), so the state is the same
 * however the ops arrived. `levelOf` answers "what may this member do here".
 */
import type { BlobInfo } from './body-content.ts'
import type { EpochBody } from './epoch.ts'
import type { RejectReason } from './errors.ts'
import { maxLevel, type Level, type Role, type Scope } from './levels.ts'
import type { OpIdHex } from './op.ts'
import type { NodeId } from '../identity.ts'
import type { OrgId } from '../genesis.ts'
import type { StudyId } from '../study-id.ts'
import type { StudyInstances } from './study-instances.ts'

export interface MemberState {
  readonly id: NodeId
  readonly publicKey: Uint8Array
  readonly role: Role
  /** Current grants by scope (none once removed at org scope). */
  readonly levels: Map<Scope, Level>
  /** Removed at org scope: permanent, the key is never a member again. */
  removed: boolean
  /** Scopes the member was removed from ('org' included when `removed`). */
  readonly removedScopes: Set<Scope>
  addresses: readonly string[]
  /** The op that first added it (the genesis op for the founder). */
  readonly addedBy: OpIdHex
}

export interface EpochState {
  /** The id of the op that started it (genesis, epoch.start, or a member.remove carrying one). */
  readonly id: OpIdHex
  /** 0 for the genesis epoch, then in replay order. */
  readonly index: number
  readonly author: NodeId
  readonly body: EpochBody
}

export interface InstanceState {
  /** Its key in StudyState.instances (instanceKey). */
  readonly key: string
  readonly op: OpIdHex
  /** Its place in its op's list: -1 for a one-instance study.instance op. */
  readonly index: number
  readonly author: NodeId
  readonly blob: BlobInfo
  /**
   * The op's sealed attributes: of this instance alone (index -1), or of the op's whole list
   * (study.instances: this instance's are at `index`; every instance of the op shares the bytes).
   */
  readonly sealed: Uint8Array
  /** Every blob of its op, in order (the op body's own list, shared): what the sealed list's AAD names. */
  readonly opBlobs: readonly BlobInfo[]
}

/** An instance's key in its study: the op id, and for a study.instances op its place in the list. */
export function instanceKey (op: OpIdHex, index: number): string {
  return index < 0 ? op : `${op}/${index}`
}

export interface StudyState {
  readonly id: StudyId
  readonly registerOp: OpIdHex
  readonly registeredBy: NodeId
  readonly epoch: OpIdHex
  readonly wrappedKey: Uint8Array
  readonly sealed: Uint8Array
  /** By instanceKey (held per op: study-instances.ts). */
  readonly instances: StudyInstances
}

/**
 * A person's account (docs/protocol.md "Users"). The log keeps only op ids: the record itself is
 * sealed, and a node with the epoch key opens `record` (node/people/directory.ts).
 */
export interface UserState {
  /** 32 lowercase hex: the account id (the body's `user`). */
  readonly id: string
  readonly addOp: OpIdHex
  /** The applied user.add or user.update that holds the current record: the greatest by (causal depth, op id). */
  record: { readonly op: OpIdHex, readonly depth: number }
  /**
   * Applied user.disable ops that no applied user.enable descends from: the account is disabled
   * while this is non-empty, so a disable wins over a concurrent enable (sorted by op id).
   */
  readonly disables: OpIdHex[]
}

export interface ForkState {
  /** The lowest seq at which the author signed two different ops; from it on, nothing of it applies. */
  readonly seq: number
  /** Ids of the ops at that seq (sorted). */
  readonly evidence: OpIdHex[]
}

export interface OrgState {
  readonly orgId: OrgId
  readonly genesis: OpIdHex
  readonly name: string
  /** The recovery key's public half (Ed25519). */
  readonly recovery: Uint8Array
  readonly members: Map<NodeId, MemberState>
  /** Epochs in replay order; the last is the current one. */
  readonly epochs: EpochState[]
  readonly studies: Map<StudyId, StudyState>
  /** Applied audit.event op ids per author, by seq. */
  readonly audit: Map<NodeId, OpIdHex[]>
  /** Applied case.update op ids per study, by id. */
  readonly caseUpdates: Map<StudyId, OpIdHex[]>
  /** People's accounts by id (32 hex). */
  readonly users: Map<string, UserState>
  readonly forks: Map<NodeId, ForkState>
  /** Ops in the set that do not apply, with why. */
  readonly rejected: Map<OpIdHex, RejectReason>
}

export function currentEpoch (state: OrgState): EpochState {
  return state.epochs[state.epochs.length - 1]!
}

/** The member's level in `scope` (an org-scope level holds in every study); null when it has none or was removed. */
export function levelOf (state: Pick<OrgState, 'members'>, member: NodeId, scope: Scope): Level | null {
  const m = state.members.get(member)
  if (m === undefined || m.removed) return null
  const org = m.levels.get('org') ?? null
  return scope === 'org' ? org : maxLevel(org, m.levels.get(scope) ?? null)
}

/** True when the member is in the org (not removed) with any grant. */
export function isActiveMember (state: Pick<OrgState, 'members'>, member: NodeId): boolean {
  const m = state.members.get(member)
  return m !== undefined && !m.removed && m.levels.size > 0
}

/** Inserts `value` into a list kept sorted by `key`, unless present. */
export function insertSorted<T> (list: T[], value: T, compare: (a: T, b: T) => number): void {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (compare(list[mid]!, value) < 0) lo = mid + 1
    else hi = mid
  }
  if (lo < list.length && compare(list[lo]!, value) === 0) return
  list.splice(lo, 0, value)
}
