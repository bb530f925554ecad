/**
 * Epoch keys (docs/protocol.md "Members and permissions"): a random 32-byte key sealed to each full
 * member's X25519 key and to the recovery key's, carried in `org.genesis`, `epoch.start` and
 * a site member's `member.remove`. The AAD binds each box to the org and its recipient:
 *
 *   aad = canonical(["peerpacs/epoch-key/v2", org, member public key | "recovery"])
 *
 * (org = "" inside genesis, whose id does not exist yet). Wraps are sorted by member key and
 * unique, so an epoch body has one encoding.
 *
 * An `epoch.start` body may also carry `history`: the earlier epoch keys its issuer holds, so a
 * site member that joins later can read what was sealed before it joined. It is a secretbox
 * (protocol/secretbox.ts) under the NEW epoch key of canonical([[epoch id (bytes32), key], …])
 * ascending by id, with
 *
 *   aad = canonical(["peerpacs/epoch-history/v1", org, recovery box of this body])
 *
 * The new epoch's id (its op's id) does not exist while the op is being signed; the recovery box
 * does, and is unique to this body (a fresh ephemeral key), so the history is pinned to the body
 * it was written in. Whoever opens the epoch key opens its history; nobody else can.
 */
import { expectBytes, expectObject, expectString, isBytes } from '../bytes.ts'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../canonical.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import { DecodeError, InvalidArgumentError } from '../errors.ts'
import { x25519PublicKey } from '../identity.ts'
import { draw, type RandomSource } from '../random.ts'
import { openSealedBox, SEALED_BOX_OVERHEAD, sealToPublicKey } from '../sealed-box.ts'
import { SECRETBOX_OVERHEAD, secretboxOpen, secretboxSeal } from '../secretbox.ts'
import { fromHex, toHex } from '../encoding.ts'
import { boundedBytes, boundedList, compareBytes, expectAscending, strictMap } from './fields.ts'

export const EPOCH_KEY_AAD_DOMAIN = 'peerpacs/epoch-key/v2'
export const EPOCH_KEY_LENGTH = 32
/** A sealed 32-byte epoch key. */
export const WRAPPED_EPOCH_KEY_LENGTH = EPOCH_KEY_LENGTH + SEALED_BOX_OVERHEAD
export const MAX_EPOCH_WRAPS = 1000
export const EPOCH_HISTORY_AAD_DOMAIN = 'peerpacs/epoch-history/v1'
/** Earlier epochs one history can carry (about 70 bytes each). */
export const MAX_EPOCH_HISTORY = 2000
const HISTORY_ENTRY_BYTES = 70
/** The largest sealed history: MAX_EPOCH_HISTORY entries, their CBOR framing, the box overhead. */
export const MAX_EPOCH_HISTORY_BYTES = MAX_EPOCH_HISTORY * HISTORY_ENTRY_BYTES + 8 + SECRETBOX_OVERHEAD

export interface EpochWrap {
  /** Ed25519 public key of the member (its X25519 form receives the box). */
  readonly member: Uint8Array
  readonly key: Uint8Array
}

export interface EpochBody {
  readonly wraps: readonly EpochWrap[]
  /** The epoch key sealed to the recovery key. */
  readonly recovery: Uint8Array
  /** Earlier epoch keys, sealed with this epoch's key (epoch.start only; see the header). */
  readonly history?: Uint8Array
}

/** An epoch key with the id of the epoch it belongs to (64 lowercase hex). */
export interface EpochKeyEntry {
  readonly id: string
  readonly key: Uint8Array
}

export function epochHistoryAad (org: string, recoveryBox: Uint8Array): Uint8Array {
  return encodeCanonical([EPOCH_HISTORY_AAD_DOMAIN, org, recoveryBox])
}

export function epochKeyAad (org: string, recipient: Uint8Array | 'recovery'): Uint8Array {
  return encodeCanonical([EPOCH_KEY_AAD_DOMAIN, org, recipient])
}

export function encodeEpochBody (body: EpochBody): CanonicalValue {
  const out: Record<string, CanonicalValue> = {
    wraps: body.wraps.map((w) => ({ member: w.member, key: w.key })),
    recovery: body.recovery
  }
  if (body.history !== undefined) out.history = body.history
  return out
}

