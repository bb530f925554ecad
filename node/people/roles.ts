/**
 * People's roles and what each may do: the one table the HTTP routes, the DIMSE services and the
 * CLI consult (docs/access-control.md prints it). A role is a set of permissions; a route or a
 * DIMSE service names the permission it needs (route-policy.ts). Study-level limits (a
 * technologist reads only its own site's studies, a referrer only what was shared with them) are
 * the `study.read-*` permissions, checked per study by study-access.ts.
 */
export type PersonRole = 'admin' | 'radiologist' | 'technologist' | 'referrer' | 'auditor' | 'integration'

export const PERSON_ROLES: readonly PersonRole[] = ['admin', 'radiologist', 'technologist', 'referrer', 'auditor', 'integration']

export type Permission =
  | 'study.read'          // every study of the org this site holds
  | 'study.read-own-site' // studies this site registered (ingested)
  | 'study.read-shared'   // studies shared with this person (the sharing issue)
  | 'study.ingest'        // C-STORE, STOW-RS, import
  | 'study.annotate'      // case documents: notes, measurements, reports
  | 'study.share'         // share a study with a specialist
  | 'break-glass'         // open a study outside one's grants, with a reason, audited
  | 'audit.read'          // the audit trail
  | 'users.manage'        // accounts, roles, MFA resets, tokens
  | 'members.manage'      // member nodes, invites, keys, settings
  | 'status.read'         // the node's status

export const ROLE_PERMISSIONS: { readonly [R in PersonRole]: readonly Permission[] } = {
  admin: ['users.manage', 'members.manage', 'audit.read', 'status.read'],
  radiologist: ['study.read', 'study.annotate', 'study.share', 'break-glass', 'status.read'],
  technologist: ['study.ingest', 'study.read-own-site', 'break-glass', 'status.read'],
  referrer: ['study.read-shared'],
  auditor: ['audit.read', 'status.read'],
  // Service accounts (API tokens): what a bearer token could do before accounts existed.
  integration: ['study.read', 'study.ingest', 'status.read']
}

/** Roles whose people must use a second factor (the issue: admin, radiologist, auditor). */
export const MFA_REQUIRED: ReadonlySet<PersonRole> = new Set<PersonRole>(['admin', 'radiologist', 'auditor'])

export function isPersonRole (value: unknown): value is PersonRole {
  return typeof value === 'string' && (PERSON_ROLES as readonly string[]).includes(value)
}

export function can (role: PersonRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission)
}

/** Whether a role reads any study at all (some study.read-* permission). */
export function readsStudies (role: PersonRole): boolean {
  return can(role, 'study.read') || can(role, 'study.read-own-site') || can(role, 'study.read-shared')
}
