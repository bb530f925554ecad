/**
 * What `peerpacs token` does (its options and help: commands/token.ts). A token made with --user
 * acts for that account (its role; refused once the account is disabled); one without acts as the
 * `integration` role, like every token from before accounts existed. Creating one is the site
 * operator's act at the command line (access to the data dir), which is the admin path for tokens.
 */
import type { Archive } from '../../archive/archive.ts'
import { TokenStore, type TokenRecord } from '../../daemon/tokens.ts'
import { Accounts, directoryOf } from '../../people/accounts.ts'
import { provider, random } from '../../runtime.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import type { CommandContext } from '../command.ts'

/** The accounts, where this archive's keys are open (a token names its account by id only). */
async function accountsOf (archive: Archive): Promise<Accounts | undefined> {
  if (!archive.hasKeys) return undefined
  return new Accounts(archive, directoryOf(archive, await archive.log()))
}

function userText (t: TokenRecord, accounts: Accounts | undefined): { user?: string, username?: string, role: string } {
  if (t.user === undefined) return { role: 'integration' }
  const account = accounts?.directory.byId(t.user)
  return { user: t.user, ...(account === undefined ? { role: accounts === undefined ? 'role unknown without the keys (--passphrase-file)' : 'unknown account' } : { username: account.record.username, role: account.disabled ? `${account.record.role} (account disabled)` : account.record.role }) }
}

export async function run (context: CommandContext): Promise<number> {
  const { values, args, out } = context
  const action = args[0]
  if (action !== 'create' && action !== 'list' && action !== 'revoke') throw new UsageError(`unknown token action "${action ?? ''}"`, 'use create, list or revoke')
  if (action === 'create' && typeof values.name !== 'string') throw new UsageError('token create needs --name NAME')
  if (action !== 'create' && values.user !== undefined) throw new UsageError('--user is for `token create`')
  if (action === 'revoke' && args[1] === undefined) throw new UsageError('token revoke needs the token\'s id or name')
  if (action !== 'revoke' && args[1] !== undefined) throw new UsageError(`unexpected argument "${args[1]}"`)
  const forUser = typeof values.user === 'string' ? values.user : undefined
  // The keys open the accounts: needed to bind a token to one; `list` uses them to show names
  // when they open without asking (unsealed, or a passphrase given), else lists ids only.
  const work = async (archive: Archive): Promise<number> => {
    const store = new TokenStore(archive.kv, provider, random)
    if (action === 'create') {
      let account
      if (forUser !== undefined) {
        account = (await accountsOf(archive))!.find(forUser)
        if (account.disabled) throw new UsageError(`the account ${account.record.username} (${account.id}) is disabled`, `enable it first (\`peerpacs users enable ${account.record.username}\`), or bind the token to another account`)
      }
      const { record, token: secret } = await store.create(values.name as string, Date.now(), account?.id)
      const role = account?.record.role ?? 'integration'
      out.record({ type: 'token', id: record.id, name: record.name, created: new Date(record.created).toISOString(), role, ...(account === undefined ? {} : { user: account.id, username: account.record.username }), token: secret })
      out.line(`Created token ${record.id} "${record.name}" acting ${account === undefined ? 'as the integration role' : `for ${account.record.username} (${account.id}) with its role, ${role}`}. It is shown once; keep it like a password:`)
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
    const accounts = await accountsOf(archive)
    for (const t of list) {
      const who = userText(t, accounts)
      out.record({ type: 'token', id: t.id, name: t.name, created: new Date(t.created).toISOString(), ...(t.revoked === undefined ? {} : { revoked: new Date(t.revoked).toISOString() }), ...who })
      out.line(`${t.id}  ${t.revoked === undefined ? 'active ' : 'revoked'}  ${new Date(t.created).toISOString()}  ${t.name}  ${t.user === undefined ? '(integration)' : `user ${who.username ?? t.user} (${who.role})`}`)
    }
    if (list.length === 0) out.line('No tokens yet. Create one with `peerpacs token create --name NAME [--user USER]`.')
    return EXIT.OK
  }
  if (action === 'create' && forUser !== undefined) return await withArchive(context, 'token', 'required', work)
  if (action !== 'list') return await withArchive(context, 'token', 'none', work)
  try {
    return await withArchive(context, 'token', 'required', work)
  } catch (error) {
    if ((error as { code?: string }).code !== 'PASSPHRASE_REQUIRED') throw error
    return await withArchive(context, 'token', 'none', work)
  }
}
