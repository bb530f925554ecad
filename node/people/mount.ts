/** The people routes under the node's /api (route-policy.ts says who may use each). */
import type { Hono } from 'hono'
import { caseRoutes } from '../cases/case-routes.ts'
import type { Logger } from '../logging/logger.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { activeBreakGlass } from './break-glass.ts'
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
}

/** The people part of GET /api/status and `peerpacs status`. */
export async function peopleStatus (people: People): Promise<Record<string, unknown>> {
  return {
    accounts: people.directory.list().length,
    unreadableAccounts: people.directory.unreadable().length,
    breakGlass: await activeBreakGlass(people)
  }
}
