/** `peerpacs members list|add|set-level|remove`: the org's members (its code: run/members.ts). */
import { LEVELS, ROLES } from '../../../protocol/log/levels.ts'
import { lazyRun, type CommandSpec } from '../command.ts'

export const members: CommandSpec = {
  name: 'members',
  summary: 'List the org\'s member nodes, or add, change or remove one.',
  args: 'list|add|set-level|remove [NODE_ID]',
  minArgs: 1,
  maxArgs: 2,
  usesKeys: true,
  description: `
Actions:
  members list                                   every member: node id, role, levels by scope,
                                                 active or removed, addresses, who added it;
                                                 "*" marks this node.
  members add NODE_ID --role R --level L [--scope S]
                                                 grants a node (its id as \`peerpacs init\` printed
                                                 it) role R (site, backup, specialist) and level L
                                                 (relay < read < write < admin) in scope S ("org",
                                                 the default, or a study id). A site member is
                                                 added at org scope and gets the org's key: a new
                                                 key epoch is started, wrapped to every site
                                                 member. A backup is added at org scope as relay.
  members set-level NODE_ID --level L [--scope S]
                                                 changes a member's level in a scope (needs admin).
  members remove NODE_ID [--scope S]             removes a member from the org (permanent: the key
                                                 is never a member again) or from one study. A
                                                 site member removed from the org gets no key
                                                 from then on: a new key epoch is started,
                                                 wrapped to the remaining site members only.

Every change is a signed op of this node and follows the log's rules: a grant never exceeds
this node's level, org-scope grants and level changes need admin. A change the rules refuse
is reported with the reason (exit code 2) and nothing is written. Each change is recorded in
the audit trail (110113 Security Alert, 110137 User Security Attributes Changed; with 110129
Security Configuration when a new key epoch starts). Works whether the node runs or not.`,
  options: {
    role: { type: 'string', value: 'ROLE', help: `add: the member's role (${ROLES.join(', ')})` },
    level: { type: 'string', value: 'LEVEL', help: `add, set-level: the level (${LEVELS.join(', ')})` },
    scope: { type: 'string', value: 'SCOPE', help: 'add, set-level, remove: "org" (default) or a study id' }
  },
  run: lazyRun(async () => await import('../run/members.ts'))
}
