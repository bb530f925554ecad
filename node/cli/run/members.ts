/**
 * `peerpacs members list|add|set-level|remove`: who is in the org, in which role, at which level
 * in which scope (docs/protocol.md "Members and permissions"). Every change is a signed op of this
 * node. Before anything is signed for real, the change is tried on a scratch copy of the op set,
 * so a change the log's rules refuse (a grant above this node's level, a removed key, ...) is
 * reported with its reason and nothing is written, not even in memory.
 *
 * Key epochs: removing a `site` member at org scope carries a new epoch key wrapped to the
 * remaining site members and the recovery key (not to the removed one); adding a `site` member
 * is followed, in the same batch, by an `epoch.start` wrapping a new key to every site member,
 * the new one included (member.add alone does not hand it a key), carrying in its history every
 * earlier epoch key this node holds (node/members/admit.ts, shared with enrollment).
 *
 * Each change is audited: a 110113 Security Alert with event type 110137 "User Security
 * Attributes Changed" (a member's grants are its security attributes; the member node is the
 * alert's subject, id type 110182 Node ID), plus 110129 "Security Configuration" when the change
 * also rotates the org's content key (a new epoch).
 */
import { EVENT_TYPE, type EventTypeCode } from '../../../protocol/audit/index.ts'
import { publicKeyFromNodeId, type NodeId } from '../../../protocol/identity.ts'
import { PeerpacsError } from '../../../protocol/errors.ts'
import {
  createEpoch, isActiveMember, isLevel, isRole, isScope, LEVELS, ROLES,
  type Level, type MemberState, type OrgState, type Role, type Scope
} from '../../../protocol/log/index.ts'
import { cliUser } from '../../audit/actors.ts'
import type { Archive } from '../../archive/archive.ts'
import type { NodeLog } from '../../log/node-log.ts'
import { AdmissionAuditError, admitMember } from '../../members/admit.ts'
import { auditMemberChange, siteKeys, writeSteps } from '../../members/change.ts'
import { UsageError, type OptionValues } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatTable, type Output } from '../output.ts'
import type { CommandContext } from '../command.ts'

/** A member named on the command line is not in the org. */
export class MemberNotFoundError extends PeerpacsError {
  static readonly code = 'NOT_FOUND'
  constructor (message: string, hint?: string) { super(MemberNotFoundError.code, message, hint === undefined ? {} : { hint }) }
}

function parseNodeId (value: string): { id: NodeId, key: Uint8Array } {
  try {
    const key = publicKeyFromNodeId(value)
    return { id: value as NodeId, key }
  } catch {
    throw new UsageError(`"${value.slice(0, 80)}" is not a node id`, 'a node id is what `peerpacs init` prints, e.g. 12D3KooW… (52 characters)')
  }
}

export function parseLevel (values: OptionValues, required: boolean): Level | undefined {
  const v = values.level
  if (v === undefined) {
    if (required) throw new UsageError('--level is required', `one of ${LEVELS.join(', ')}`)
    return undefined
  }
  if (!isLevel(v)) throw new UsageError(`--level "${String(v).slice(0, 40)}" is not a level`, `one of ${LEVELS.join(', ')} (relay < read < write < admin)`)
  return v
}

export function parseScope (values: OptionValues): Scope {
  const v = values.scope ?? 'org'
  if (!isScope(v)) throw new UsageError(`--scope "${String(v).slice(0, 80)}" is not a scope`, '"org" or a study id (32 lowercase hex digits, as `peerpacs studies --json` shows)')
  return v
}

async function auditChange (archive: Archive, out: Output, target: NodeId, description: string, types: EventTypeCode[]): Promise<void> {
  try {
    await auditMemberChange(archive, cliUser(), target, description, types)
  } catch (error) {
    out.warn('the change was made, but its audit record could not be written; see the node\'s log')
    throw error
  }
}

