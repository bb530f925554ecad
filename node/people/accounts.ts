/**
 * Changing people's accounts: each change is a signed `user.*` op of this node whose record is
 * sealed under the newest epoch key it holds (docs/protocol.md "Users"), tried on a scratch copy
 * of the log first (members/change.ts), then audited as a 110113 Security Alert with 110137
 * "User Security Attributes Changed" naming the account and who asked. Who may ask (an admin
 * user, the site's operator at the command line) is decided by the caller: the HTTP routes by
 * the signed-in person's role, the CLI by access to the data dir.
 */
import { EVENT_TYPE, nodeSource, securityAlertEvent, type Actor } from '../../protocol/audit/index.ts'
import { fromHex, toHex } from '../../protocol/encoding.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import type { UserOpType } from '../../protocol/log/index.ts'
import { sealUserRecord } from '../../protocol/people/seal.ts'
import type { Archive } from '../archive/archive.ts'
import { thisNode } from '../audit/actors.ts'
import { writeSteps } from '../members/change.ts'
import type { NodeLog } from '../log/node-log.ts'
import { UserDirectory, type Account } from './directory.ts'
import { checkPasswordPolicy, hashPassword } from './password.ts'
import { MFA_REQUIRED, type PersonRole } from './roles.ts'
import { displayNameProblem, encodeUserNote, encodeUserRecord, usernameProblem, type UserRecord } from './user-record.ts'

/** A change to an account that cannot be made as asked: nothing was written. */
export class AccountChangeError extends PeerpacsError {
  static readonly code = 'ACCOUNT_CHANGE'
  constructor (message: string, hint: string) { super(AccountChangeError.code, message, { hint }) }
}

/** No account by that id or username here. */
export class UserNotFoundError extends PeerpacsError {
  static readonly code = 'USER_NOT_FOUND'
  constructor (reference: string) { super(UserNotFoundError.code, `no account "${reference.slice(0, 80)}" at this site`, { hint: 'list accounts with `peerpacs users list`; an account added at another site appears once the log has synced' }) }
}

export interface NewAccount {
  readonly username: string
  readonly displayName?: string
  readonly role: PersonRole
  /** Undefined: a service account, which signs in only with API tokens. */
  readonly password?: string
  /** Require a second factor even where the role does not. */
  readonly mfa?: boolean
}

/** Who asked for a change: written as `by` in the sealed record, and the audit record's reporter. */
export interface ChangeAuthor {
  /** A user id, or "cli:NODE" for the site's operator. */
  readonly by: string
  readonly actor: Actor
}

/** The directory over an open archive's log. */
export function directoryOf (archive: Archive, log: NodeLog): UserDirectory {
  const keyring = archive.keyring
  return new UserDirectory({
    org: keyring.orgId,
    provider: archive.provider,
    state: () => log.oplog.state,
    op: (id) => log.oplog.get(id),
    epochKey: (epoch) => { try { return keyring.epochKey(epoch) } catch { return undefined } }
  })
}

export class Accounts {
  readonly #archive: Archive
  readonly directory: UserDirectory

  constructor (archive: Archive, directory: UserDirectory) {
    this.#archive = archive
    this.directory = directory
  }

  /** By id (32 hex) or username. */
  find (reference: string): Account {
    const account = /^[0-9a-f]{32}$/.test(reference) ? this.directory.byId(reference) : undefined
    const found = account ?? this.directory.byUsername(reference)
    if (found === undefined) throw new UserNotFoundError(reference)
    return found
  }

