/**
 * The gate every HTTP request passes after its bearer token (if any) is checked
 * (daemon/http.ts): who is asking — the control token, an API token (a service account's role, or
 * `integration` for a token from before accounts existed), a person's session cookie, or nobody —
 * then whether the route table (route-policy.ts) lets that role use this route, the CSRF token
 * on a person's state-changing request, and which studies the request may see (study-access.ts).
 *
 * A session is looked up on every request together with its account, so a role change, a
 * disabled account (from this site or any other, as soon as its op arrives) or an expiry takes
 * effect at once: a disabled person's sessions here are ended on their next request. Refusals
 * say what is needed, never whether a username exists.
 */
import type { Context } from 'hono'
import type { StudyId } from '../../protocol/study-id.ts'
import { VISIBLE_KEY } from '../dicomweb/study-visibility.ts'
import type { Account, UserDirectory } from './directory.ts'
import { ruleFor, type RouteRule } from './route-policy.ts'
import { can, readsStudies, type PersonRole } from './roles.ts'
import { clearedSessionCookie, sessionIdFrom } from './session-cookie.ts'
import { SessionStore, type Session } from './sessions.ts'
import { studyVisibility } from './study-access.ts'

/** What the gate needs of an API token the daemon checked (daemon/tokens.ts's TokenRecord). */
export interface TokenRecord {
  readonly id: string
  readonly name: string
  /** The account it acts for; undefined: a token from before accounts (role `integration`). */
  readonly user?: string
}

/** Who a request is from, set on the context as 'caller' (the audit names them from it). */
export type Caller =
  | { readonly kind: 'control' }
  | { readonly kind: 'token', readonly token: TokenRecord, readonly role: PersonRole, readonly account?: Account }
  | { readonly kind: 'person', readonly account: Account, readonly session: Session, readonly sessionId: string }
  | { readonly kind: 'anonymous' }

export const CALLER_KEY = 'caller'

export function callerOf (c: Context): Caller {
  return (c.get(CALLER_KEY as never) as Caller | undefined) ?? { kind: 'anonymous' }
}

/** Why a session cookie was not accepted: the gate tells the node so it can audit it. */
export interface SessionRefusal {
  readonly why: 'unknown' | 'idle' | 'absolute' | 'address' | 'stage' | 'disabled'
  readonly address: string
  readonly user?: string
}

export interface GateOptions {
  readonly directory: UserDirectory
  readonly sessions: SessionStore
  /** Whether this site registered the study (a technologist's own-site studies). */
  readonly ownSite: (study: StudyId) => boolean
  /** Whether cookies carry Secure (served over TLS). */
  readonly secure: boolean
  readonly onSessionRefused?: (refusal: SessionRefusal) => void
  readonly now?: () => number
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function remoteAddressOf (c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress ?? ''
}

function refuse (c: Context, status: 401 | 403 | 404, error: string, message: string): Response {
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="peerpacs"')
  return c.json({ error, message }, status)
}

export class Gate {
  readonly #options: GateOptions

  constructor (options: GateOptions) {
    this.#options = options
  }

