/**
 * People at this site, in one object a running node holds: the account directory (from the log),
 * the account writer, sessions, the sign-in throttle, TOTP replay guard and passkey ceremonies,
 * and the gate every HTTP request passes. Sessions and throttling are this site's own; accounts
 * are the org's (docs/access-control.md).
 */
import { userAuthenticationEvent, nodeSource, OUTCOME, securityAlertEvent, EVENT_TYPE, type Actor } from '../../protocol/audit/index.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { Archive } from '../archive/archive.ts'
import { networkUser, personUser, thisNode } from '../audit/actors.ts'
import type { NodeLog } from '../log/node-log.ts'
import type { Logger } from '../logging/logger.ts'
import { Accounts, directoryOf, type ChangeAuthor } from './accounts.ts'
import type { Account, UserDirectory } from './directory.ts'
import { Gate, type SessionRefusal } from './gate.ts'
import { PasskeyCeremonies, type RelyingParty } from './passkeys.ts'
import { SessionStore, type SessionPolicy } from './sessions.ts'
import { SignInThrottle } from './throttle.ts'
import { TotpGuard } from './totp.ts'

export interface PeopleOptions {
  readonly log: Logger
  /** Cookies carry Secure (the node serves HTTPS). */
  readonly secure: boolean
  readonly relyingParty: RelyingParty
  readonly sessionPolicy?: Partial<SessionPolicy>
  readonly now?: () => number
}

export class People {
  readonly archive: Archive
  readonly directory: UserDirectory
  readonly accounts: Accounts
  readonly sessions: SessionStore
  readonly throttle: SignInThrottle
  readonly totp: TotpGuard
  #passkeys: PasskeyCeremonies
  readonly gate: Gate
  readonly secure: boolean
  readonly now: () => number
  readonly #log: Logger
  readonly #unsubscribe: () => void
  #ending: Promise<unknown> = Promise.resolve()

  constructor (archive: Archive, log: NodeLog, options: PeopleOptions) {
    this.archive = archive
    this.#log = options.log
    this.now = options.now ?? Date.now
    this.secure = options.secure
    this.directory = directoryOf(archive, log)
    this.accounts = new Accounts(archive, this.directory)
    this.sessions = new SessionStore(archive.kv, { now: this.now, ...(options.sessionPolicy === undefined ? {} : { policy: options.sessionPolicy }) })
    this.throttle = new SignInThrottle({ now: this.now })
    this.totp = new TotpGuard(archive.kv)
    this.#passkeys = new PasskeyCeremonies(options.relyingParty, { now: this.now })
    const self = archive.keyring.nodeId
    this.gate = new Gate({
      directory: this.directory,
      sessions: this.sessions,
      secure: options.secure,
      now: this.now,
      ownSite: (study: StudyId) => log.oplog.state.studies.get(study)?.registeredBy === self,
      onSessionRefused: (refusal) => { this.#sessionRefused(refusal) }
    })
    // A disable from any site ends that person's sessions here as soon as its op is durable
    // (the gate would refuse them at their next request anyway; this also clears the list).
    this.#unsubscribe = log.onDurable((ops) => {
      if (ops.some((op) => op.type === 'user.disable')) this.#ending = this.#ending.then(async () => await this.endSessionsOfDisabled()).catch((error: unknown) => this.#log.warn('sessions.end.failed', { error: String(error) }))
    })
  }

  /** Ends every session here of a disabled account; returns how many. */
  async endSessionsOfDisabled (): Promise<number> {
    let ended = 0
    for (const account of this.directory.list()) if (account.disabled) ended += await this.sessions.endAllOf(account.id)
    return ended
  }

  /** Stops listening to the log (the node is stopping). Waits for sessions being ended. */
  async close (): Promise<void> {
    this.#unsubscribe()
    await this.#ending
  }

  get passkeys (): PasskeyCeremonies { return this.#passkeys }

  /** The relying party once the node knows its address (the HTTP port is chosen at start). */
  setRelyingParty (rp: RelyingParty): void {
    this.#passkeys = new PasskeyCeremonies(rp, { now: this.now })
  }

  /** Who is changing an account, for its sealed record and the audit trail. */
  authorOf (account: Account, address: string | undefined): ChangeAuthor {
    return { by: account.id, actor: personUser({ id: account.id, ...account.record }, address) }
  }

  /** 110114 User Authentication: every sign-in and sign-out, succeeded or not. */
  auditSignIn (outcome: 'success' | 'failure', user: Actor, description: string, kind: 'login' | 'logout' = 'login'): void {
    const nodeId = this.archive.keyring.nodeId
    this.archive.audit.emit(userAuthenticationEvent({
      time: this.now(),
      source: nodeSource(nodeId),
      kind,
      ...(outcome === 'success' ? {} : { outcome: OUTCOME.minorFailure }),
      outcomeDescription: description,
      user,
      authenticator: thisNode(nodeId)
    }))
  }

  /** 110113 Security Alert about a person (a stolen cookie, a cloned passkey, emergency access). */
  alert (types: Parameters<typeof securityAlertEvent>[0]['types'], reporter: Actor, subject: string, description: string): void {
    const nodeId = this.archive.keyring.nodeId
    this.archive.audit.emit(securityAlertEvent({
      time: this.now(), source: nodeSource(nodeId), types, reporter, performers: [thisNode(nodeId)],
      subjects: [{ kind: 'user', id: subject, description }]
    }))
  }

  #sessionRefused (refusal: SessionRefusal): void {
    // An expired session is routine; a cookie from another network or for a disabled account is not.
    if (refusal.why !== 'address' && refusal.why !== 'disabled') return
    this.#log.warn('session.refused', { why: refusal.why })
    this.alert([EVENT_TYPE.useOfRestrictedFunction], networkUser('unauthenticated', refusal.address), refusal.user ?? 'unknown',
      refusal.why === 'address' ? 'a session cookie was presented from another network; the session was ended' : 'a session of a disabled account was ended')
  }
}
