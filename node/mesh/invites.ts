/**
 * This node's invites (docs/protocol.md "Enrollment"): node-local records in the archive's kv
 * under ['invite', <invite key's node id>]. An invite is a one-time Ed25519 key: the code handed
 * to the admin carries its seed, this node keeps only its public half (as the PeerId a joining
 * node presents), the grant, the expiry and whether it was used. The seed is never stored: the
 * code shown once is its only copy.
 *
 * `admits` is what the connection gater asks, synchronously, so the records live in memory too
 * (loaded at open). `claim` marks an invite used in memory at once (two concurrent claims cannot
 * both win) and durably before it returns, so the enrollment writes nothing for an invite that
 * could be used again after a crash.
 */
import type { PeerId } from '@libp2p/interface'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../../protocol/canonical.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { nodeIdFromPublicKey, nodeKeyFromSecret } from '../../protocol/identity.ts'
import { encodeInvite, InviteExpiredError } from '../../protocol/invite.ts'
import { boundedBytes, boundedInt, boundedText, strictMap } from '../../protocol/log/fields.ts'
import { isLevel, isRole, isScope, type Level, type Role, type Scope } from '../../protocol/log/index.ts'
import type { Archive } from '../archive/archive.ts'
import { keys } from '../store/key-space.ts'

/** Longest validity an invite may be given. */
export const MAX_INVITE_VALIDITY_MS = 30 * 24 * 3600_000

export interface InviteRecord {
  /** The invite key's node id: the PeerId a node enrolling with it presents. */
  readonly id: string
  readonly publicKey: Uint8Array
  readonly role: Role
  readonly level: Level
  readonly scope: Scope
  readonly created: number
  readonly expires: number
  /** When it was claimed, and by which node; or withdrawn by an admin. */
  readonly used?: number
  readonly usedBy?: string
  readonly withdrawn?: number
}

export interface CreateInviteOptions {
  readonly role: Role
  readonly level: Level
  readonly scope: Scope
  /** How long the invite is valid, from now (ms). */
  readonly expiresMs: number
  /** This node's multiaddrs a new node can dial; /p2p/<this node id> is added where missing. */
  readonly addrs: readonly string[]
}

export class InviteUnknownError extends PeerpacsError {
  static readonly code = 'INVITE_UNKNOWN'
  constructor (id: string) { super(InviteUnknownError.code, `no invite of this node has the key ${id}`, { hint: 'the code was made by another node, or for another data dir' }) }
}

export class InviteUsedError extends PeerpacsError {
  static readonly code = 'INVITE_USED'
  constructor (record: InviteRecord) {
    super(InviteUsedError.code, record.withdrawn !== undefined
      ? `invite ${record.id} was withdrawn at ${new Date(record.withdrawn).toISOString()}`
      : `invite ${record.id} was used already (at ${new Date(record.used!).toISOString()}${record.usedBy === undefined ? '' : ` by ${record.usedBy}`})`,
    { hint: 'an invite admits one node once; ask the admin for a new one' })
  }
}

export class InviteOptionsError extends PeerpacsError {
  static readonly code = 'INVITE_OPTIONS'
  constructor (message: string, hint: string) { super(InviteOptionsError.code, message, { hint }) }
}

type InviteArchive = Pick<Archive, 'kv' | 'provider' | 'random' | 'keyring'>

function encodeRecord (r: InviteRecord): Uint8Array {
  const map: Record<string, CanonicalValue> = { v: 1, key: r.publicKey, role: r.role, level: r.level, scope: r.scope, created: r.created, expires: r.expires }
  if (r.used !== undefined) map.used = r.used
  if (r.usedBy !== undefined) map.usedBy = r.usedBy
  if (r.withdrawn !== undefined) map.withdrawn = r.withdrawn
  return encodeCanonical(map)
}

function decodeRecord (bytes: Uint8Array): InviteRecord {
  const w = 'invite record'
  const m = strictMap(decodeCanonical(bytes), w, ['v', 'key', 'role', 'level', 'scope', 'created', 'expires'], ['used', 'usedBy', 'withdrawn'])
  if (m.v !== 1 || !isRole(m.role) || !isLevel(m.level) || !isScope(m.scope)) throw new Error(`${w}: unknown version or grant`)
  const publicKey = boundedBytes(m, 'key', w, 32, 32)
  return {
    id: nodeIdFromPublicKey(publicKey),
    publicKey,
    role: m.role,
    level: m.level,
    scope: m.scope,
    created: boundedInt(m, 'created', w, 0, Number.MAX_SAFE_INTEGER),
    expires: boundedInt(m, 'expires', w, 0, Number.MAX_SAFE_INTEGER),
    ...(m.used === undefined ? {} : { used: boundedInt(m, 'used', w, 0, Number.MAX_SAFE_INTEGER) }),
    ...(m.usedBy === undefined ? {} : { usedBy: boundedText(m, 'usedBy', w, 1, 100) }),
    ...(m.withdrawn === undefined ? {} : { withdrawn: boundedInt(m, 'withdrawn', w, 0, Number.MAX_SAFE_INTEGER) })
  }
}

