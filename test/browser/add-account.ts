/**
 * Run with node by the browser tests before a node starts: adds a person's account to a stopped
 * site's data dir, as `peerpacs users add` does offline, and prints {"user": id}.
 *
 *   node test/browser/add-account.ts DATA USERNAME ROLE PASSWORD
 */
import { Archive } from '../../node/archive/archive.ts'
import { cliUser } from '../../node/audit/actors.ts'
import { Accounts, directoryOf } from '../../node/people/accounts.ts'
import { isPersonRole } from '../../node/people/roles.ts'
import { provider, random } from '../../node/runtime.ts'

const [data, username, role, password] = process.argv.slice(2)
if (data === undefined || username === undefined || password === undefined || !isPersonRole(role)) throw new Error('usage: add-account.ts DATA USERNAME ROLE PASSWORD')
const archive = await Archive.open(data, { keys: 'required', passphrase: undefined, provider, random, command: 'test-add-account' })
try {
  const accounts = new Accounts(archive, directoryOf(archive, await archive.log()))
  const account = await accounts.add({ username, role, password, displayName: `Dr ${username}` }, { by: `cli:${archive.keyring.nodeId}`, actor: cliUser() })
  await archive.auditor.flush()
  console.log(JSON.stringify({ user: account.id }))
} finally {
  await archive.close()
}
