/**
 * The studies a request may see, set on the request's context by the node's gate (people/gate.ts)
 * from the caller's role; absent means all (the CLI channel, tests that mount the routes alone).
 * Queries pass it to the index; a route naming a study by UID answers 404 for one it may not see,
 * exactly as for one that is not here, so a refusal does not tell that the study exists.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { StudyId } from '../../protocol/study-id.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { notFound, problemResponse } from './http-errors.ts'

export type Visible = (study: StudyId) => boolean

export const VISIBLE_KEY = 'peerpacs.visible'

export function visibleOf (c: Context): Visible | undefined {
  return c.get(VISIBLE_KEY as never) as Visible | undefined
}

/** Whether the study with this UID may be seen (true when it is not here: the route's own 404 follows). */
export function maySee (c: Context, pacs: Pacs, studyInstanceUid: string | undefined): boolean {
  const visible = visibleOf(c)
  if (visible === undefined || studyInstanceUid === undefined) return true
  const entry = pacs.study(studyInstanceUid)
  return entry === undefined || visible(entry.storedIn)
}

/** For routes with a :study parameter. */
export function studyGuard (pacs: Pacs): MiddlewareHandler {
  return async (c, next) => {
    // Storing into a study is decided by study.ingest (the gate); this guards what is read.
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && !maySee(c, pacs, c.req.param('study'))) return problemResponse(notFound('no such study'))
    await next()
  }
}
