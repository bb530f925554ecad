/** What `peerpacs invite` does (its options and help: commands/invite.ts). */
import { EVENT_TYPE } from '../../../protocol/audit/index.ts'
import { PeerpacsError } from '../../../protocol/errors.ts'
import type { NodeId } from '../../../protocol/identity.ts'
import { isRole, ROLES, type Level, type Role } from '../../../protocol/log/index.ts'
import { cliUser } from '../../audit/actors.ts'
import { checkAdmission } from '../../members/admit.ts'
import { auditMemberChange } from '../../members/change.ts'
import { MAX_INVITE_VALIDITY_MS } from '../../mesh/invites.ts'
import { UsageError, type NodeHandle, type OptionValues } from '../command.ts'
import { formatTable, type Output } from '../output.ts'
import type { InviteRecord } from '../../mesh/invites.ts'
import { EXIT } from '../exit-codes.ts'
import { parseLevel, parseScope } from './members.ts'
import type { CommandContext } from '../command.ts'

/** The command needs `peerpacs start` running on the data dir. */
export class NodeNotRunningError extends PeerpacsError {
  static readonly code = 'NODE_NOT_RUNNING'
  constructor (message: string, hint: string) { super(NodeNotRunningError.code, message, { hint }) }
}

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "30m", "24h", "7d" → ms. */
export function parseValidity (text: string): number {
  const m = /^(\d{1,6})([mhd])$/.exec(text.trim())
  const ms = m === null ? NaN : Number(m[1]) * UNITS[m[2]!]!
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_INVITE_VALIDITY_MS) {
    throw new UsageError(`--expires "${text.slice(0, 40)}" is not a validity`, `a number with m, h or d, e.g. 30m, 24h, 7d (at most ${MAX_INVITE_VALIDITY_MS / 86_400_000}d)`)
  }
  return ms
}

function defaultLevel (role: Role): Level {
  return role === 'backup' ? 'relay' : role === 'site' ? 'write' : 'read'
}

export async function run ({ values, args, out, node }: CommandContext): Promise<number> {
  if (args.length > 0) return await manage(args, values, out, node)
  if (values.role === undefined) throw new UsageError('--role is required', `one of ${ROLES.join(', ')}`)
  if (!isRole(values.role)) throw new UsageError(`--role "${String(values.role).slice(0, 40)}" is not a role`, `one of ${ROLES.join(', ')}`)
  const role = values.role
  const level = parseLevel(values, false) ?? defaultLevel(role)
  const scope = parseScope(values)
  if (role === 'site' && scope !== 'org') throw new UsageError('a site member is invited at org scope', 'leave out --scope')
  if (role === 'backup' && (scope !== 'org' || level !== 'relay')) throw new UsageError('a backup is invited at org scope with level relay', 'leave out --level and --scope')
  const validity = parseValidity(typeof values.expires === 'string' ? values.expires : '24h')
  if (node?.mesh === undefined) {
    throw new NodeNotRunningError('invite needs the running node (`peerpacs start`): the new node connects to it',
      'start the node on this data dir, then run `peerpacs invite` again (it reaches the running node by itself)')
  }
  const { archive, mesh } = node
  // Refused now, not when the new node arrives: a grant above this node's level, a non-site issuer of a site.
  await checkAdmission(archive, { role, level, scope })
  const created = await mesh.invites.create({ role, level, scope, expiresMs: validity, addrs: mesh.addresses() })
  const expires = new Date(created.expires).toISOString()
  try {
    await auditMemberChange(archive, cliUser(), created.inviteNodeId as NodeId,
      `invite created role=${role} level=${level} scope=${scope} expires=${expires}`, [EVENT_TYPE.securityConfiguration])
  } catch (error) {
    out.warn('the invite was made, but its audit record could not be written; see the node\'s log')
    throw error
  }
  out.record({ type: 'invite', code: created.code, expires, role, level, scope, invite: created.inviteNodeId })
  out.line(`Invite for a ${role} node (level ${level} in ${scope === 'org' ? 'the org' : `study ${scope}`}), valid until ${expires}, usable once:`)
  out.line('')
  out.line(`    ${created.code}`)
  out.line('')
  out.line('On the new machine, run:')
  out.line('')
  out.line(`    peerpacs init --join ${created.code}`)
  out.line('')
  out.line('Pass the code on privately: whoever holds it can join once. This node must be running when it is used.')
  return EXIT.OK
}

function stateOf (r: InviteRecord, now: number): string {
  if (r.used !== undefined) return `used ${new Date(r.used).toISOString()} by ${r.usedBy ?? '?'}`
  if (r.withdrawn !== undefined) return `withdrawn ${new Date(r.withdrawn).toISOString()}`
  return r.expires <= now ? 'expired' : 'unused'
}

/** `invite list` and `invite withdraw ID`. */
async function manage (args: string[], values: OptionValues, out: Output, node: NodeHandle | undefined): Promise<number> {
  const [action, id] = args
  if (action !== 'list' && action !== 'withdraw') throw new UsageError(`unknown invite action "${String(action).slice(0, 40)}"`, 'use `invite --role ROLE`, `invite list` or `invite withdraw INVITE_ID`')
  for (const name of ['role', 'level', 'scope', 'expires'] as const) if (values[name] !== undefined) throw new UsageError(`--${name} is for making an invite, not for \`invite ${action}\``)
  if (action === 'list' && id !== undefined) throw new UsageError(`unexpected argument "${id.slice(0, 80)}"`)
  if (action === 'withdraw' && id === undefined) throw new UsageError('invite withdraw needs the INVITE_ID (as `invite list` shows it)')
  if (node?.mesh === undefined) throw new NodeNotRunningError(`invite ${action} needs the running node (\`peerpacs start\`): its invites live there`, 'start the node on this data dir, then run the command again')
  const now = Date.now()
  if (action === 'list') {
    const records = node.mesh.invites.list()
    for (const r of records) out.record({ type: 'invite', id: r.id, role: r.role, level: r.level, scope: r.scope, created: new Date(r.created).toISOString(), expires: new Date(r.expires).toISOString(), state: stateOf(r, now), ...(r.usedBy === undefined ? {} : { usedBy: r.usedBy }) })
    if (records.length === 0) { out.line('No invites yet: make one with `peerpacs invite --role site`.'); return EXIT.OK }
    const rows = [['INVITE ID', 'ROLE', 'LEVEL', 'SCOPE', 'EXPIRES', 'STATE']]
    for (const r of records) rows.push([r.id, r.role, r.level, r.scope, new Date(r.expires).toISOString(), stateOf(r, now)])
    for (const line of formatTable(rows)) out.line(line)
    return EXIT.OK
  }
  const withdrawn = await node.mesh.invites.withdraw(id!)
  await auditMemberChange(node.archive, cliUser(), withdrawn.id as NodeId, `invite withdrawn role=${withdrawn.role} level=${withdrawn.level} scope=${withdrawn.scope}`, [EVENT_TYPE.securityConfiguration])
  out.record({ type: 'invite-withdrawn', id: withdrawn.id })
  out.line(`Invite ${withdrawn.id} withdrawn: its code no longer lets anyone join.`)
  return EXIT.OK
}
