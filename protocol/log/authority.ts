/**
 * Who may do what, judged at each op's causal position (docs/protocol.md "Validation" step 3 and
 * "Members and permissions"). Deterministic, from the set alone:
 *
 * 1. An op's rights come from the *applied* membership ops among its ancestors, replayed in
 *    topological order (tables are cached by that ancestor set: they change only at membership ops).
 * 2. An org-scope removal R of M that is *effective* rejects every op of M that is not an
 *    ancestor of R (after it, or concurrent with it). A study-scope one takes away M's grant in
 *    that study for those ops (an org-scope level still holds).
 * 3. Which removals are effective: removal R *attacks* removal S when R removes S's author (at
 *    org scope, or in S's study) and S is not an ancestor of R. Strongly connected groups of the
 *    attack graph are settled attackers-first; inside a group, removals are taken by priority
 *    (issuer's level in scope, higher first; then causal depth, shallower first; then op id,
 *    smaller first) and one is kept iff it neither is attacked by nor attacks one kept before.
 *    A valid removal that is not kept is rejected as 'removal-conflict'.
 * 4. Steps 1–3 depend on each other (a removal can void the grant that made another removal
 *    valid), so they are iterated over the membership ops only: judge them with the current
 *    effective set E (∅ at first), keep as candidates the removals that were valid in every
 *    round so far, recompute E from the candidates, until E no longer changes. The candidate set
 *    only shrinks, so this ends within (number of removals + 1) rounds.
 *
 * People's accounts (user.*) are written by full site members of level write or more, which
 * hold the epoch keys the records are sealed with: the person-level rule (only an admin user may
 * change accounts) is kept by the node the admin signed in at, which names that person inside
 * the sealed record (docs/access-control.md).
 *
 * The org's recovery key (named in the genesis) is not a member but holds the org's last-resort
 * authority, which restoring from a backup needs: it may add a site member at org scope, start
 * an epoch, remove a member (as an admin would) and administer people's accounts, and nothing else. It cannot be removed:
 * whoever holds it can open every epoch anyway.
 */
import { nodeIdFromPublicKey, type NodeId } from '../identity.ts'
import type { StudyId } from '../study-id.ts'
import { MEMBERSHIP_TYPES } from './bodies.ts'
import type { DagEntry, OpDag } from './dag.ts'
import type { EpochBody } from './epoch.ts'
import type { RejectReason } from './errors.ts'
import { compareBytes } from './fields.ts'
import { maxLevel, rank, type Level, type Scope } from './levels.ts'
import { applyMembership, cloneMembers, type Members } from './membership.ts'

/** The membership verdicts of one full evaluation, reused to judge later non-membership ops. */
export interface Authority {
  /** Applied membership ops, in topological order. */
  readonly applied: readonly DagEntry[]
  /** Effective removals by the removed member's id. */
  readonly removals: ReadonlyMap<NodeId, readonly DagEntry[]>
  /** Applied ops that started an epoch, by op id hex. */
  readonly epochOps: ReadonlyMap<string, DagEntry>
  /** Verdicts of the membership ops (absent = applied). */
  readonly reasons: ReadonlyMap<number, RejectReason>
  readonly members: Members
  readonly tables: Map<string, Members>
}

function scopeOf (entry: DagEntry): Scope | undefined {
  const op = entry.op
  switch (op.type) {
    case 'member.add': case 'member.set-level': case 'member.remove': return op.body.scope
    case 'study.instance': case 'study.instances': case 'case.update': return op.body.study
    default: return 'org'
  }
}

/** Structural verdict (step 2): off the author's chain, or at/after a fork of its author. */
export function structuralReason (dag: OpDag, entry: DagEntry): RejectReason | undefined {
  if (!entry.chained) return 'bad-seq'
  if (entry.op.seq >= dag.forkSeq(entry.author)) return 'fork'
  return undefined
}

interface Context {
  readonly dag: OpDag
  readonly applied: readonly DagEntry[]
  readonly removals: ReadonlyMap<NodeId, readonly DagEntry[]>
  readonly epochOps: ReadonlyMap<string, DagEntry>
  readonly tables: Map<string, Members>
}

/** The member table at `entry`'s causal position. */
function tableAt (ctx: Context, entry: DagEntry): Members {
  const ancestors: DagEntry[] = []
  let key = ''
  for (const a of ctx.applied) {
    if (ctx.dag.isAncestor(a, entry)) { ancestors.push(a); key += a.index + ',' }
  }
  let table = ctx.tables.get(key)
  if (table === undefined) {
    table = new Map()
    for (const a of ancestors) applyMembership(table, a)
    ctx.tables.set(key, table)
  }
  return table
}

