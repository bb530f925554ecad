/**
 * Brute-force defence for sign-in, in memory at each site (a restart forgets it; the limits are
 * per site). The caller asks check() before it looks at a password, and reports failure() or
 * success() after. `account` is the normalised username whether or not such a user exists, so
 * the throttle answers an unknown name exactly as a known one and reveals nothing. Addresses are
 * compared as networks (client-address.ts: IPv4 address, IPv6 /64).
 *
 * The policy, with its defaults:
 * 1. Per (account, address) pair, exponential backoff: 5 failures are free, then each further
 *    failure makes that pair wait 1 s, 2 s, 4 s, … capped at 15 min. A pair's count is
 *    forgotten 24 h after its last failure, and reset by a success. This is the only limit one
 *    address can bring upon an account, and it binds that address alone: an attacker at one
 *    address hammering an account slows himself down, never the real user at another.
 * 2. Per account, a temporary lock: 10 failures within 15 min coming from at least 3 different
 *    addresses lock the account for 15 min, except from addresses where that account signed in
 *    successfully in the last 30 days (so a distributed guessing attack cannot keep the user out
 *    of their usual places). Each further lock within 24 h of the last doubles, up to 1 h.
 * 3. Per address, a temporary lock: 20 failures within 15 min from one address, whichever
 *    accounts they name (password spraying), lock that address for 15 min, again except for the
 *    accounts that signed in successfully from it in the last 30 days (an office behind one NAT
 *    is not locked out by one sprayer among it). Each further lock within 24 h of the last
 *    doubles, up to 4 h.
 *    Failures on such a known (account, address) pair count only toward rule 1.
 * Every wait is bounded (by default 15 min for a pair, 1 h for an account, 4 h for an address)
 * and ends by itself; nothing is ever permanent, and release() lets an admin end an account's
 * waits at once. A success resets only its own pair: it does not clear an account or address
 * lock, or a sprayer holding one valid account could reset his own count by signing in to it.
 * A failure reported while check() would refuse is not counted, so no caller can stretch a lock.
 *
 * Measured with the defaults (test/unit/node/people/throttle.test.ts): one address hammering
 * one account as fast as allowed gets about 110 guesses a day; one address spraying many
 * accounts gets 20 per lock, about 200 a day once the locks reach 4 h.
 *
 * Memory is bounded: each of the four tables (pairs, accounts, addresses, known pairs) holds at
 * most `maxEntries` (default 10 000) records and, when full, evicts the least recently touched
 * quarter. Names longer than 128 characters are kept as their SHA-256, so a record is a few
 * hundred bytes: the four full tables measured ~10 MB of heap at the default, however many
 * names and addresses are tried. Known pairs are only ever added by a correct password, so
 * a flood of failures cannot push them out.
 */
import { createHash } from 'node:crypto'
import { describe } from '../../protocol/bytes.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'
import { networkOf } from './client-address.ts'

