/**
 * `peerpacs init`: creates a node and an org in an empty data dir with its first admin account,
 * and shows the recovery key once;
 * with --join CODE, a node that joins an existing org instead (init-join.ts).
 */
import { lazyRun, type CommandSpec } from '../command.ts'

export const init: CommandSpec = {
  name: 'init',
  summary: 'Create a node and a new org in an empty data dir, or join an org with an invite code.',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
Creates the node's key, a new org with its first content key, and the org's recovery key.
The node id is printed; the recovery key is shown once (or written to --recovery-key-out)
and never stored. Keep it offline: it is what restores the org from a backup.

The node's keys are sealed with a passphrase when one is given (PEERPACS_PASSPHRASE or
--passphrase-file); every later command then needs the same passphrase.

With --json the recovery key is in the JSON record (unless --recovery-key-out is given): keep
that output out of logs.

With --join CODE (a code \`peerpacs invite\` printed on a running node of the org), the node
joins that org instead: it connects to the inviting node, is added with the role the code names,
and gets the org's genesis; no org and no recovery key are made. A damaged or expired code, or
an inviting node that cannot be reached or refuses, leaves nothing in the data dir. Start the
node afterwards with \`peerpacs start\`: it fetches the org's log, and with it its keys.

The first admin account (--admin, default "admin") is made with the org: its password is asked
for twice on a terminal, or read with --admin-password-stdin or --admin-password-file, and must
pass the password policy before anything is created. Without a terminal and without those
options (a script) no admin is made, and init says how to add one (\`peerpacs users add\`).
init then says where to sign in; the first sign-in enrols a second factor (TOTP).`,
  options: {
    name: { type: 'string', value: 'NAME', help: 'the org\'s name (default: peerpacs-<hostname>)' },
    'recovery-key-out': { type: 'string', value: 'FILE', help: 'write the recovery key to FILE (mode 0600, must not exist) instead of showing it' },
    join: { type: 'string', value: 'CODE', help: 'join an existing org with an invite code (from `peerpacs invite`) instead of creating one' },
    admin: { type: 'string', value: 'USERNAME', help: 'the first admin account\'s username (default: admin)' },
    'admin-password-file': { type: 'string', value: 'FILE', help: 'read the first admin\'s password from the first line of FILE' },
    'admin-password-stdin': { type: 'boolean', help: 'read the first admin\'s password from stdin (one line)' },
    'no-admin': { type: 'boolean', help: 'make no admin account now (add one later with `peerpacs users add`)' }
  },
  secrets: async (values) => await (await import('../run/init-admin.ts')).adminSecrets(values),
  run: lazyRun(async () => await import('../run/init.ts'))
}