function withP2p (addr: string, nodeId: string): string {
  const at = addr.indexOf('/p2p/')
  if (at < 0) return `${addr}/p2p/${nodeId}`
  if (addr.slice(at + 5) !== nodeId) throw new InviteOptionsError(`address ${addr} names another node`, `give this node's own addresses (ending in /p2p/${nodeId} or without /p2p/)`)
  return addr
}

export class InviteStore {
  readonly #archive: InviteArchive
  readonly #now: () => number
  readonly #records = new Map<string, InviteRecord>()

  private constructor (archive: InviteArchive, now: () => number) {
    this.#archive = archive
    this.#now = now
  }

  /** Loads this node's invites. A record that does not read is skipped (it admits nobody). */
  static async open (archive: InviteArchive, options: { now?: () => number } = {}): Promise<InviteStore> {
    const store = new InviteStore(archive, options.now ?? Date.now)
    for await (const [key, value] of archive.kv.entries(keys.invites)) {
      try {
        const record = decodeRecord(value)
        if (record.id === key[1]) store.#records.set(record.id, record)
      } catch { /* damaged: admits nobody */ }
    }
    return store
  }

  /** Creates an invite and returns its code (the only copy of its secret). */
  async create (options: CreateInviteOptions): Promise<{ code: string, expires: number, inviteNodeId: string }> {
    const { role, level, scope, expiresMs } = options
    if (!Number.isSafeInteger(expiresMs) || expiresMs <= 0 || expiresMs > MAX_INVITE_VALIDITY_MS) {
      throw new InviteOptionsError(`an invite's validity must be between 1 ms and ${MAX_INVITE_VALIDITY_MS / 86_400_000} days`, 'e.g. --expires 24h')
    }
    const self = this.#archive.keyring.nodeId
    const addrs = [...new Set(options.addrs.map((a) => withP2p(a, self)))]
    if (addrs.length === 0) throw new InviteOptionsError('this node listens on no address a new node could dial', 'start the node with a mesh listen address reachable from the new machine')
    const created = this.#now()
    const expires = created + expiresMs
    const secret = this.#archive.random(32)
    const { publicKey } = nodeKeyFromSecret(secret)
    // Encoded first, so a grant or an address the code cannot carry stores nothing.
    const code = encodeInvite(this.#archive.provider, { v: 1, org: this.#archive.keyring.orgId, role, level, scope, expires, secret, addrs: addrs.slice(0, 16) })
    secret.fill(0)
    const record: InviteRecord = { id: nodeIdFromPublicKey(publicKey), publicKey, role, level, scope, created, expires }
    await this.#archive.kv.batch([{ type: 'put', key: keys.invite(record.id), value: encodeRecord(record) }])
    this.#records.set(record.id, record)
    return { code, expires, inviteNodeId: record.id }
  }

  /** Whether `peer` presents the key of an invite that is unexpired, unused and not withdrawn (the gater asks). */
  admits (peer: PeerId): boolean {
    const record = this.#records.get(peer.toString())
    return record !== undefined && record.used === undefined && record.withdrawn === undefined && this.#now() < record.expires
  }

  /** Whether `peer` presents the key of one of this node's invites, whatever its state. */
  isInvite (peer: PeerId): boolean {
    return this.#records.has(peer.toString())
  }

  /**
   * Marks the invite `peer` presents as used by `by` (a node id), durably, and returns it.
   * Throws InviteUnknownError, InviteUsedError or InviteExpiredError.
   */
  async claim (peer: PeerId, by?: string): Promise<InviteRecord> {
    const id = peer.toString()
    const record = this.#records.get(id)
    if (record === undefined) throw new InviteUnknownError(id)
    if (record.used !== undefined || record.withdrawn !== undefined) throw new InviteUsedError(record)
    const now = this.#now()
    if (now >= record.expires) throw new InviteExpiredError(record.expires, now)
    const used: InviteRecord = { ...record, used: now, ...(by === undefined ? {} : { usedBy: by }) }
    // In memory first: a second claim (another stream) fails at once. If the write fails the
    // invite stays used here (it admits nobody until restart) and the caller writes nothing.
    this.#records.set(id, used)
    await this.#archive.kv.batch([{ type: 'put', key: keys.invite(id), value: encodeRecord(used) }])
    return used
  }

  /** Withdraws an unused invite (it admits nobody from now on). */
  async withdraw (id: string): Promise<InviteRecord> {
    const record = this.#records.get(id)
    if (record === undefined) throw new InviteUnknownError(id)
    if (record.used !== undefined || record.withdrawn !== undefined) throw new InviteUsedError(record)
    const withdrawn: InviteRecord = { ...record, withdrawn: this.#now() }
    this.#records.set(id, withdrawn)
    await this.#archive.kv.batch([{ type: 'put', key: keys.invite(id), value: encodeRecord(withdrawn) }])
    return withdrawn
  }

  /** Every invite of this node, oldest first. */
  list (): InviteRecord[] {
    return [...this.#records.values()].sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1))
  }
}