export interface ThrottlePolicy {
  /** Rule 1: failures of one account from one address before any wait. */
  readonly pairFreeFailures: number
  /** Rule 1: the first wait; each further failure doubles it … */
  readonly pairBaseDelayMs: number
  /** … up to this. */
  readonly pairMaxDelayMs: number
  /** Rule 2: failures of one account within accountWindowMs … */
  readonly accountFailures: number
  /** … from at least this many addresses … */
  readonly accountAddresses: number
  readonly accountWindowMs: number
  /** … lock the account (from addresses it is not known at) this long, doubling per lock … */
  readonly accountLockMs: number
  /** … up to this. */
  readonly accountLockMaxMs: number
  /** Rule 3: failures from one address within addressWindowMs … */
  readonly addressFailures: number
  readonly addressWindowMs: number
  /** … lock the address (for accounts not known there) this long, doubling per lock … */
  readonly addressLockMs: number
  /** … up to this. */
  readonly addressLockMaxMs: number
  /** A pair's failures, and the count of an account's or address's locks, are forgotten this long after the last. */
  readonly forgetMs: number
  /** A success makes its (account, address) pair known for this long. */
  readonly knownForMs: number
  /** Records per table before the least recently touched quarter is evicted. */
  readonly maxEntries: number
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = Object.freeze({
  pairFreeFailures: 5,
  pairBaseDelayMs: 1000,
  pairMaxDelayMs: 15 * MINUTE,
  accountFailures: 10,
  accountAddresses: 3,
  accountWindowMs: 15 * MINUTE,
  accountLockMs: 15 * MINUTE,
  accountLockMaxMs: HOUR,
  addressFailures: 20,
  addressWindowMs: 15 * MINUTE,
  addressLockMs: 15 * MINUTE,
  addressLockMaxMs: 4 * HOUR,
  forgetMs: 24 * HOUR,
  knownForMs: 30 * 24 * HOUR,
  maxEntries: 10_000
})

export type Verdict = { allowed: true } | { allowed: false, retryAfterMs: number, reason: 'account' | 'address' }

interface PairRecord { failures: number, last: number, until: number }
/** A window of failures (account or address): its start and count, its lock, and how many locks lately. */
interface WindowRecord { start: number, failures: number, until: number, locks: number, lastLock: number, addresses: Set<string> | undefined }

/**
 * A Map that keeps at most `max` entries: past that, it keeps the youngest three quarters (by
 * last set) and drops the rest in one go. Evicting one entry at a time from the front is
 * quadratic in V8 (each delete leaves a hole that the next front lookup walks over); the
 * rebuild costs O(max) once per max/4 insertions.
 */
class BoundedMap<V> {
  #map = new Map<string, V>()
  readonly #max: number
  constructor (max: number) { this.#max = max }
  get size (): number { return this.#map.size }
  get (key: string): V | undefined { return this.#map.get(key) }
  delete (key: string): void { this.#map.delete(key) }
  deleteWhere (doomed: (key: string) => boolean): void {
    for (const key of [...this.#map.keys()]) if (doomed(key)) this.#map.delete(key)
  }
  set (key: string, value: V): void {
    this.#map.delete(key) // re-inserting moves it to the young end
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#map = new Map([...this.#map].slice(-Math.max(1, Math.floor(this.#max * 3 / 4))))
  }
}

/** Long names are kept as their hash, so a 1 MB username costs what a short one does. */
function nameKey (text: string): string {
  return text.length <= 128 ? text : 'sha256:' + createHash('sha256').update(text, 'utf8').digest('hex')
}

const allowed: Verdict = Object.freeze({ allowed: true })

export class SignInThrottle {
  readonly #policy: ThrottlePolicy
  readonly #now: () => number
  readonly #pairs: BoundedMap<PairRecord>
  readonly #accounts: BoundedMap<WindowRecord>
  readonly #addresses: BoundedMap<WindowRecord>
  readonly #known: BoundedMap<number>

  constructor (options: { policy?: Partial<ThrottlePolicy>, now?: () => number } = {}) {
    const policy = { ...DEFAULT_THROTTLE_POLICY, ...options.policy }
    for (const [name, value] of Object.entries(policy)) {
      if (!Number.isSafeInteger(value) || value < (name === 'pairFreeFailures' ? 0 : 1)) {
        throw new InvalidArgumentError(`throttle policy ${name}: expected a positive whole number, got ${describe(value)}`)
      }
    }
    this.#policy = Object.freeze(policy)
    this.#now = options.now ?? Date.now
    this.#pairs = new BoundedMap(policy.maxEntries)
    this.#accounts = new BoundedMap(policy.maxEntries)
    this.#addresses = new BoundedMap(policy.maxEntries)
    this.#known = new BoundedMap(policy.maxEntries)
  }

  get policy (): ThrottlePolicy { return this.#policy }

  /** Records held, per table (for tests and the status page). */
  get size (): { pairs: number, accounts: number, addresses: number, known: number } {
    return { pairs: this.#pairs.size, accounts: this.#accounts.size, addresses: this.#addresses.size, known: this.#known.size }
  }

  check (account: string, address: string): Verdict {
    const now = this.#now()
    const { pair, acct, net } = this.#keys(account, address)
    let wait = 0
    let reason: 'account' | 'address' = 'account'
    const p = this.#pairs.get(pair)
    if (p !== undefined && p.until > now) wait = p.until - now
    if (!this.#isKnown(pair, now)) {
      const a = this.#accounts.get(acct)
      if (a !== undefined && a.until - now > wait) wait = a.until - now
      const n = this.#addresses.get(net)
      if (n !== undefined && n.until - now > wait) { wait = n.until - now; reason = 'address' }
    }
    return wait > 0 ? { allowed: false, retryAfterMs: wait, reason } : allowed
  }

  /** Reports a refused password (or unknown name); only call it after check() allowed the attempt. */
  failure (account: string, address: string): void {
    const now = this.#now()
    const policy = this.#policy
    const { pair, acct, net } = this.#keys(account, address)
    // A failure the throttle would have refused to let happen is not counted: a caller that
    // reports one anyway cannot stretch a lock past its bound.
    if (!this.check(account, address).allowed) return

    const old = this.#pairs.get(pair)
    const failures = (old === undefined || now - old.last >= policy.forgetMs ? 0 : old.failures) + 1
    const over = failures - policy.pairFreeFailures
    const delay = over <= 0 ? 0 : Math.min(policy.pairMaxDelayMs, policy.pairBaseDelayMs * 2 ** Math.min(over - 1, 40))
    this.#pairs.set(pair, { failures, last: now, until: delay === 0 ? 0 : Math.max(old?.until ?? 0, now + delay) })

    if (this.#isKnown(pair, now)) return // a known pair only ever meets rule 1

    const a = this.#window(this.#accounts, acct, now, policy.accountWindowMs, true)
    if (a.addresses!.size < policy.accountAddresses) a.addresses!.add(net)
    if (a.failures >= policy.accountFailures && a.addresses!.size >= policy.accountAddresses) {
      this.#lock(this.#accounts, acct, a, now, policy.accountLockMs, policy.accountLockMaxMs)
    }

    const n = this.#window(this.#addresses, net, now, policy.addressWindowMs, false)
    if (n.failures >= policy.addressFailures) this.#lock(this.#addresses, net, n, now, policy.addressLockMs, policy.addressLockMaxMs)
  }

  success (account: string, address: string): void {
    const { pair } = this.#keys(account, address)
    this.#pairs.delete(pair)
    this.#known.set(pair, this.#now())
  }

  /** Ends every wait of an account, from every address (an admin who has checked who is asking). */
  release (account: string): void {
    const { acct } = this.#keys(account, '')
    this.#accounts.delete(acct)
    this.#pairs.deleteWhere((pair) => pair.startsWith(acct + '\u0000'))
  }

  #keys (account: string, address: string): { pair: string, acct: string, net: string } {
    if (typeof account !== 'string') throw new InvalidArgumentError(`sign-in throttle: expected the account name as text, got ${describe(account)}`)
    if (typeof address !== 'string') throw new InvalidArgumentError(`sign-in throttle: expected the client address as text, got ${describe(address)}`)
    const acct = nameKey(account)
    const net = networkOf(address)
    return { pair: `${acct}\u0000${net}`, acct, net }
  }

  #isKnown (pair: string, now: number): boolean {
    const at = this.#known.get(pair)
    return at !== undefined && now - at < this.#policy.knownForMs
  }

  /** The window record for key with this failure counted; a lapsed window starts afresh (its lock history stays). */
  #window (table: BoundedMap<WindowRecord>, key: string, now: number, windowMs: number, tracksAddresses: boolean): WindowRecord {
    const old = table.get(key)
    const record: WindowRecord = old !== undefined && now - old.start < windowMs
      ? { ...old, failures: old.failures + 1 }
      : { start: now, failures: 1, until: old?.until ?? 0, locks: old?.locks ?? 0, lastLock: old?.lastLock ?? 0, addresses: tracksAddresses ? new Set() : undefined }
    table.set(key, record)
    return record
  }

  /** Locks for lockMs doubled per recent lock (up to maxMs) and starts a new window, so the same failures do not lock twice. */
  #lock (table: BoundedMap<WindowRecord>, key: string, record: WindowRecord, now: number, lockMs: number, maxMs: number): void {
    const locks = (record.locks > 0 && now - record.lastLock < this.#policy.forgetMs ? record.locks : 0) + 1
    const ms = Math.min(maxMs, lockMs * 2 ** Math.min(locks - 1, 40))
    table.set(key, { start: now, failures: 0, until: Math.max(record.until, now + ms), locks, lastLock: now, addresses: record.addresses === undefined ? undefined : new Set() })
  }
}
