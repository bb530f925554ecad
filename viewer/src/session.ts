/**
 * The session as the node describes it (node/people/session-routes.ts), and the calls that move
 * it: sign in with a password, enrol or give a TOTP code, sign out. The cookie itself is
 * HttpOnly: the page never sees it, only the CSRF token that goes with it.
 */
import { api, ApiError, setCsrf } from './api.ts'

export interface SessionUser {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly role: string
}

export interface SessionAnswer {
  readonly stage: 'mfa' | 'full'
  readonly csrf: string
  readonly user: SessionUser
  readonly secondFactor?: { readonly methods: readonly string[], readonly enrol: boolean }
  readonly recoveryCodes?: readonly string[]
}

export interface TotpEnrolment {
  readonly uri: string
  readonly qrSvg: string
}

function keep (answer: SessionAnswer): SessionAnswer {
  setCsrf(answer.csrf)
  return answer
}

/** The current session, or undefined when nobody is signed in here. */
export async function currentSession (): Promise<SessionAnswer | undefined> {
  try {
    return keep(await api<SessionAnswer>('GET', '/api/session'))
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { setCsrf(undefined); return undefined }
    throw error
  }
}

export async function signIn (username: string, password: string): Promise<SessionAnswer> {
  return keep(await api<SessionAnswer>('POST', '/api/session', { username, password }))
}

export async function beginTotpEnrolment (): Promise<TotpEnrolment> {
  return await api<TotpEnrolment>('POST', '/api/session/totp-enrolment')
}

export async function secondFactor (method: 'totp' | 'recovery', code: string): Promise<SessionAnswer> {
  return keep(await api<SessionAnswer>('POST', '/api/session/second-factor', { method, code }))
}

export async function signOut (): Promise<void> {
  try {
    await api('DELETE', '/api/session')
  } finally {
    setCsrf(undefined)
  }
}

/** The base32 secret of an otpauth:// URI, for typing into an app that cannot scan. */
export function secretOf (uri: string): string {
  try {
    return new URL(uri).searchParams.get('secret') ?? ''
  } catch {
    return ''
  }
}