/** An effective removal of `author` at `scope` that `entry` is not an ancestor of. */
function removedBy (ctx: Context, author: NodeId, scope: Scope, entry: DagEntry): boolean {
  const list = ctx.removals.get(author)
  if (list === undefined) return false
  for (const r of list) {
    if (r.op.type !== 'member.remove' || r.op.body.scope !== scope) continue
    if (r !== entry && !ctx.dag.isAncestor(entry, r)) return true
  }
  return false
}

function levelAt (ctx: Context, table: Members, who: NodeId, scope: Scope, entry: DagEntry): Level | null {
  const m = table.get(who)
  if (m === undefined || m.removed) return null
  const org = m.levels.get('org') ?? null
  if (scope === 'org') return org
  const study = m.removedScopes.has(scope) || removedBy(ctx, who, scope, entry) ? null : m.levels.get(scope) ?? null
  return maxLevel(org, study)
}

function highestLevel (m: { levels: Map<Scope, Level> }): Level | null {
  let best: Level | null = null
  for (const l of m.levels.values()) best = maxLevel(best, l)
  return best
}

function epochWrapsOk (table: Members, body: EpochBody, excluded?: NodeId): boolean {
  for (const w of body.wraps) {
    const id = nodeIdFromPublicKey(w.member)
    if (id === excluded) return false
    const m = table.get(id)
    if (m === undefined || m.removed || m.role !== 'site') return false
  }
  return true
}

/** What content ops refer to: the op that registered a study, the user.add that created an account. */
export interface Referents {
  study (s: StudyId): DagEntry | undefined
  /** By the account id in 32 hex. */
  user (u: string): DagEntry | undefined
}

/** A user.* op: its epoch is applied and seen; an add names a new account, the others one it has seen created. */
function judgeUser (ctx: Context, entry: DagEntry, refs: Referents): RejectReason | undefined {
  const op = entry.op
  if (op.type !== 'user.add' && op.type !== 'user.update' && op.type !== 'user.disable' && op.type !== 'user.enable') return 'bad-body'
  const epoch = ctx.epochOps.get(hex(op.body.epoch))
  if (epoch === undefined || !ctx.dag.isAncestor(epoch, entry)) return 'bad-epoch'
  const added = refs.user(hex(op.body.user))
  if (op.type === 'user.add') return added !== undefined && added !== entry ? 'duplicate-user' : undefined
  return added === undefined || !ctx.dag.isAncestor(added, entry) ? 'unknown-user' : undefined
}

/**
 * Step 3 for one op. `refs` names the study.register op that registered a study, the user.add
 * that created an account. Returns the reason it does not apply, or undefined; `level` receives
 * the issuer's level in scope.
 */
function recoveryId (ctx: Context): NodeId | undefined {
  const genesis = ctx.dag.entries[0]?.op
  return genesis?.type === 'org.genesis' ? nodeIdFromPublicKey(genesis.body.recovery) : undefined
}

/** The recovery key's ops (see the header): site admission, epochs and removals only. */
function judgeRecovery (ctx: Context, entry: DagEntry, table: Members, refs: Referents, out?: { level: number }): RejectReason | undefined {
  const op = entry.op
  const ADMIN = 3
  if (out !== undefined) out.level = ADMIN
  switch (op.type) {
    case 'member.add': {
      if (op.body.scope !== 'org' || op.body.role !== 'site') return 'insufficient-level'
      const target = table.get(nodeIdFromPublicKey(op.body.member))
      if (target !== undefined) return 'bad-target'
      return undefined
    }
    case 'epoch.start':
      return epochWrapsOk(table, op.body) ? undefined : 'bad-epoch'
    case 'member.remove': {
      const id = nodeIdFromPublicKey(op.body.member)
      const target = table.get(id)
      if (target === undefined || target.removed || target.removedScopes.has(op.body.scope)) return 'bad-target'
      if (op.body.scope === 'org' && target.role === 'site' && op.body.epoch === undefined) return 'bad-epoch'
      if (op.body.epoch !== undefined && !epochWrapsOk(table, op.body.epoch, id)) return 'bad-epoch'
      return undefined
    }
    case 'user.add': case 'user.update': case 'user.disable': case 'user.enable':
      return judgeUser(ctx, entry, refs)
    default:
      return 'not-member'
  }
}

