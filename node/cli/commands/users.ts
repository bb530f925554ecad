/** `peerpacs users ...`: people's accounts, at the site's command line (its code: run/users.ts). */
import { PERSON_ROLES } from '../../people/roles.ts'
import { lazyRun, type CommandSpec } from '../command.ts'

export const users: CommandSpec = {
  name: 'users',
  summary: 'Add, list and change people\'s accounts (roles, passwords, second factors, sessions).',
  args: 'add|list|set-role|disable|enable|reset-mfa|passwd|sessions [USER] [ROLE]',
  minArgs: 1,
  maxArgs: 3,
  usesKeys: true,
  description: `
Actions (USER is a username or an account id, as \`users list\` shows them):
  users add USERNAME --role ROLE [--display-name TEXT] [--mfa] [--service]
                               a new account. Its password is asked for twice (no echo) on a
                               terminal, or read with --password-stdin or --password-file. With
                               --service: a service account, with no password, for API tokens
                               (\`peerpacs token create --name NAME --user USERNAME\`).
  users list                   every account: username, display name, role, disabled, second
                               factors, id; and accounts whose record does not open here yet.
  users set-role USER ROLE     changes the role.
  users disable USER [--reason TEXT]
                               no sign-in anywhere in the org once the change reaches each
                               site; the account's sessions at this site end now.
  users enable USER [--reason TEXT]
  users reset-mfa USER         removes the TOTP secret, passkeys and recovery codes: the person
                               enrols a new second factor at the next sign-in.
  users passwd USER            sets a new password (asked for, or --password-stdin/-file); the
                               account's sessions at this site end.
  users sessions USER [--end]  the account's sessions at this site; --end ends them.

Roles: ${PERSON_ROLES.join(', ')}
(docs/access-control.md). A second factor is required for admin, radiologist and auditor, and
for anyone added with --mfa; the first sign-in enrols it.

Passwords are never taken on the command line (they would be kept in the shell's history and
shown by \`ps\`). Each change is a signed op of this node, sealed under the org's key, and is
audited (110113 Security Alert, 110137 User Security Attributes Changed) with the operating
system user who ran the command. Works whether the node runs or not.`,
  options: {
    role: { type: 'string', value: 'ROLE', help: `add: the account's role (${PERSON_ROLES.join(', ')})` },
    'display-name': { type: 'string', value: 'TEXT', help: 'add: the name shown for the person (default: the username)' },
    'password-file': { type: 'string', value: 'FILE', help: 'add, passwd: read the password from the first line of FILE' },
    'password-stdin': { type: 'boolean', help: 'add, passwd: read the password from stdin (one line)' },
    service: { type: 'boolean', help: 'add: a service account (no password; signs in with API tokens only)' },
    mfa: { type: 'boolean', help: 'add: require a second factor even where the role does not' },
    reason: { type: 'string', value: 'TEXT', help: 'disable, enable: why (kept, sealed, in the log)' },
    end: { type: 'boolean', help: 'sessions: end every session of the account at this site' }
  },
  secrets: async (values, args) => await (await import('../run/users.ts')).secrets(values, args),
  run: lazyRun(async () => await import('../run/users.ts'))
}