/** `history` allows the optional sealed history (epoch.start); elsewhere it is an unknown field. */
export function decodeEpochBody (value: CanonicalValue | undefined, what: string, options: { history?: boolean } = {}): EpochBody {
  const map = strictMap(value, what, ['wraps', 'recovery'], options.history === true ? ['history'] : [])
  const wraps = boundedList(map, 'wraps', what, 0, MAX_EPOCH_WRAPS).map((item, i): EpochWrap => {
    const w = strictMap(item, `${what}.wraps[${i}]`, ['member', 'key'])
    return {
      member: boundedBytes(w, 'member', `${what}.wraps[${i}]`, 32, 32),
      key: boundedBytes(w, 'key', `${what}.wraps[${i}]`, WRAPPED_EPOCH_KEY_LENGTH, WRAPPED_EPOCH_KEY_LENGTH)
    }
  })
  expectAscending(wraps.map((w) => w.member), `${what}.wraps`)
  const recovery = boundedBytes(map, 'recovery', what, WRAPPED_EPOCH_KEY_LENGTH, WRAPPED_EPOCH_KEY_LENGTH)
  if (map.history === undefined) return { wraps, recovery }
  return { wraps, recovery, history: boundedBytes(map, 'history', what, SECRETBOX_OVERHEAD + 1, MAX_EPOCH_HISTORY_BYTES) }
}

export interface CreateEpochOptions {
  /** The org id, or "" for the epoch inside the genesis op. */
  org: string
  /** The full members that receive the key. */
  members: ReadonlyArray<{ member: Uint8Array }>
  /** The recovery key's public half as genesis carries it (Ed25519). */
  recoveryPublicKey: Uint8Array
  /** Earlier epoch keys to carry in the body's history (epoch.start only); none: no history field. */
  previous?: readonly EpochKeyEntry[]
}

/** A fresh epoch key and the body that hands it to `members` and the recovery key. */
export function createEpoch (provider: CryptoProvider, random: RandomSource, options: CreateEpochOptions): { key: Uint8Array, body: EpochBody } {
  expectProvider(provider, 'createEpoch(provider)')
  expectObject(options, 'createEpoch(options)')
  const org = expectString(options.org, 'createEpoch(org)')
  if (!Array.isArray(options.members)) throw new InvalidArgumentError('createEpoch(members): expected an array')
  const members = options.members.map((m, i) => expectBytes(m?.member, `createEpoch(members[${i}].member)`, 32))
    .sort(compareBytes)
  for (let i = 1; i < members.length; i++) {
    if (compareBytes(members[i - 1]!, members[i]!) === 0) throw new InvalidArgumentError('createEpoch(members): a member is listed twice')
  }
  if (members.length > MAX_EPOCH_WRAPS) throw new InvalidArgumentError(`createEpoch(members): at most ${MAX_EPOCH_WRAPS}`)
  const recoveryX = x25519PublicKey(expectBytes(options.recoveryPublicKey, 'createEpoch(recoveryPublicKey)', 32))
  const key = draw(random, EPOCH_KEY_LENGTH, 'createEpoch')
  const wraps = members.map((member) => ({
    member,
    key: sealToPublicKey(provider, random, x25519PublicKey(member), key, epochKeyAad(org, member))
  }))
  const recovery = sealToPublicKey(provider, random, recoveryX, key, epochKeyAad(org, 'recovery'))
  if (options.previous === undefined) return { key, body: { wraps, recovery } }
  const history = secretboxSeal(provider, random, key, encodeHistory(options.previous), epochHistoryAad(org, recovery))
  return { key, body: { wraps, recovery, history } }
}

