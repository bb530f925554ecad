/** The people routes under the node's /api (route-policy.ts says who may use each). */
import type { Context, Hono } from 'hono'
import { cliUser, personUser, tokenUser } from '../audit/actors.ts'
import { auditRoutes } from '../audit/audit-routes.ts'
import { readAuditTrail } from '../audit/audit-trail.ts'
import { caseRoutes } from '../cases/case-routes.ts'
import type { Logger } from '../logging/logger.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { activeBreakGlass } from './break-glass.ts'
import { callerOf, remoteAddressOf } from './gate.ts'
import { breakGlassRoutes, meRoutes } from './me-routes.ts'
import type { People } from './people.ts'
import { sessionRoutes } from './session-routes.ts'
import { usersRoutes } from './users-routes.ts'

export function mountPeople (api: Hono, people: People, pacs: Pacs, log?: Logger): void {
  api.route('/session', sessionRoutes(people))
  api.route('/me', meRoutes(people))
  api.route('/users', usersRoutes(people))
  api.route('/break-glass', breakGlassRoutes(people, pacs))
  api.route('/studies', caseRoutes(pacs, log))
  api.route('/audit', auditRoutes({ read: async () => await readAuditTrail(people.archive), audit: people.archive.audit, orgId: people.archive.keyring.orgId, actorOf: (c) => actorOf(c), now: people.now }))
}

/** Who is asking, as the audit names them: a person, a token, or the site's operator. */
function actorOf (c: Context): ReturnType<typeof cliUser> {
  const caller = callerOf(c)
  const address = remoteAddressOf(c)
  if (caller.kind === 'person') return personUser({ id: caller.account.id, ...caller.account.record }, address)
  if (caller.kind === 'token') return tokenUser(caller.token, address)
  return cliUser()
}

/** The people part of GET /api/status and `peerpacs status`. */
export async function peopleStatus (people: People): Promise<Record<string, unknown>> {
  return {
    accounts: people.directory.list().length,
    unreadableAccounts: people.directory.unreadable().length,
    breakGlass: await activeBreakGlass(people)
  }
}