  /**
   * Decides a request. `bearer` is what its Authorization header proved (undefined: none).
   * Returns a refusal to send, or undefined to go on (the caller and the visible studies are set).
   */
  async admit (c: Context, bearer: { kind: 'control' } | { kind: 'token', token: TokenRecord } | undefined): Promise<Response | undefined> {
    const path = new URL(c.req.url).pathname
    if (bearer?.kind === 'control') {
      c.set(CALLER_KEY as never, bearer as never)
      return undefined
    }
    const caller = bearer === undefined ? await this.#person(c) : this.#token(bearer.token)
    if (caller === undefined) return refuse(c, 401, 'unauthorized', 'the bearer token belongs to an account that is disabled or unknown here')
    if (caller instanceof Response) return caller
    c.set(CALLER_KEY as never, caller as never)
    const rule = ruleFor(c.req.method, path)
    if (rule === undefined) {
      if (caller.kind === 'anonymous') return refuse(c, 401, 'unauthorized', 'sign in (POST /api/session), or send a bearer token (Authorization: Bearer ...)')
      return undefined // the app's notFound answers
    }
    const verdict = this.#allowed(rule, caller)
    if (verdict !== undefined) return refuse(c, verdict.status, verdict.error, verdict.message)
    if (caller.kind === 'person' && !SAFE_METHODS.has(c.req.method) && !SessionStore.checkCsrf(caller.session, c.req.header('x-csrf-token'))) {
      return refuse(c, 403, 'csrf', 'this request needs the X-CSRF-Token header your session was given at sign-in (GET /api/session shows it)')
    }
    if (rule.need === 'study-read' && (caller.kind === 'person' || caller.kind === 'token')) {
      const role = caller.kind === 'person' ? caller.account.record.role : caller.role
      const visible = studyVisibility(role, {
        ownSite: this.#options.ownSite,
        sharedWith: () => false,
        breakGlass: caller.kind === 'person' ? caller.session.breakGlass ?? [] : [],
        now: (this.#options.now ?? Date.now)()
      })
      if (visible !== 'all') c.set(VISIBLE_KEY as never, visible as never)
    }
    return undefined
  }

  #allowed (rule: RouteRule, caller: Caller): { status: 401 | 403, error: string, message: string } | undefined {
    if (rule.need === 'public') return undefined
    if (caller.kind === 'anonymous') return { status: 401, error: 'unauthorized', message: 'sign in (POST /api/session), or send a bearer token (Authorization: Bearer ...)' }
    if (rule.people === true && caller.kind !== 'person') return { status: 403, error: 'forbidden', message: 'this route is for people signed in with a session, not API tokens' }
    if (caller.kind === 'person' && caller.session.stage !== 'full' && rule.need !== 'session') {
      return { status: 401, error: 'second-factor-required', message: 'finish signing in with your second factor (POST /api/session/second-factor)' }
    }
    if (rule.need === 'session' || rule.need === 'signed-in') return undefined
    const role = caller.kind === 'person' ? caller.account.record.role : caller.kind === 'token' ? caller.role : undefined
    if (role === undefined) return undefined
    const ok = rule.need === 'study-read' ? readsStudies(role) : can(role, rule.need)
    return ok ? undefined : { status: 403, error: 'forbidden', message: `the role ${role} may not ${rule.method} ${rule.path} (it needs ${rule.need === 'study-read' ? 'a role that reads studies' : `the ${rule.need} permission`}; see docs/access-control.md)` }
  }

  #token (token: TokenRecord): Caller | undefined {
    if (token.user === undefined) return { kind: 'token', token, role: 'integration' }
    const account = this.#options.directory.byId(token.user)
    if (account === undefined || account.disabled) return undefined
    return { kind: 'token', token, role: account.record.role, account }
  }

  async #person (c: Context): Promise<Caller | Response> {
    const id = sessionIdFrom(c.req.header('cookie'))
    if (id === undefined) return { kind: 'anonymous' }
    const address = remoteAddressOf(c)
    const resolved = await this.#options.sessions.resolve(id, address)
    if (!resolved.ok) {
      this.#options.onSessionRefused?.({ why: resolved.why, address })
      return this.#ended(c, resolved.why)
    }
    const account = this.#options.directory.byId(resolved.session.user)
    if (account === undefined || account.disabled) {
      await this.#options.sessions.end(id)
      this.#options.onSessionRefused?.({ why: 'disabled', address, user: resolved.session.user })
      return this.#ended(c, 'disabled')
    }
    return { kind: 'person', account, session: resolved.session, sessionId: id }
  }

  #ended (c: Context, why: SessionRefusal['why']): Response | Caller {
    const rule = ruleFor(c.req.method, new URL(c.req.url).pathname)
    c.header('Set-Cookie', clearedSessionCookie(this.#options.secure))
    // Signing in again is always allowed, whatever the old cookie was.
    if (rule?.need === 'public') return { kind: 'anonymous' }
    const says: Record<SessionRefusal['why'], string> = {
      unknown: 'the session is unknown here (signed out, or from another site): sign in again',
      idle: 'the session ended after a period without activity: sign in again',
      absolute: 'the session reached its maximum lifetime: sign in again',
      address: 'the session was started from another network address and has been ended: sign in again',
      stage: 'the second factor was not given in time: sign in again',
      disabled: 'the account is disabled'
    }
    return refuse(c, 401, 'session-ended', says[why])
  }
}