function judge (ctx: Context, entry: DagEntry, refs: Referents, out?: { level: number }): RejectReason | undefined {
  const op = entry.op
  if (op.type === 'org.genesis') return entry.index === 0 ? undefined : 'wrong-org'
  const table = tableAt(ctx, entry)
  if (op.authorId === recoveryId(ctx)) return judgeRecovery(ctx, entry, table, refs, out)
  const me = table.get(op.authorId)
  if (me?.removed === true || removedBy(ctx, op.authorId, 'org', entry)) return 'after-removal'
  if (me === undefined || me.levels.size === 0) return 'not-member'
  const scope = scopeOf(entry)!
  const mine = rank(levelAt(ctx, table, op.authorId, scope, entry))
  if (out !== undefined) out.level = mine
  const ADMIN = 3
  switch (op.type) {
    case 'member.add': {
      if (mine < 1 || mine < rank(op.body.level) || (scope === 'org' && mine < ADMIN)) return 'insufficient-level'
      const id = nodeIdFromPublicKey(op.body.member)
      if (id === op.authorId) return 'bad-target'
      const target = table.get(id)
      if (target !== undefined && (target.removed || target.removedScopes.has(scope) || target.levels.has(scope) || target.role !== op.body.role)) return 'bad-target'
      return undefined
    }
    case 'member.set-level': {
      if (mine < ADMIN) return 'insufficient-level'
      const target = table.get(nodeIdFromPublicKey(op.body.member))
      const old = target?.levels.get(scope)
      if (target === undefined || target.removed || old === undefined) return 'bad-target'
      if (target.role === 'backup' && op.body.level !== 'relay') return 'bad-target'
      if (rank(old) > mine || rank(op.body.level) > mine) return 'insufficient-level'
      return undefined
    }
    case 'member.remove': {
      if (mine < ADMIN) return 'insufficient-level'
      const id = nodeIdFromPublicKey(op.body.member)
      const target = table.get(id)
      if (target === undefined || target.removed || target.removedScopes.has(scope)) return 'bad-target'
      const theirs = scope === 'org' ? highestLevel(target) : target.levels.get(scope) ?? null
      if (theirs === null) return 'bad-target'
      if (rank(theirs) > mine) return 'insufficient-level'
      if (scope === 'org' && target.role === 'site' && op.body.epoch === undefined) return 'bad-epoch'
      if (op.body.epoch !== undefined && (!epochWrapsOk(table, op.body.epoch, id) || me.role !== 'site')) return 'bad-epoch'
      return undefined
    }
    case 'member.addresses':
      return undefined
    case 'epoch.start':
      if (mine < ADMIN || me.role !== 'site') return 'insufficient-level'
      return epochWrapsOk(table, op.body) ? undefined : 'bad-epoch'
    case 'study.register': {
      if (mine < 2) return 'insufficient-level'
      const epoch = ctx.epochOps.get(hex(op.body.epoch))
      if (epoch === undefined || !ctx.dag.isAncestor(epoch, entry)) return 'bad-epoch'
      const first = refs.study(op.body.study)
      if (first !== undefined && first !== entry) return 'duplicate-study'
      return undefined
    }
    case 'study.instance':
    case 'study.instances':
    case 'case.update': {
      const reg = refs.study(op.body.study)
      if (reg === undefined || !ctx.dag.isAncestor(reg, entry)) return 'unknown-study'
      return mine < 2 ? 'insufficient-level' : undefined
    }
    case 'audit.event': {
      if (me.role !== 'site') return 'insufficient-level'
      const epoch = ctx.epochOps.get(hex(op.body.epoch))
      if (epoch === undefined || !ctx.dag.isAncestor(epoch, entry)) return 'bad-epoch'
      return undefined
    }
    case 'user.add': case 'user.update': case 'user.disable': case 'user.enable':
      if (me.role !== 'site' || mine < 2) return 'insufficient-level'
      return judgeUser(ctx, entry, refs)
  }
}

