/**
 * Accounts, for admins (users.manage; docs/access-control.md):
 *
 *   GET    /api/users                      every account this site can read
 *   POST   /api/users                      {username, displayName?, role, password?, mfa?} → the new account
 *   POST   /api/users/:user/role           {role}
 *   POST   /api/users/:user/password       {password}: a new password set by an admin; the account's sessions here end
 *   POST   /api/users/:user/disable        {reason}: refused at every site once the op arrives; sessions here end now
 *   POST   /api/users/:user/enable         {reason}
 *   POST   /api/users/:user/reset-mfa      {}: removes second factors and recovery codes (the person enrols again)
 *   GET    /api/users/:user/sessions       the account's sessions at this site
 *   DELETE /api/users/:user/sessions       ends them all
 *
 * `:user` is an account id or a username. An admin cannot disable or demote themself (another
 * admin, or the recovery key, must), so a site cannot lose its last admin by a slip.
 */
import { Hono, type Context } from 'hono'
import { RequestError } from '../dicomweb/http-errors.ts'
import { AccountChangeError } from './accounts.ts'
import { callerOf, remoteAddressOf } from './gate.ts'
import { booleanOf, jsonBody, textOf } from './json-body.ts'
import type { People } from './people.ts'
import { isPersonRole, PERSON_ROLES } from './roles.ts'
import { accountView } from './session-routes.ts'
import type { ChangeAuthor } from './accounts.ts'
import { personUser, tokenUser } from '../audit/actors.ts'

function authorOf (people: People, c: Context): ChangeAuthor & { self?: string } {
  const caller = callerOf(c)
  const address = remoteAddressOf(c)
  if (caller.kind === 'person') return { ...people.authorOf(caller.account, address), self: caller.account.id }
  if (caller.kind === 'token') return { by: `token:${caller.token.id}`, actor: tokenUser(caller.token, address), ...(caller.account === undefined ? {} : { self: caller.account.id }) }
  return { by: `cli:${people.archive.keyring.nodeId}`, actor: personUser({ id: 'control', username: 'control-token', displayName: 'control token' }, address) }
}

function roleOf (value: string): import('./roles.ts').PersonRole {
  if (!isPersonRole(value)) throw new RequestError('BAD_REQUEST', `"role" must be one of ${PERSON_ROLES.join(', ')}`)
  return value
}

export function usersRoutes (people: People): Hono {
  const app = new Hono()
  const target = (c: Context) => people.accounts.find(c.req.param('user') ?? '')
  const notSelf = (c: Context, author: { self?: string }, what: string): void => {
    if (author.self !== undefined && author.self === target(c).id) throw new AccountChangeError(`an admin cannot ${what} their own account`, 'ask another admin, or use `peerpacs users` at a site\'s command line')
  }

  app.get('/', (c) => c.json({ users: people.directory.list().map(accountView), unreadable: people.directory.unreadable() }))

  app.post('/', async (c) => {
    const body = await jsonBody(c)
    const password = textOf(body, 'password', 4096, true)
    const displayName = textOf(body, 'displayName', 200, true)
    const mfa = booleanOf(body, 'mfa')
    const account = await people.accounts.add({
      username: textOf(body, 'username', 200),
      role: roleOf(textOf(body, 'role', 40)),
      ...(displayName === undefined ? {} : { displayName }),
      ...(password === undefined ? {} : { password }),
      ...(mfa === undefined ? {} : { mfa })
    }, authorOf(people, c))
    return c.json({ user: accountView(account) }, 201)
  })

  app.post('/:user/role', async (c) => {
    const role = roleOf(textOf(await jsonBody(c), 'role', 40))
    const author = authorOf(people, c)
    if (role !== 'admin') notSelf(c, author, 'demote')
    return c.json({ user: accountView(await people.accounts.setRole(target(c).id, role, author)) })
  })

  app.post('/:user/password', async (c) => {
    const password = textOf(await jsonBody(c), 'password', 4096)
    const account = await people.accounts.setPassword(target(c).id, password, authorOf(people, c))
    // A password an admin sets is a reset: whoever held the old one is signed out here.
    const ended = await people.sessions.endAllOf(account.id)
    return c.json({ user: accountView(account), sessionsEnded: ended })
  })

  app.post('/:user/disable', async (c) => {
    const reason = textOf(await jsonBody(c), 'reason', 500, true) ?? ''
    const author = authorOf(people, c)
    notSelf(c, author, 'disable')
    const account = await people.accounts.disable(target(c).id, reason, author)
    const ended = await people.sessions.endAllOf(account.id)
    return c.json({ user: accountView(account), sessionsEnded: ended })
  })

  app.post('/:user/enable', async (c) => {
    const reason = textOf(await jsonBody(c), 'reason', 500, true) ?? ''
    return c.json({ user: accountView(await people.accounts.enable(target(c).id, reason, authorOf(people, c))) })
  })

  app.post('/:user/reset-mfa', async (c) => {
    await jsonBody(c)
    return c.json({ user: accountView(await people.accounts.resetMfa(target(c).id, authorOf(people, c))) })
  })

  app.get('/:user/sessions', async (c) => {
    const list = await people.sessions.listOf(target(c).id)
    return c.json(list.map((s) => ({ id: s.idHash.slice(0, 16), stage: s.stage, created: new Date(s.created).toISOString(), lastSeen: new Date(s.lastSeen).toISOString(), address: s.address, userAgent: s.userAgent })))
  })

  app.delete('/:user/sessions', async (c) => c.json({ ended: await people.sessions.endAllOf(target(c).id) }))
  return app
}
