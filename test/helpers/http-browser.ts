/**
 * A browser tab over real HTTP (fetch to a running `peerpacs start`): it keeps the session cookie
 * the node sets and the CSRF token it hands out, sends both like the viewer does, and signs in
 * with a password then, when due, TOTP (enrolled at the first sign-in, codes from the real clock).
 * Every cookie value it was ever given is kept (`cookies`), so a test can look for session ids.
 * The in-process twin is `Browser` in people-front.ts.
 */
import * as OTPAuth from 'otpauth'

export interface HttpAnswer {
  readonly status: number
  readonly body: any
  readonly headers: Headers
}

export class HttpBrowser {
  url: string
  cookie: string | undefined
  csrf: string | undefined
  /** The otpauth:// URI shown at enrolment (copy it to a tab at another site to sign in there). */
  totpUri: string | undefined
  /** Every session id a Set-Cookie gave this tab, oldest first. */
  readonly cookies: string[] = []
  /** Recovery codes the node showed this tab (at TOTP enrolment or when asked for new ones). */
  readonly recoveryCodes: string[] = []

  constructor (url: string, totpUri?: string) {
    this.url = url
    this.totpUri = totpUri
  }

  async request (method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const headers: Record<string, string> = {}
    if (this.cookie !== undefined) headers.cookie = `peerpacs_session=${this.cookie}`
    if (this.csrf !== undefined) headers['x-csrf-token'] = this.csrf
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(new URL(path, this.url), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    for (const set of response.headers.getSetCookie()) {
      const m = /^peerpacs_session=([^;]*)/.exec(set)
      if (m === null) continue
      if (m[1] === '') this.cookie = undefined
      else { this.cookie = m[1]; this.cookies.push(m[1]!) }
    }
    const text = await response.text()
    let parsed: any = text
    try { parsed = JSON.parse(text) } catch { /* not JSON */ }
    if (typeof parsed?.csrf === 'string') this.csrf = parsed.csrf
    if (Array.isArray(parsed?.recoveryCodes)) this.recoveryCodes.push(...parsed.recoveryCodes as string[])
    return { status: response.status, body: parsed, headers: response.headers }
  }

  /** The TOTP code of the enrolled secret now (or `offsetSteps` periods away). */
  code (offsetSteps = 0): string {
    const totp = OTPAuth.URI.parse(this.totpUri!) as OTPAuth.TOTP
    return totp.generate({ timestamp: Date.now() + offsetSteps * 30_000 })
  }

  /**
   * Password, then (when due) TOTP, enrolling at the first sign-in. Returns the last answer: 200
   * with stage "full" when signed in. A code of a period this site accepted already is refused
   * (once per site); then the next period's code, inside the ±1 window, is tried once.
   */
  async signIn (username: string, password: string): Promise<HttpAnswer> {
    this.cookie = undefined
    this.csrf = undefined
    const first = await this.request('POST', '/api/session', { username, password })
    if (first.status !== 200 || first.body.stage === 'full') return first
    if (first.body.secondFactor?.enrol === true) {
      const enrol = await this.request('POST', '/api/session/totp-enrolment', {})
      if (enrol.status !== 200) return enrol
      this.totpUri = enrol.body.uri
    }
    if (this.totpUri === undefined) return first
    const second = await this.request('POST', '/api/session/second-factor', { method: 'totp', code: this.code() })
    if (second.status !== 401) return second
    return await this.request('POST', '/api/session/second-factor', { method: 'totp', code: this.code(1) })
  }
}
