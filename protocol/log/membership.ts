/**
 * Replaying membership ops into a member table: the one place that says what member.add,
 * set-level, remove and addresses do to it. Used both for the org's state and for the table an
 * op's authority is judged against (its applied membership ancestors only).
 */
import type { NodeId } from '../identity.ts'
import { nodeIdFromPublicKey } from '../identity.ts'
import type { DagEntry } from './dag.ts'
import type { MemberState } from './state.ts'

export type Members = Map<NodeId, MemberState>

export function cloneMembers (members: Members): Members {
  const out: Members = new Map()
  for (const [id, m] of members) {
    out.set(id, { ...m, levels: new Map(m.levels), removedScopes: new Set(m.removedScopes), addresses: [...m.addresses] })
  }
  return out
}

/** Applies one op already judged valid. */
export function applyMembership (members: Members, entry: DagEntry): void {
  const op = entry.op
  switch (op.type) {
    case 'org.genesis':
      members.set(op.authorId, {
        id: op.authorId, publicKey: op.author, role: 'site', levels: new Map([['org', 'admin']]),
        removed: false, removedScopes: new Set(), addresses: [], addedBy: op.idHex
      })
      return
    case 'member.add': {
      const id = nodeIdFromPublicKey(op.body.member)
      const m = members.get(id)
      if (m === undefined) {
        members.set(id, {
          id, publicKey: op.body.member, role: op.body.role, levels: new Map([[op.body.scope, op.body.level]]),
          removed: false, removedScopes: new Set(), addresses: [], addedBy: op.idHex
        })
      } else m.levels.set(op.body.scope, op.body.level)
      return
    }
    case 'member.set-level': {
      const m = members.get(nodeIdFromPublicKey(op.body.member))
      if (m !== undefined && m.levels.has(op.body.scope)) m.levels.set(op.body.scope, op.body.level)
      return
    }
    case 'member.remove': {
      const m = members.get(nodeIdFromPublicKey(op.body.member))
      if (m === undefined) return
      m.removedScopes.add(op.body.scope)
      if (op.body.scope === 'org') {
        m.removed = true
        m.levels.clear()
      } else m.levels.delete(op.body.scope)
      return
    }
    case 'member.addresses': {
      const m = members.get(op.authorId)
      if (m !== undefined) m.addresses = [...op.body.addresses]
      return
    }
    default:
  }
}