  async add (spec: NewAccount, author: ChangeAuthor): Promise<Account> {
    const problem = usernameProblem(spec.username)
    if (problem !== undefined) throw new AccountChangeError(`the username "${String(spec.username).slice(0, 80)}" is not allowed: ${problem}`, 'choose another username')
    const displayName = spec.displayName ?? spec.username
    const nameProblem = displayNameProblem(displayName)
    if (nameProblem !== undefined) throw new AccountChangeError(`the display name is not allowed: ${nameProblem}`, 'choose another display name')
    if (this.directory.byUsername(spec.username) !== undefined) throw new AccountChangeError(`the username "${spec.username.slice(0, 80)}" is taken`, 'choose another username, or change the existing account')
    let password = null
    if (spec.password !== undefined) {
      checkPasswordPolicy(spec.password, { username: spec.username, displayName })
      password = await hashPassword(spec.password)
    }
    const record: UserRecord = {
      username: spec.username.normalize('NFC'),
      displayName,
      role: spec.role,
      password,
      totp: null,
      passkeys: [],
      recovery: [],
      mfa: spec.mfa ?? MFA_REQUIRED.has(spec.role),
      by: author.by,
      time: Date.now()
    }
    const id = toHex(this.#archive.random(16))
    await this.#write('user.add', id, encodeUserRecord(record), author, `account created with role ${record.role}`)
    return this.find(id)
  }

  /** Writes a new record for the account: `change` gets the current one and returns the next. */
  async update (reference: string, change: (record: UserRecord) => UserRecord | Promise<UserRecord>, author: ChangeAuthor, what: string): Promise<Account> {
    const account = this.find(reference)
    const next = await change(account.record)
    if (next.username !== account.record.username) {
      const problem = usernameProblem(next.username)
      if (problem !== undefined) throw new AccountChangeError(`the username "${next.username.slice(0, 80)}" is not allowed: ${problem}`, 'choose another username')
      const holder = this.directory.byUsername(next.username)
      if (holder !== undefined && holder.id !== account.id) throw new AccountChangeError(`the username "${next.username.slice(0, 80)}" is taken`, 'choose another username')
    }
    await this.#write('user.update', account.id, encodeUserRecord({ ...next, by: author.by, time: Date.now() }), author, what)
    return this.find(account.id)
  }

  async setPassword (reference: string, password: string, author: ChangeAuthor): Promise<Account> {
    const account = this.find(reference)
    checkPasswordPolicy(password, { username: account.record.username, displayName: account.record.displayName })
    const hash = await hashPassword(password)
    return await this.update(account.id, (r) => ({ ...r, password: hash }), author, 'password changed')
  }

  async setRole (reference: string, role: PersonRole, author: ChangeAuthor): Promise<Account> {
    return await this.update(reference, (r) => ({ ...r, role, mfa: r.mfa || MFA_REQUIRED.has(role) }), author, `role set to ${role}`)
  }

  /** Removes every second factor and recovery code: the person enrols again at the next sign-in. */
  async resetMfa (reference: string, author: ChangeAuthor): Promise<Account> {
    return await this.update(reference, (r) => ({ ...r, totp: null, passkeys: [], recovery: [] }), author, 'second factors reset')
  }

  async disable (reference: string, reason: string, author: ChangeAuthor): Promise<Account> {
    const account = this.find(reference)
    if (account.disabled) return account
    await this.#write('user.disable', account.id, encodeUserNote({ by: author.by, reason }), author, `disabled: ${reason}`)
    return this.find(account.id)
  }

  async enable (reference: string, reason: string, author: ChangeAuthor): Promise<Account> {
    const account = this.find(reference)
    if (!account.disabled) return account
    await this.#write('user.enable', account.id, encodeUserNote({ by: author.by, reason }), author, `enabled: ${reason}`)
    return this.find(account.id)
  }

  async #write (type: UserOpType, id: string, plaintext: Uint8Array, author: ChangeAuthor, what: string): Promise<void> {
    const archive = this.#archive
    const keyring = archive.keyring
    if (!keyring.hasEpochKey) throw new AccountChangeError('this node holds no epoch key yet, so it cannot seal an account record', 'wait until the log has synced with a site member, or change accounts at another site')
    const epoch = keyring.currentEpoch
    const user = fromHex(id)
    const sealed = sealUserRecord(archive.provider, archive.random, keyring.epochKey(epoch), { org: keyring.orgId, user, type }, plaintext)
    const log = await archive.log()
    const ops = await writeSteps(archive, log, [{ type, body: { user, epoch: fromHex(epoch), sealed } }], `${type} for account ${id}`)
    await archive.auditor.record(securityAlertEvent({
      time: Date.now(),
      source: nodeSource(keyring.nodeId),
      types: [EVENT_TYPE.userSecurityAttributesChanged],
      reporter: author.actor,
      performers: [thisNode(keyring.nodeId)],
      subjects: [{ kind: 'user', id, description: `${type} op=${ops[0]!.idHex}: ${what}` }]
    }))
  }
}