function encodeHistory (previous: readonly EpochKeyEntry[]): Uint8Array {
  if (!Array.isArray(previous)) throw new InvalidArgumentError('createEpoch(previous): expected an array')
  if (previous.length > MAX_EPOCH_HISTORY) throw new InvalidArgumentError(`createEpoch(previous): at most ${MAX_EPOCH_HISTORY} epochs`)
  const entries = previous.map((e, i): [Uint8Array, Uint8Array] => {
    expectObject(e, `createEpoch(previous[${i}])`)
    return [fromHex(expectString(e.id, `createEpoch(previous[${i}].id)`), 32), expectBytes(e.key, `createEpoch(previous[${i}].key)`, EPOCH_KEY_LENGTH)]
  }).sort((a, b) => compareBytes(a[0], b[0]))
  for (let i = 1; i < entries.length; i++) {
    if (compareBytes(entries[i - 1]![0], entries[i]![0]) === 0) throw new InvalidArgumentError('createEpoch(previous): an epoch is listed twice')
  }
  return encodeCanonical(entries)
}

/**
 * The earlier epoch keys an epoch body carries ([] when it has no history), ascending by id.
 * `epochKey` is this epoch's key (openEpoch). Throws AuthenticationError when the history does
 * not open with it, DecodeError when what it holds is malformed.
 */
export function openEpochHistory (provider: CryptoProvider, body: EpochBody, org: string, epochKey: Uint8Array): EpochKeyEntry[] {
  expectProvider(provider, 'openEpochHistory(provider)')
  expectObject(body, 'openEpochHistory(body)')
  expectString(org, 'openEpochHistory(org)')
  expectBytes(epochKey, 'openEpochHistory(epochKey)', EPOCH_KEY_LENGTH)
  if (body.history === undefined) return []
  const plain = secretboxOpen(provider, epochKey, expectBytes(body.history, 'openEpochHistory(body.history)'), epochHistoryAad(org, expectBytes(body.recovery, 'openEpochHistory(body.recovery)')))
  const value = decodeCanonical(plain, MAX_EPOCH_HISTORY_BYTES)
  if (!Array.isArray(value) || value.length > MAX_EPOCH_HISTORY) throw new DecodeError(`epoch history: expected a list of at most ${MAX_EPOCH_HISTORY} [id, key] pairs`)
  const ids: Uint8Array[] = []
  const out = value.map((item, i): EpochKeyEntry => {
    if (!Array.isArray(item) || item.length !== 2 || !isBytes(item[0]) || item[0].length !== 32 || !isBytes(item[1]) || item[1].length !== EPOCH_KEY_LENGTH) {
      throw new DecodeError(`epoch history[${i}]: expected [epoch id (32 bytes), key (${EPOCH_KEY_LENGTH} bytes)]`)
    }
    ids.push(item[0])
    return { id: toHex(item[0]), key: item[1].slice() }
  })
  expectAscending(ids, 'epoch history')
  return out
}

export type EpochOpener =
  /** A member: its Ed25519 public key and its X25519 secret key (identity.ts x25519SecretKey). */
  | { member: Uint8Array, secretKey: Uint8Array }
  /** The recovery key: the X25519 secret of its seed (identity.ts x25519SecretKey(seed)). */
  | { recoverySecret: Uint8Array }

/**
 * The epoch key, opened by a member or the recovery key. Throws DecodeError when the body holds
 * no box for this member (e.g. it was removed), AuthenticationError when the box does not open.
 */
export function openEpoch (provider: CryptoProvider, body: EpochBody, org: string, opener: EpochOpener): Uint8Array {
  expectProvider(provider, 'openEpoch(provider)')
  expectObject(body, 'openEpoch(body)')
  expectString(org, 'openEpoch(org)')
  expectObject(opener, 'openEpoch(opener)')
  if ('recoverySecret' in opener) {
    expectBytes(opener.recoverySecret, 'openEpoch(recoverySecret)', 32)
    return openSealedBox(provider, opener.recoverySecret, body.recovery, epochKeyAad(org, 'recovery'))
  }
  const member = expectBytes(opener.member, 'openEpoch(member)', 32)
  expectBytes(opener.secretKey, 'openEpoch(secretKey)', 32)
  const wrap = body.wraps.find((w) => isBytes(w.member) && compareBytes(w.member, member) === 0)
  if (wrap === undefined) throw new DecodeError('this epoch key is not wrapped to this member (not a full member when the epoch started, or removed)')
  return openSealedBox(provider, opener.secretKey, wrap.key, epochKeyAad(org, member))
}
