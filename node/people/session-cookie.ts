/**
 * The session cookie: its name, the Set-Cookie values that set and clear it, and reading the id
 * back from a Cookie header. HttpOnly (page scripts never see the id), SameSite=Strict (no
 * cross-site request carries it), Path=/, Secure when the node is served over TLS. Without
 * maxAgeSeconds it is a browser-session cookie; the server's idle and absolute limits
 * (sessions.ts) hold either way.
 */
import { describe } from '../../protocol/bytes.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'

export const SESSION_COOKIE = 'peerpacs_session'

/** A Cookie header longer than this is not one a browser of ours sent; it is ignored whole. */
const MAX_COOKIE_HEADER = 8192
/** Session ids are 43 base64url characters; a little room, no more. */
const ID_VALUE = /^[A-Za-z0-9_-]{1,128}$/

function attributes (secure: boolean): string {
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
}

export function sessionCookie (id: string, options: { secure: boolean, maxAgeSeconds?: number }): string {
  if (typeof id !== 'string' || !ID_VALUE.test(id)) throw new InvalidArgumentError(`session cookie: expected a base64url session id of 1 to 128 characters, got ${describe(id)}`)
  const { secure, maxAgeSeconds } = options
  if (maxAgeSeconds !== undefined && (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds <= 0)) {
    throw new InvalidArgumentError(`session cookie: maxAgeSeconds must be a positive whole number, got ${describe(maxAgeSeconds)}`)
  }
  return `${SESSION_COOKIE}=${id}; ${attributes(secure === true)}${maxAgeSeconds === undefined ? '' : `; Max-Age=${maxAgeSeconds}`}`
}

/** Tells the browser to drop the cookie (sign-out, an ended or refused session). */
export function clearedSessionCookie (secure: boolean): string {
  return `${SESSION_COOKIE}=; ${attributes(secure === true)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`
}

/**
 * The session id in a Cookie header, or undefined: no header, no such cookie, an absurdly long
 * header, or a value that cannot be a session id. Other cookies are passed over. When the name
 * appears twice (a cookie planted for a parent domain) the first is taken, as browsers send
 * the most specific first; a planted id is bound to its planter's address and dies on use.
 */
export function sessionIdFrom (cookieHeader: string | undefined): string | undefined {
  if (typeof cookieHeader !== 'string' || cookieHeader.length > MAX_COOKIE_HEADER) return undefined
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=')
    if (eq < 0 || pair.slice(0, eq).trim() !== SESSION_COOKIE) continue
    let value = pair.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    return ID_VALUE.test(value) ? value : undefined
  }
  return undefined
}
