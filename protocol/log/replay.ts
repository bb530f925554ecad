/**
 * Full replay: the org's state and every op's verdict from the set alone (docs/protocol.md "State").
 * Membership ops are settled first (authority.ts); content ops are then judged in topological
 * order against that settlement (a study is registered by the first valid study.register in
 * that order; later ones for the same study are 'duplicate-study'). `applyContent` is the
 * same step for one op, which is all the incremental path needs.
 */
import type { CryptoProvider } from '../crypto-provider.ts'
import type { OrgId } from '../genesis.ts'
import type { StudyId } from '../study-id.ts'
import { MEMBERSHIP_TYPES } from './bodies.ts'
import { judgeContent, resolveAuthority, structuralReason, type Authority } from './authority.ts'
import type { DagEntry, OpDag } from './dag.ts'
import type { RejectReason } from './errors.ts'
import type { OpIdHex, SignedOp } from './op.ts'
import type { EpochBody } from './epoch.ts'
import { insertSorted, type OrgState } from './state.ts'
import { StudyInstances } from './study-instances.ts'

export interface Evaluation {
  readonly authority: Authority
  /** Study id → the study.register op that registered it. */
  readonly studyOps: Map<StudyId, DagEntry>
  /** Account id (32 hex) → the user.add op that created it. */
  readonly userOps: Map<string, DagEntry>
  /** Entry index → why it does not apply (absent: applied). */
  readonly reasons: Map<number, RejectReason>
  readonly state: OrgState
}

const bySeq = (dag: OpDag) => (a: OpIdHex, b: OpIdHex): number => dag.get(a)!.op.seq - dag.get(b)!.op.seq
const byId = (a: OpIdHex, b: OpIdHex): number => a < b ? -1 : a > b ? 1 : 0

export function evaluate (_provider: CryptoProvider, dag: OpDag, orgId: OrgId): Evaluation {
  const order = dag.order()
  const authority = resolveAuthority(dag, order)
  const genesis = dag.entries[0]!.op
  if (genesis.type !== 'org.genesis') throw new Error('the first op of an OpLog is its genesis')
  const state: OrgState = {
    orgId,
    genesis: genesis.idHex,
    name: genesis.body.name,
    recovery: genesis.body.recovery,
    members: authority.members,
    epochs: authority.applied.filter((e) => authority.epochOps.has(e.op.idHex)).map((e, index) => ({
      id: e.op.idHex,
      index,
      author: e.op.authorId,
      body: epochBodyOf(e.op)!
    })),
    studies: new Map(),
    audit: new Map(),
    caseUpdates: new Map(),
    users: new Map(),
    forks: new Map(),
    rejected: new Map()
  }
  const reasons = new Map<number, RejectReason>()
  for (const [index, reason] of authority.reasons) {
    reasons.set(index, reason)
    state.rejected.set(dag.entries[index]!.op.idHex as OpIdHex, reason)
  }
  const evaluation: Evaluation = { authority, studyOps: new Map(), userOps: new Map(), reasons, state }
  for (const i of order) {
    const entry = dag.entries[i]!
    if (!MEMBERSHIP_TYPES.has(entry.op.type)) applyContent(dag, evaluation, entry)
  }
  for (let a = 0; a < dag.authorKeys.length; a++) {
    const seq = dag.forkSeq(a)
    if (seq === Infinity) continue
    const ops = dag.opsAt(a, seq).map((i) => dag.entries[i]!.op)
    state.forks.set(ops[0]!.authorId, { seq, evidence: ops.map((o) => o.idHex).sort(byId) })
  }
  return evaluation
}

/** Judges one content op and applies it to the state. Returns its reason, if rejected. */
export function applyContent (dag: OpDag, evaluation: Evaluation, entry: DagEntry): RejectReason | undefined {
  const { state, studyOps, userOps } = evaluation
  const reason = judgeContent(dag, evaluation.authority, entry, { study: (s) => studyOps.get(s), user: (u) => userOps.get(u) })
  const op = entry.op
  if (reason !== undefined) {
    evaluation.reasons.set(entry.index, reason)
    state.rejected.set(op.idHex, reason)
    return reason
  }
  switch (op.type) {
    case 'study.register':
      studyOps.set(op.body.study, entry)
      state.studies.set(op.body.study, {
        id: op.body.study, registerOp: op.idHex, registeredBy: op.authorId, epoch: hexOf(op.body.epoch),
        wrappedKey: op.body.wrappedKey, sealed: op.body.sealed, instances: new StudyInstances()
      })
      break
    case 'study.instance':
      state.studies.get(op.body.study)!.instances.addOp(op.idHex, op.authorId, [op.body.blob], op.body.sealed, true)
      break
    case 'study.instances':
      state.studies.get(op.body.study)!.instances.addOp(op.idHex, op.authorId, op.body.blobs, op.body.sealed, false)
      break
    case 'audit.event': {
      let list = state.audit.get(op.authorId)
      if (list === undefined) state.audit.set(op.authorId, list = [])
      insertSorted(list, op.idHex, bySeq(dag))
      break
    }
    case 'case.update': {
      let list = state.caseUpdates.get(op.body.study)
      if (list === undefined) state.caseUpdates.set(op.body.study, list = [])
      insertSorted(list, op.idHex, byId)
      break
    }
    case 'user.add': {
      const id = hexOf(op.body.user)
      userOps.set(id, entry)
      state.users.set(id, { id, addOp: op.idHex, record: { op: op.idHex, depth: entry.depth }, disables: [] })
      break
    }
    case 'user.update': {
      // Last writer by (causal depth, op id): a total order that agrees with causality, so every
      // replica picks the same record whatever order the ops arrived in.
      const user = state.users.get(hexOf(op.body.user))!
      const { record } = user
      if (entry.depth > record.depth || (entry.depth === record.depth && op.idHex > record.op)) user.record = { op: op.idHex, depth: entry.depth }
      break
    }
    case 'user.disable':
      insertSorted(state.users.get(hexOf(op.body.user))!.disables, op.idHex, byId)
      break
    case 'user.enable': {
      // An enable lifts only the disables it has seen: a concurrent disable still holds.
      const { disables } = state.users.get(hexOf(op.body.user))!
      for (let i = disables.length - 1; i >= 0; i--) if (dag.isAncestor(dag.get(disables[i]!)!, entry)) disables.splice(i, 1)
      break
    }
    default:
  }
  return undefined
}

export { structuralReason }

/** The epoch an op starts, if it starts one. */
export function epochBodyOf (op: SignedOp): EpochBody | undefined {
  switch (op.type) {
    case 'org.genesis': return op.body.epoch
    case 'epoch.start': return op.body
    case 'member.remove': return op.body.epoch
    default: return undefined
  }
}

function hexOf (bytes: Uint8Array): OpIdHex {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s as OpIdHex
}
