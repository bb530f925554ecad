/** `peerpacs token create|list|revoke`: bearer API tokens for the HTTP edge (DICOMweb). */
import { lazyRun, type CommandSpec } from '../command.ts'

export const token: CommandSpec = {
  name: 'token',
  summary: 'Create, list or revoke the bearer tokens that DICOMweb clients use.',
  args: 'create|list|revoke [ID|NAME]',
  minArgs: 1,
  maxArgs: 2,
  usesKeys: false,
  description: `
  token create --name NAME   creates a token and prints it once; only its hash is kept.
  token list                 shows every token: id, name, created, revoked.
  token revoke ID|NAME       revokes a token at once (a running node refuses it from the next request).

A client sends it as "Authorization: Bearer TOKEN". Treat it as a password: it reads patient
data. Works whether the node runs or not.`,
  options: {
    name: { type: 'string', value: 'NAME', help: 'the new token\'s name (create): who or what uses it, e.g. "ohif-viewer"' }
  },
  run: lazyRun(async () => await import('../run/token.ts'))
}
