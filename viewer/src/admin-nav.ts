/**
 * Which admin pages a role is shown: an admin Users, Sessions and Audit; an auditor Audit only;
 * everyone else none. Only a convenience: the node refuses every admin request of a role without
 * the permission (403), whatever the page shows.
 */
export interface AdminPage { readonly path: string, readonly label: string }

export const USERS: AdminPage = { path: '/admin/users', label: 'Users' }
export const SESSIONS: AdminPage = { path: '/admin/sessions', label: 'Sessions' }
export const AUDIT: AdminPage = { path: '/admin/audit', label: 'Audit' }

export function adminPagesOf (role: string): AdminPage[] {
  if (role === 'admin') return [USERS, SESSIONS, AUDIT]
  if (role === 'auditor') return [AUDIT]
  return []
}

/** Where a role starts: admins and auditors read no studies, so their first admin page. */
export function homeOf (role: string): string {
  return adminPagesOf(role)[0]?.path ?? '/'
}