function levelsText (m: MemberState): string {
  if (m.levels.size === 0) return '-'
  return [...m.levels].sort(([a], [b]) => a === 'org' ? -1 : b === 'org' ? 1 : a < b ? -1 : 1).map(([scope, level]) => `${level}@${scope}`).join(',')
}

function memberRecord (state: OrgState, m: MemberState, self: NodeId, log: NodeLog): Record<string, unknown> {
  const addedByOp = log.oplog.get(m.addedBy)
  return {
    type: 'member',
    id: m.id,
    self: m.id === self,
    role: m.role,
    levels: Object.fromEntries([...m.levels].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
    status: m.removed ? 'removed' : isActiveMember(state, m.id) ? 'active' : 'no-grant',
    removedScopes: [...m.removedScopes].sort(),
    addresses: [...m.addresses],
    addedBy: addedByOp?.authorId ?? null,
    addedByOp: m.addedBy
  }
}

export async function run (context: CommandContext): Promise<number> {
  const { values, args, out } = context
  const action = args[0]
  if (action !== 'list' && action !== 'add' && action !== 'set-level' && action !== 'remove') {
    throw new UsageError(`unknown members action "${action ?? ''}"`, 'use list, add, set-level or remove')
  }
  if (action === 'list') {
    if (args[1] !== undefined) throw new UsageError(`unexpected argument "${args[1]}"`)
    for (const name of ['role', 'level', 'scope'] as const) if (values[name] !== undefined) throw new UsageError(`--${name} is not for \`members list\``)
    return await withArchive(context, 'members', 'required', async (archive) => await list(archive, out))
  }
  if (args[1] === undefined) throw new UsageError(`members ${action} needs the member's NODE_ID`)
  const target = parseNodeId(args[1])
  const scope = parseScope(values)
  let role: Role | undefined
  let level: Level | undefined
  if (action === 'add') {
    if (values.role === undefined) throw new UsageError('--role is required', `one of ${ROLES.join(', ')}`)
    if (!isRole(values.role)) throw new UsageError(`--role "${String(values.role).slice(0, 40)}" is not a role`, `one of ${ROLES.join(', ')}`)
    role = values.role
    level = parseLevel(values, true)
    if (role === 'site' && scope !== 'org') throw new UsageError('a site member is added at org scope', 'leave out --scope')
    if (role === 'backup' && (scope !== 'org' || level !== 'relay')) throw new UsageError('a backup is added at org scope with level relay', 'use --level relay and no --scope')
  } else {
    if (values.role !== undefined) throw new UsageError(`--role is for \`members add\` (a member keeps its role)`)
    level = parseLevel(values, action === 'set-level')
    if (action === 'remove' && level !== undefined) throw new UsageError('--level is not for `members remove`')
  }
  return await withArchive(context, 'members', 'required', async (archive) => {
    const log = await archive.log()
    const state = log.oplog.state
    const self = archive.keyring.nodeId
    if (target.id === self) throw new UsageError(`${target.id} is this node`, action === 'add' ? 'it is a member already' : 'another admin member must change this node')
    const existing = state.members.get(target.id)
    const where = scope === 'org' ? 'the org' : `study ${scope}`
    if (action === 'add') {
      const admitted = await admitMember(archive, { member: target.key, role: role!, level: level!, scope, reason: 'members add', reporter: cliUser() })
        .catch((error: unknown) => {
          if (error instanceof AdmissionAuditError) out.warn('the change was made, but its audit record could not be written; see the node\'s log')
          throw error
        })
      const { ops, epochId } = admitted
      out.record({ type: 'member-added', id: target.id, role, level, scope, op: ops[0]!.idHex, ...(epochId === undefined ? {} : { epoch: epochId }) })
      out.line(`Added ${target.id} as ${role!} with level ${level!} in ${where}.`)
      if (epochId !== undefined) out.line(`Started key epoch ${epochId}, wrapped to every site member including the new one (with the earlier keys this node holds).`)
      return EXIT.OK
    }
    if (existing === undefined) throw new MemberNotFoundError(`${target.id} is not a member of the org`, 'list members with `peerpacs members list`')
    if (existing.removed) throw new UsageError(`${target.id} was removed from the org already`)
    if (action === 'set-level') {
      const old = existing.levels.get(scope)
      if (old === undefined) throw new UsageError(`${target.id} has no grant in ${where} to change`, scope === 'org' ? undefined : 'grant one with `peerpacs members add NODE_ID --role ... --level ... --scope STUDY_ID`')
      if (old === level) {
        out.record({ type: 'member-unchanged', id: target.id, level, scope })
        out.line(`${target.id} has level ${level} in ${where} already; nothing changed.`)
        return EXIT.OK
      }
      const ops = await writeSteps(archive, log, [{ type: 'member.set-level', body: { member: target.key, level: level!, scope } }], `setting ${target.id} to level ${level!} in ${where}`)
      await auditChange(archive, out, target.id, `member.set-level level=${old}->${level!} scope=${scope} op=${ops[0]!.idHex}`, [EVENT_TYPE.userSecurityAttributesChanged])
      out.record({ type: 'member-level', id: target.id, level, previous: old, scope, op: ops[0]!.idHex })
      out.line(`Set ${target.id} to level ${level!} in ${where} (was ${old}).`)
      return EXIT.OK
    }
    // remove
    if (scope !== 'org' && !existing.levels.has(scope)) throw new UsageError(`${target.id} has no grant in ${where} to remove`)
    const rotates = existing.role === 'site' && scope === 'org'
    const body = rotates
      ? { member: target.key, scope, epoch: createEpoch(archive.provider, archive.random, { org: state.orgId, members: siteKeys(state, target.id), recoveryPublicKey: state.recovery }).body }
      : { member: target.key, scope }
    const ops = await writeSteps(archive, log, [{ type: 'member.remove', body }], `removing ${target.id} from ${where}`)
    const op = ops[0]!.idHex
    await auditChange(archive, out, target.id, `member.remove scope=${scope} op=${op}${rotates ? ` epoch=${op}` : ''}`,
      rotates ? [EVENT_TYPE.userSecurityAttributesChanged, EVENT_TYPE.securityConfiguration] : [EVENT_TYPE.userSecurityAttributesChanged])
    out.record({ type: 'member-removed', id: target.id, scope, op, ...(rotates ? { epoch: op } : {}) })
    out.line(`Removed ${target.id} from ${where}${scope === 'org' ? ' (permanently)' : ''}.`)
    if (rotates) out.line(`Started key epoch ${op}: new studies are sealed with a key the removed node does not hold.`)
    return EXIT.OK
  })
}

async function list (archive: Archive, out: Output): Promise<number> {
  const log = await archive.log()
  const state = log.oplog.state
  const self = archive.keyring.nodeId
  const all = [...state.members.values()]
  const rows = [['', 'NODE ID', 'ROLE', 'LEVELS', 'STATUS', 'ADDED BY', 'ADDRESSES']]
  for (const m of all) {
    const r = memberRecord(state, m, self, log)
    out.record(r)
    const addedBy = r.addedBy === null ? '?' : r.addedBy === m.id ? '(founder)' : r.addedBy === self ? '(this node)' : String(r.addedBy)
    rows.push([m.id === self ? '*' : '', m.id, m.role, levelsText(m), String(r.status), addedBy, m.addresses.join(' ') || '-'])
  }
  out.record({ type: 'summary', members: all.length, active: all.filter((m) => isActiveMember(state, m.id)).length, self, epochs: state.epochs.length })
  for (const line of formatTable(rows)) out.line(line)
  out.line('')
  out.line(`${all.length} member${all.length === 1 ? '' : 's'}; * is this node. Org ${state.orgId} (${state.name}).`)
  return EXIT.OK
}
