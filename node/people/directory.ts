/**
 * The accounts this site can see, opened from the log's state: who each user is, their current
 * record (the sealed part of the op the state names), whether they are disabled, and which
 * account a username names. Sign-in is checked here, offline, from this site's own copy of the
 * log. Records are opened once per op and cached; a record that does not open (an epoch this
 * node does not hold yet, a damaged box) makes the account unusable here and is reported, never
 * guessed at.
 *
 * Usernames are unique by usernameKey. Two sites can add or rename to one username concurrently;
 * then the account created first (its add op's time, then its id) keeps the name and the others
 * are listed with `conflict` and cannot sign in by it until an admin renames them.
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { fromHex, toHex } from '../../protocol/encoding.ts'
import type { OrgId } from '../../protocol/genesis.ts'
import type { OrgState, SignedOp, UserState } from '../../protocol/log/index.ts'
import { openUserRecord } from '../../protocol/people/seal.ts'
import { decodeUserRecord, usernameKey, type UserRecord } from './user-record.ts'

/** What the directory reads: the log's state and ops, and the epoch keys this node holds. */
export interface DirectorySource {
  readonly org: OrgId
  readonly provider: CryptoProvider
  state (): OrgState
  op (id: string): SignedOp | undefined
  /** The epoch's key, or undefined when this node does not hold it. */
  epochKey (epoch: string): Uint8Array | undefined
}

export interface Account {
  /** 32 lowercase hex. */
  readonly id: string
  readonly record: UserRecord
  /** The op holding the record. */
  readonly recordOp: string
  readonly disabled: boolean
  /** When its add op was signed (ms). */
  readonly created: number
  /** Another account holds this username (see the header). */
  readonly conflict: boolean
}

export interface UnreadableAccount {
  readonly id: string
  readonly why: string
}

interface Opened { readonly recordOp: string, readonly record: UserRecord | undefined, readonly why?: string, readonly created: number }

export class UserDirectory {
  readonly #source: DirectorySource
  readonly #opened = new Map<string, Opened>()
  #signature = ''
  #accounts: Account[] = []
  #byName = new Map<string, Account>()
  #byId = new Map<string, Account>()
  #unreadable: UnreadableAccount[] = []

  constructor (source: DirectorySource) {
    this.#source = source
  }

  /** Every account this site can read, by creation. */
  list (): readonly Account[] { this.#refresh(); return this.#accounts }
  /** Accounts whose record does not open here, and why. */
  unreadable (): readonly UnreadableAccount[] { this.#refresh(); return this.#unreadable }
  byId (id: string): Account | undefined { this.#refresh(); return this.#byId.get(id) }
  /** The account a username names (case-insensitive), unless it is in conflict. */
  byUsername (name: string): Account | undefined { this.#refresh(); return this.#byName.get(usernameKey(name)) }

  #refresh (): void {
    const users = this.#source.state().users
    let signature = ''
    for (const u of users.values()) signature += `${u.id}:${u.record.op}:${u.disables.length};`
    if (signature === this.#signature) return
    const accounts: Account[] = []
    const unreadable: UnreadableAccount[] = []
    for (const u of users.values()) {
      const opened = this.#open(u)
      if (opened.record === undefined) { unreadable.push({ id: u.id, why: opened.why ?? 'unknown' }); continue }
      accounts.push({ id: u.id, record: opened.record, recordOp: opened.recordOp, disabled: u.disables.length > 0, created: opened.created, conflict: false })
    }
    accounts.sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1))
    const byName = new Map<string, Account>()
    const final: Account[] = []
    for (const a of accounts) {
      const key = usernameKey(a.record.username)
      const account = byName.has(key) ? { ...a, conflict: true } : a
      if (!account.conflict) byName.set(key, account)
      final.push(account)
    }
    this.#accounts = final
    this.#byName = byName
    this.#byId = new Map(final.map((a) => [a.id, a]))
    this.#unreadable = unreadable
    this.#signature = signature
  }

  #open (u: UserState): Opened {
    const cached = this.#opened.get(u.id)
    if (cached !== undefined && cached.recordOp === u.record.op && cached.record !== undefined) return cached
    const created = this.#source.op(u.addOp)?.time ?? 0
    const op = this.#source.op(u.record.op)
    let opened: Opened
    if (op === undefined || (op.type !== 'user.add' && op.type !== 'user.update')) {
      opened = { recordOp: u.record.op, record: undefined, why: 'its record op is not in this node\'s log', created }
    } else {
      const epoch = toHex(op.body.epoch)
      const key = this.#source.epochKey(epoch)
      if (key === undefined) opened = { recordOp: u.record.op, record: undefined, why: `this node does not hold epoch ${epoch.slice(0, 12)}… yet`, created }
      else {
        try {
          const bytes = openUserRecord(this.#source.provider, key, { org: this.#source.org, user: fromHex(u.id), type: op.type }, op.body.sealed)
          opened = { recordOp: u.record.op, record: decodeUserRecord(bytes), created }
        } catch (error) {
          opened = { recordOp: u.record.op, record: undefined, why: `its record does not open: ${(error as Error).message.slice(0, 200)}`, created }
        }
      }
    }
    this.#opened.set(u.id, opened)
    return opened
  }
}
