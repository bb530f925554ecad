/** `peerpacs token create|list|revoke`: bearer API tokens for the HTTP edge (DICOMweb). */
import { TokenStore } from '../../daemon/tokens.ts'
import { provider, random } from '../../runtime.ts'
import { UsageError, type CommandSpec } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'

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

  async run (context) {
    const { values, args, out } = context
    const action = args[0]
    if (action !== 'create' && action !== 'list' && action !== 'revoke') throw new UsageError(`unknown token action "${action ?? ''}"`, 'use create, list or revoke')
    if (action === 'create' && typeof values.name !== 'string') throw new UsageError('token create needs --name NAME')
    if (action === 'revoke' && args[1] === undefined) throw new UsageError('token revoke needs the token\'s id or name')
    if (action !== 'revoke' && args[1] !== undefined) throw new UsageError(`unexpected argument "${args[1]}"`)
    return await withArchive(context, 'token', 'none', async (archive) => {
      const store = new TokenStore(archive.kv, provider, random)
      if (action === 'create') {
        const { record, token: secret } = await store.create(values.name as string)
        out.record({ type: 'token', id: record.id, name: record.name, created: new Date(record.created).toISOString(), token: secret })
        out.line(`Created token ${record.id} "${record.name}". It is shown once; keep it like a password:`)
        out.line('')
        out.line(`    ${secret}`)
        return EXIT.OK
      }
      if (action === 'revoke') {
        const record = await store.revoke(args[1]!)
        out.record({ type: 'token', id: record.id, name: record.name, revoked: new Date(record.revoked!).toISOString() })
        out.line(`Revoked token ${record.id} "${record.name}".`)
        return EXIT.OK
      }
      const list = await store.list()
      for (const t of list) {
        out.record({ type: 'token', id: t.id, name: t.name, created: new Date(t.created).toISOString(), ...(t.revoked === undefined ? {} : { revoked: new Date(t.revoked).toISOString() }) })
        out.line(`${t.id}  ${t.revoked === undefined ? 'active ' : 'revoked'}  ${new Date(t.created).toISOString()}  ${t.name}`)
      }
      if (list.length === 0) out.line('No tokens yet. Create one with `peerpacs token create --name NAME`.')
      return EXIT.OK
    })
  }
}
