/**
 * Run by offline-accounts.ts with node: opens a stopped site's data dir (as `peerpacs users` will
 * when no node runs there) and changes or reads its accounts, printing one JSON line.
 *
 *   passwd  DATA USERNAME PASSWORD   the password changed here (a user.update op of this node)
 *   inspect DATA USERNAME            the account's ops with their causal depth (longest path from
 *                                    the genesis, computed here from the ops' parents), which of
 *                                    the account's other ops each has among its ancestors, and the
 *                                    op the log's state names as its record
 *   secrets DATA                     every account's record opened with this site's epoch keys:
 *                                    username, display name, password salt and hash, TOTP secret,
 *                                    recovery-code hashes (hex), so a test can look for them on disk
 */
import { toHex } from '../../protocol/encoding.ts'
import { decodeOp, type SignedOp } from '../../protocol/log/index.ts'
import { Archive } from '../../node/archive/archive.ts'
import { cliUser } from '../../node/audit/actors.ts'
import { Accounts, directoryOf } from '../../node/people/accounts.ts'
import { provider, random } from '../../node/runtime.ts'

const [command, data, ...rest] = process.argv.slice(2)
const archive = await Archive.open(data!, { keys: 'required', passphrase: undefined, provider, random, command: 'test-offline-accounts' })
try {
  const log = await archive.log()
  const accounts = new Accounts(archive, directoryOf(archive, log))
  if (command === 'passwd') {
    const account = await accounts.setPassword(rest[0]!, rest[1]!, { by: `cli:${archive.keyring.nodeId}`, actor: cliUser() })
    console.log(JSON.stringify({ user: account.id, op: account.recordOp }))
  } else if (command === 'inspect') {
    const account = accounts.find(rest[0]!)
    const depths = new Map<string, number>()
    const depthOf = (op: SignedOp): number => {
      const known = depths.get(op.idHex)
      if (known !== undefined) return known
      let depth = 0
      for (const parent of op.parents) depth = Math.max(depth, depthOf(log.oplog.get(toHex(parent))!) + 1)
      depths.set(op.idHex, depth)
      return depth
    }
    const ancestorsOf = (op: SignedOp): Set<string> => {
      const seen = new Set<string>()
      const stack = op.parents.map(toHex)
      while (stack.length > 0) {
        const id = stack.pop()!
        if (seen.has(id)) continue
        seen.add(id)
        stack.push(...log.oplog.get(id)!.parents.map(toHex))
      }
      return seen
    }
    const mine: SignedOp[] = []
    for await (const [, bytes] of archive.kv.entries(['oplog'])) {
      const op = decodeOp(provider, bytes)
      if (op.type.startsWith('user.') && toHex((op.body as { user: Uint8Array }).user) === account.id) mine.push(op)
    }
    const ops = mine.map((op) => {
      const ancestors = ancestorsOf(op)
      return { op: op.idHex, type: op.type, author: op.authorId, depth: depthOf(op), after: mine.filter((o) => ancestors.has(o.idHex)).map((o) => o.idHex) }
    })
    console.log(JSON.stringify({ user: account.id, node: archive.keyring.nodeId, recordOp: account.recordOp, stateRecord: log.oplog.state.users.get(account.id)?.record, disabled: account.disabled, ops }))
  } else if (command === 'secrets') {
    console.log(JSON.stringify(accounts.directory.list().map((a) => ({
      id: a.id,
      username: a.record.username,
      displayName: a.record.displayName,
      password: a.record.password === null ? null : { salt: toHex(a.record.password.salt), hash: toHex(a.record.password.hash) },
      totp: a.record.totp === null ? null : toHex(a.record.totp),
      recovery: a.record.recovery.map(toHex)
    }))))
  } else throw new Error(`unknown command ${String(command)}: passwd, inspect or secrets`)
  await archive.auditor.flush()
} finally {
  await archive.close()
}
