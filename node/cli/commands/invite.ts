/**
 * `peerpacs invite`: makes a one-time invite code for a new node (docs/protocol.md "Enrollment").
 * It runs inside the running node only: the new node connects to it, and its connection gater
 * must know the invite at once. The code is shown once (only the invite key's public half is
 * kept); it is audited as a change of the org's security configuration.
 */
import { LEVELS, ROLES } from '../../../protocol/log/levels.ts'
import { lazyRun, type CommandSpec } from '../command.ts'

export const invite: CommandSpec = {
  name: 'invite',
  summary: 'Make a one-time code that lets a new node join the org (or list and withdraw codes).',
  args: '[list | withdraw INVITE_ID]',
  minArgs: 0,
  maxArgs: 2,
  usesKeys: false,
  description: `
Prints an invite code for a new node, to be given to whoever sets it up, who runs on the new
machine:

    peerpacs init --join CODE

The new node connects to this node, proves it holds the code, and is added to the org with the
role, level and scope the code names (a site member also gets the org's content keys). The code
works once, until it expires, and only while this node runs: it needs \`peerpacs start\`.
Anyone holding the code can join once: pass it on privately.

\`peerpacs invite list\` shows this node's invites (unused, used by which node, withdrawn or
expired); \`peerpacs invite withdraw INVITE_ID\` makes an unused one worthless at once (audited).

Roles: site (a full member: holds the keys; level write unless --level), backup (holds
ciphertext only; level relay, org scope), specialist (level read unless --level; --scope a
study id to give it one study). The grant follows the log's rules: never above this node's
level. Each invite is recorded in the audit trail (110113 Security Alert, 110129 Security
Configuration).`,
  options: {
    role: { type: 'string', value: 'ROLE', help: `the new node's role (${ROLES.join(', ')})` },
    level: { type: 'string', value: 'LEVEL', help: `its level (${LEVELS.join(', ')}); default: write for a site, relay for a backup, read for a specialist` },
    scope: { type: 'string', value: 'SCOPE', help: '"org" (default) or a study id' },
    expires: { type: 'string', value: 'TIME', help: 'how long the code is valid: 30m, 24h (default), 7d' }
  },
  run: lazyRun(async () => await import('../run/invite.ts'))
}
