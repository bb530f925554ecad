/**
 * Which studies a role reads (roles.ts): all of them (study.read); the ones this site registered
 * (study.read-own-site: a technologist sees what their site's modalities sent, not what arrived
 * from the practice's other sites); the ones shared with the person (study.read-shared, from the
 * sharing issue: none yet); and, for any of those roles, the studies the person opened by
 * emergency access ("break glass") until it ends. A study outside all of these does not exist
 * for the request: queries neither match nor count it, and a retrieval answers 404.
 */
import type { StudyId } from '../../protocol/study-id.ts'
import { can, type PersonRole } from './roles.ts'
import type { BreakGlass } from './sessions.ts'

export type StudyVisibility = 'all' | ((study: StudyId) => boolean)

export interface StudyAccessContext {
  /** Whether this site registered (ingested) the study. */
  readonly ownSite: (study: StudyId) => boolean
  /** Whether the study was shared with this person (none until sharing lands). */
  readonly sharedWith: (study: StudyId) => boolean
  /** The person's emergency openings in this session (expired ones are ignored). */
  readonly breakGlass: readonly BreakGlass[]
  readonly now: number
}

export function studyVisibility (role: PersonRole, context: StudyAccessContext): StudyVisibility {
  if (can(role, 'study.read')) return 'all'
  const own = can(role, 'study.read-own-site')
  const shared = can(role, 'study.read-shared')
  const glass = new Set(context.breakGlass.filter((b) => b.until > context.now).map((b) => b.study))
  return (study) => glass.has(study) || (own && context.ownSite(study)) || (shared && context.sharedWith(study))
}
