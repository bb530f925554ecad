/**
 * The idle-logoff clock, without the page (so it is tested with an injected time): how long a
 * person may stay without input before the page signs them out, when to warn, and when to tell
 * the node they are still there.
 *
 * The deadline is the earliest of: the last input + the session's idle limit; the node's own idle
 * expiry as last reported (GET /api/session `expires.idle`: it counts requests, not input); the
 * session's absolute end. The warning shows WARNING_MS before it (half the idle limit when that
 * is shorter). Input while no warning shows counts, and asks for a ping (GET /api/session) at most
 * every PING_EVERY_MS, so a person reading images without requests keeps the node's session alive
 * too. While the warning shows, only "stay signed in" counts: a stray mouse move does not.
 */
export const WARNING_MS = 60_000
export const PING_EVERY_MS = 30_000

/** What GET /api/session (and the sign-in answers) say about the session's end. */
export interface SessionExpiry {
  readonly limits?: { readonly idleMs: number, readonly absoluteMs: number }
  readonly expires?: { readonly idle: string, readonly absolute: string }
}

export type IdlePhase = { readonly phase: 'active', readonly remainingMs: number }
  | { readonly phase: 'warning', readonly remainingMs: number }
  | { readonly phase: 'expired', readonly remainingMs: 0 }

export class IdleClock {
  #idleMs: number
  #serverIdleAt: number
  #absoluteAt: number
  #lastInput: number
  #lastPing: number
  #warning = false

  constructor (expiry: SessionExpiry, now: number) {
    this.#idleMs = expiry.limits?.idleMs ?? 15 * 60_000
    this.#lastInput = now
    this.#lastPing = now
    this.#serverIdleAt = Number.POSITIVE_INFINITY
    this.#absoluteAt = Number.POSITIVE_INFINITY
    this.update(expiry, now)
  }

  get idleMs (): number { return this.#idleMs }

  /** The warning's lead: a minute, or half the idle limit when that is shorter. */
  get leadMs (): number { return Math.min(WARNING_MS, Math.floor(this.#idleMs / 2)) }

  /** A fresh answer from the node (a ping, or "stay signed in"): its limits and expiry times. */
  update (expiry: SessionExpiry, now: number): void {
    if (expiry.limits !== undefined) this.#idleMs = expiry.limits.idleMs
    const idle = expiry.expires === undefined ? Number.NaN : Date.parse(expiry.expires.idle)
    const absolute = expiry.expires === undefined ? Number.NaN : Date.parse(expiry.expires.absolute)
    if (!Number.isNaN(idle)) this.#serverIdleAt = idle
    if (!Number.isNaN(absolute)) this.#absoluteAt = absolute
    this.#lastPing = now
  }

  /** The person did something; true when the node should hear of it now (a ping is due). */
  input (now: number): boolean {
    if (this.#warning || this.phase(now).phase === 'expired') return false
    this.#lastInput = now
    return now - this.#lastPing >= PING_EVERY_MS
  }

  /** "Stay signed in": input that counts even while the warning shows; a ping follows. */
  stay (now: number): void {
    this.#warning = false
    this.#lastInput = now
  }

  deadline (): number {
    return Math.min(this.#lastInput + this.#idleMs, this.#serverIdleAt, this.#absoluteAt)
  }

  phase (now: number): IdlePhase {
    const remainingMs = this.deadline() - now
    if (remainingMs <= 0) return { phase: 'expired', remainingMs: 0 }
    if (remainingMs <= this.leadMs) { this.#warning = true; return { phase: 'warning', remainingMs } }
    this.#warning = false
    return { phase: 'active', remainingMs }
  }
}
