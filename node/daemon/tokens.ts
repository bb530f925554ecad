/**
 * Bearer API tokens for the HTTP edge, until user accounts exist. A token is shown once, at
 * creation; the index keeps only its SHA-256 (the secret is 256 random bits, so a plain hash is
 * enough: there is nothing to guess). `ppt_<id>_<secret>`: the id finds the record without a
 * scan and names the token in logs and audit; the secret never appears anywhere after creation.
 * Revoking keeps the record (marked revoked) so its name and history stay known.
 */
import { asMap, decodeCanonical, encodeCanonical, intField, optionalText, textField, bytesField } from '../../protocol/canonical.ts'
import { equalBytes, utf8Encode } from '../../protocol/bytes.ts'
import { toHex } from '../../protocol/encoding.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { keys } from '../store/key-space.ts'
import type { KvStore } from '../store/kv.ts'

export class TokenError extends PeerpacsError {
  static readonly code = 'TOKEN'
  constructor (message: string, hint?: string) { super(TokenError.code, message, hint === undefined ? {} : { hint }) }
}

export class TokenNotFoundError extends PeerpacsError {
  static readonly code = 'NOT_FOUND'
  constructor (message: string) { super(TokenNotFoundError.code, message, { hint: 'list tokens with `peerpacs token list`' }) }
}

export interface TokenRecord {
  readonly id: string
  readonly name: string
  readonly created: number
  readonly revoked: number | undefined
  /** The account (service account or person) the token acts for; undefined: a token from before accounts, which acts as `integration`. */
  readonly user?: string
}

const PREFIX = 'ppt_'
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/

function encode (r: TokenRecord, hash: Uint8Array): Uint8Array {
  return encodeCanonical({ name: r.name, created: r.created, revoked: r.revoked ?? 0, hash, ...(r.user === undefined ? {} : { user: r.user }) })
}

function decode (id: string, bytes: Uint8Array): { record: TokenRecord, hash: Uint8Array } {
  const map = asMap(decodeCanonical(bytes), 'token record')
  const revoked = intField(map, 'revoked', 'token record')
  const user = optionalText(map, 'user', 'token record')
  return {
    record: { id, name: textField(map, 'name', 'token record'), created: intField(map, 'created', 'token record'), revoked: revoked === 0 ? undefined : revoked, ...(user === undefined ? {} : { user }) },
    hash: bytesField(map, 'hash', 'token record', 32)
  }
}

export class TokenStore {
  readonly #kv: KvStore
  readonly #provider: CryptoProvider
  readonly #random: RandomSource

  constructor (kv: KvStore, provider: CryptoProvider, random: RandomSource) {
    this.#kv = kv
    this.#provider = provider
    this.#random = random
  }

  async list (): Promise<TokenRecord[]> {
    const out: TokenRecord[] = []
    for await (const [key, value] of this.#kv.entries(keys.tokens)) out.push(decode(key[1]!, value).record)
    return out.sort((a, b) => a.created - b.created)
  }

  /** Creates a token; returns its record and the secret text, which is not kept. */
  async create (name: string, now = Date.now(), user?: string): Promise<{ record: TokenRecord, token: string }> {
    if (!NAME.test(name)) throw new TokenError(`token name "${name.slice(0, 80)}" is not allowed`, 'use 1 to 64 letters, digits, spaces and ._@- (starting with a letter or digit)')
    const existing = await this.list()
    if (existing.some((t) => t.name === name && t.revoked === undefined)) throw new TokenError(`a token named "${name}" already exists`, 'revoke it first, or choose another name')
    const id = toHex(this.#random(8))
    const secret = this.#random(32)
    const token = `${PREFIX}${id}_${toHex(secret)}`
    const record: TokenRecord = { id, name, created: now, revoked: undefined, ...(user === undefined ? {} : { user }) }
    await this.#kv.batch([{ type: 'put', key: keys.token(id), value: encode(record, this.#provider.sha256(utf8Encode(token))) }])
    return { record, token }
  }

  /** Revokes by id or by name (the live token of that name). */
  async revoke (reference: string, now = Date.now()): Promise<TokenRecord> {
    const all = await this.list()
    const target = all.find((t) => t.id === reference) ?? all.find((t) => t.name === reference && t.revoked === undefined)
    if (target === undefined) throw new TokenNotFoundError(`no token with id or name "${reference.slice(0, 80)}"`)
    if (target.revoked !== undefined) return target
    const bytes = await this.#kv.get(keys.token(target.id))
    const { hash } = decode(target.id, bytes!)
    const revoked = { ...target, revoked: now }
    await this.#kv.batch([{ type: 'put', key: keys.token(target.id), value: encode(revoked, hash) }])
    return revoked
  }

  /** The live token a bearer string names, or undefined (unknown, malformed, revoked). */
  async verify (bearer: string): Promise<TokenRecord | undefined> {
    const match = /^ppt_([0-9a-f]{16})_[0-9a-f]{64}$/.exec(bearer)
    if (match === null) return undefined
    const bytes = await this.#kv.get(keys.token(match[1]!))
    if (bytes === undefined) return undefined
    const { record, hash } = decode(match[1]!, bytes)
    if (!equalBytes(hash, this.#provider.sha256(utf8Encode(bearer)))) return undefined
    return record.revoked === undefined ? record : undefined
  }
}
