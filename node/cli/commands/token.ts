/** `peerpacs token create|list|revoke`: bearer API tokens for the HTTP edge (DICOMweb). */
import { lazyRun, type CommandSpec } from '../command.ts'

export const token: CommandSpec = {
  name: 'token',
  summary: 'Create, list or revoke the bearer tokens that DICOMweb clients use.',
  args: 'create|list|revoke [ID|NAME]',
  minArgs: 1,
  maxArgs: 2,
  // The keys open the accounts: `create --user` needs them; `list` shows account names with them.
  usesKeys: true,
  description: `
  token create --name NAME [--user USER]
                             creates a token and prints it once; only its hash is kept. With
                             --user (a username or account id, often a service account from
                             \`peerpacs users add NAME --role ROLE --service\`) the token acts for
                             that account, with its role, and is refused while it is disabled;
                             without, it acts as the integration role (read and ingest studies).
  token list                 shows every token: id, name, created, revoked, its account and role.
  token revoke ID|NAME       revokes a token at once (a running node refuses it from the next request).

A client sends it as "Authorization: Bearer TOKEN". Treat it as a password: it reads patient
data. Works whether the node runs or not.`,
  options: {
    name: { type: 'string', value: 'NAME', help: 'the new token\'s name (create): who or what uses it, e.g. "ohif-viewer"' },
    user: { type: 'string', value: 'USER', help: 'create: the account the token acts for (username or id); default: the integration role' }
  },
  run: lazyRun(async () => await import('../run/token.ts'))
}