function hex (bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

const noReferents: Referents = { study: () => undefined, user: () => undefined }

function startsEpoch (entry: DagEntry): boolean {
  const op = entry.op
  return op.type === 'org.genesis' || op.type === 'epoch.start' || (op.type === 'member.remove' && op.body.epoch !== undefined)
}

/**
 * One round: membership ops judged in topological order against the effective removals `removals`.
 * A removal that is valid but not in `effective` has no effect ('removal-conflict'), except in
 * the first round (`effective` undefined), where every valid removal applies.
 */
function round (dag: OpDag, order: readonly DagEntry[], effective: ReadonlySet<DagEntry> | undefined, removals: Map<NodeId, DagEntry[]>): { ctx: Context, reasons: Map<number, RejectReason>, levels: Map<number, number>, valid: DagEntry[] } {
  const applied: DagEntry[] = []
  const epochOps = new Map<string, DagEntry>()
  const ctx: Context = { dag, applied, removals, epochOps, tables: new Map() }
  const reasons = new Map<number, RejectReason>()
  const levels = new Map<number, number>()
  const valid: DagEntry[] = []
  for (const entry of order) {
    const out = { level: -1 }
    const reason = structuralReason(dag, entry) ?? judge(ctx, entry, noReferents, out)
    if (reason !== undefined) { reasons.set(entry.index, reason); continue }
    if (entry.op.type === 'member.remove') {
      valid.push(entry)
      levels.set(entry.index, out.level)
      if (effective !== undefined && !effective.has(entry)) { reasons.set(entry.index, 'removal-conflict'); continue }
    }
    applied.push(entry)
    if (startsEpoch(entry)) epochOps.set(entry.op.idHex, entry)
  }
  return { ctx, reasons, levels, valid }
}

function target (entry: DagEntry): NodeId {
  return entry.op.type === 'member.remove' ? nodeIdFromPublicKey(entry.op.body.member) : '' as NodeId
}

function attacks (dag: OpDag, r: DagEntry, s: DagEntry): boolean {
  if (r === s || r.op.type !== 'member.remove' || target(r) !== s.op.authorId) return false
  const scope = r.op.body.scope
  if (scope !== 'org' && scope !== scopeOf(s)) return false
  return !dag.isAncestor(s, r)
}

/** Step 3 of the header: the effective removals among `candidates`. */
function settle (dag: OpDag, candidates: readonly DagEntry[], levels: ReadonlyMap<number, number>): DagEntry[] {
  const n = candidates.length
  const edges: number[][] = candidates.map((r) => candidates.flatMap((s, j) => attacks(dag, r, s) ? [j] : []))
  // Tarjan's strongly connected components; it emits sinks first, so reverse for attackers first.
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const onStack = new Uint8Array(n)
  const stack: number[] = []
  const groups: number[][] = []
  let counter = 0
  const visit = (v: number): void => {
    index[v] = low[v] = counter++
    stack.push(v); onStack[v] = 1
    for (const w of edges[v]!) {
      if (index[w] === -1) { visit(w); low[v] = Math.min(low[v]!, low[w]!) } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!)
    }
    if (low[v] === index[v]) {
      const group: number[] = []
      let w: number
      do { w = stack.pop()!; onStack[w] = 0; group.push(w) } while (w !== v)
      groups.push(group)
    }
  }
  for (let v = 0; v < n; v++) if (index[v] === -1) visit(v)
  groups.reverse()
  const priority = (a: number, b: number): number => {
    const ra = candidates[a]!
    const rb = candidates[b]!
    return (levels.get(rb.index)! - levels.get(ra.index)!) || (ra.depth - rb.depth) || compareBytes(ra.op.id, rb.op.id)
  }
  const kept = new Uint8Array(n)
  const attackers: number[][] = Array.from({ length: n }, () => [])
  edges.forEach((out, r) => { for (const s of out) attackers[s]!.push(r) })
  for (const group of groups) {
    group.sort(priority)
    for (const r of group) {
      if (attackers[r]!.some((a) => kept[a] === 1)) continue
      if (edges[r]!.some((s) => kept[s] === 1)) continue
      kept[r] = 1
    }
  }
  return candidates.filter((_, i) => kept[i] === 1)
}

/** Judges every membership op of the set (header steps 1–4). `order` is the full topological order. */
export function resolveAuthority (dag: OpDag, order: readonly number[]): Authority {
  const mops = order.map((i) => dag.entries[i]!).filter((e) => MEMBERSHIP_TYPES.has(e.op.type))
  let candidates: DagEntry[] | undefined
  let effective: DagEntry[] | undefined
  const limit = mops.length + 2
  for (let k = 0; ; k++) {
    const removals = new Map<NodeId, DagEntry[]>()
    for (const r of effective ?? []) {
      const t = target(r)
      const list = removals.get(t)
      if (list === undefined) removals.set(t, [r]); else list.push(r)
    }
    const { ctx, reasons, levels, valid } = round(dag, mops, effective === undefined ? undefined : new Set(effective), removals)
    const validSet = new Set(valid)
    candidates = candidates === undefined ? valid : candidates.filter((r) => validSet.has(r))
    const next = settle(dag, candidates, levels)
    const same = effective !== undefined && next.length === effective.length && next.every((r, i) => r === effective![i])
    if (same || k > limit) {
      const members: Members = new Map()
      for (const e of ctx.applied) applyMembership(members, e)
      return { applied: ctx.applied, removals, epochOps: ctx.epochOps, reasons, members, tables: new Map() }
    }
    effective = next
  }
}

/** Judges a non-membership op against a settled Authority. */
export function judgeContent (dag: OpDag, authority: Authority, entry: DagEntry, refs: Referents): RejectReason | undefined {
  const structural = structuralReason(dag, entry)
  if (structural !== undefined) return structural
  const ctx: Context = { dag, applied: authority.applied, removals: authority.removals, epochOps: authority.epochOps, tables: authority.tables }
  return judge(ctx, entry, refs)
}

export { cloneMembers }
