/** What `peerpacs token` does (its options and help: commands/token.ts). */
import { TokenStore } from '../../daemon/tokens.ts'
import { provider, random } from '../../runtime.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import type { CommandContext } from '../command.ts'

export async function run (context: CommandContext): Promise<number> {
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
