/**
 * What each HTTP route needs, in one table: the role × route matrix of docs/access-control.md is
 * this table joined with ROLE_PERMISSIONS (roles.ts). A route not listed here is answered 404
 * to whoever is signed in (and 401 to nobody), so a new route is unreachable until it is listed.
 *
 *   public       anyone, signed in or not (sign-in itself)
 *   session      a session whose password was accepted, second factor or not (the second-factor step)
 *   signed-in    a person fully signed in (password and, where required, second factor)
 *   study-read   a role that reads studies at all (study.read, study.read-own-site or
 *                study.read-shared); which studies is then decided per study (study-access.ts)
 *   Permission   a role that has it (people or API tokens)
 */
import type { Permission } from './roles.ts'

export type RouteNeed = 'public' | 'session' | 'signed-in' | 'study-read' | Permission

export interface RouteRule {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** Path pattern, `:name` for one segment, `*` at the end for the rest. */
  readonly path: string
  readonly need: RouteNeed
  /** Only people may use it (not API tokens): what is about a person's own sign-in. */
  readonly people?: boolean
}

const read = (path: string): RouteRule => ({ method: 'GET', path, need: 'study-read' })

export const ROUTE_RULES: readonly RouteRule[] = [
  // The web viewer's static files (daemon/viewer-static.ts): the page that signs people in
  { method: 'GET', path: '/', need: 'public' },
  { method: 'GET', path: '/assets/*', need: 'public' },
  // Signing in and out, one's own account (routes: people/session-routes.ts, people/me-routes.ts)
  { method: 'POST', path: '/api/session', need: 'public' },
  { method: 'GET', path: '/api/session', need: 'session', people: true },
  { method: 'DELETE', path: '/api/session', need: 'session', people: true },
  { method: 'POST', path: '/api/session/second-factor', need: 'session', people: true },
  { method: 'POST', path: '/api/session/passkey-options', need: 'session', people: true },
  { method: 'POST', path: '/api/session/totp-enrolment', need: 'session', people: true },
  { method: 'GET', path: '/api/me/sessions', need: 'signed-in', people: true },
  { method: 'DELETE', path: '/api/me/sessions/:session', need: 'signed-in', people: true },
  { method: 'POST', path: '/api/me/password', need: 'signed-in', people: true },
  { method: 'POST', path: '/api/me/totp', need: 'signed-in', people: true },
  { method: 'POST', path: '/api/me/recovery-codes', need: 'signed-in', people: true },
  { method: 'POST', path: '/api/me/passkeys/options', need: 'signed-in', people: true },
  { method: 'POST', path: '/api/me/passkeys', need: 'signed-in', people: true },
  { method: 'POST', path: '/api/break-glass', need: 'break-glass', people: true },
  // A study's case notes and measurements (cases/case-routes.ts); which studies: study-access.ts
  read('/api/studies/:study/case'),
  { method: 'POST', path: '/api/studies/:study/case', need: 'study.annotate' },
  // Accounts (admin)
  { method: 'GET', path: '/api/users', need: 'users.manage' },
  { method: 'POST', path: '/api/users', need: 'users.manage' },
  { method: 'POST', path: '/api/users/:user/role', need: 'users.manage' },
  { method: 'POST', path: '/api/users/:user/password', need: 'users.manage' },
  { method: 'POST', path: '/api/users/:user/disable', need: 'users.manage' },
  { method: 'POST', path: '/api/users/:user/enable', need: 'users.manage' },
  { method: 'POST', path: '/api/users/:user/reset-mfa', need: 'users.manage' },
  { method: 'GET', path: '/api/users/:user/sessions', need: 'users.manage' },
  { method: 'DELETE', path: '/api/users/:user/sessions', need: 'users.manage' },
  // The audit trail (audit/audit-routes.ts)
  { method: 'GET', path: '/api/audit', need: 'audit.read' },
  { method: 'GET', path: '/api/audit/export', need: 'audit.read' },
  // The node
  { method: 'GET', path: '/api/status', need: 'status.read' },
  // DICOMweb (dicomweb/routes.ts): STOW-RS, QIDO-RS, WADO-RS; WADO-URI
  { method: 'POST', path: '/dicomweb/studies', need: 'study.ingest' },
  { method: 'POST', path: '/dicomweb/studies/:study', need: 'study.ingest' },
  read('/dicomweb/studies'),
  read('/dicomweb/series'),
  read('/dicomweb/instances'),
  read('/dicomweb/studies/:study'),
  read('/dicomweb/studies/:study/*'),
  read('/wado')
]

interface Compiled { readonly rule: RouteRule, readonly pattern: RegExp }

const COMPILED: readonly Compiled[] = ROUTE_RULES.map((rule) => {
  const source = rule.path.split('/').map((part) => part === '*' ? '.+' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')
  return { rule, pattern: new RegExp(`^${source}/?$`) }
})

/** The rule for a request, or undefined when no route is listed (HEAD is treated as GET). */
export function ruleFor (method: string, path: string): RouteRule | undefined {
  const m = method === 'HEAD' ? 'GET' : method
  return COMPILED.find((c) => c.rule.method === m && c.pattern.test(path))?.rule
}
