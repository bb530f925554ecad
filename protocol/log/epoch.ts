/**
 * Epoch keys (docs/protocol.md "Members and permissions"): a random 32-byte key sealed to each full
 * member's X25519 key and to the recovery key's, carried in `org.genesis`, `epoch.start` and
 * a site member's `member.remove`. The AAD binds each box to the org and its recipient:
 *
 *   aad = canonical(["peerpacs/epoch-key/v2", org, member public key | "recovery"])
 *
 * (org = "" inside genesis, whose id does not exist yet). Wraps are sorted by member key and
 * unique, so an epoch body has one encoding.
 */
import { expectBytes, expectObject, expectString, isBytes } from '../bytes.ts'
import { encodeCanonical, type CanonicalValue } from '../canonical.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import { DecodeError, InvalidArgumentError } from '../errors.ts'
import { x25519PublicKey } from '../identity.ts'
import { draw, type RandomSource } from '../random.ts'
import { openSealedBox, SEALED_BOX_OVERHEAD, sealToPublicKey } from '../sealed-box.ts'
import { boundedBytes, boundedList, compareBytes, expectAscending, strictMap } from './fields.ts'

export const EPOCH_KEY_AAD_DOMAIN = 'peerpacs/epoch-key/v2'
export const EPOCH_KEY_LENGTH = 32
/** A sealed 32-byte epoch key. */
export const WRAPPED_EPOCH_KEY_LENGTH = EPOCH_KEY_LENGTH + SEALED_BOX_OVERHEAD
export const MAX_EPOCH_WRAPS = 1000

export interface EpochWrap {
  /** Ed25519 public key of the member (its X25519 form receives the box). */
  readonly member: Uint8Array
  readonly key: Uint8Array
}

export interface EpochBody {
  readonly wraps: readonly EpochWrap[]
  /** The epoch key sealed to the recovery key. */
  readonly recovery: Uint8Array
}

export function epochKeyAad (org: string, recipient: Uint8Array | 'recovery'): Uint8Array {
  return encodeCanonical([EPOCH_KEY_AAD_DOMAIN, org, recipient])
}

export function encodeEpochBody (body: EpochBody): CanonicalValue {
  return {
    wraps: body.wraps.map((w) => ({ member: w.member, key: w.key })),
    recovery: body.recovery
  }
}

export function decodeEpochBody (value: CanonicalValue | undefined, what: string): EpochBody {
  const map = strictMap(value, what, ['wraps', 'recovery'])
  const wraps = boundedList(map, 'wraps', what, 0, MAX_EPOCH_WRAPS).map((item, i): EpochWrap => {
    const w = strictMap(item, `${what}.wraps[${i}]`, ['member', 'key'])
    return {
      member: boundedBytes(w, 'member', `${what}.wraps[${i}]`, 32, 32),
      key: boundedBytes(w, 'key', `${what}.wraps[${i}]`, WRAPPED_EPOCH_KEY_LENGTH, WRAPPED_EPOCH_KEY_LENGTH)
    }
  })
  expectAscending(wraps.map((w) => w.member), `${what}.wraps`)
  return { wraps, recovery: boundedBytes(map, 'recovery', what, WRAPPED_EPOCH_KEY_LENGTH, WRAPPED_EPOCH_KEY_LENGTH) }
}

export interface CreateEpochOptions {
  /** The org id, or "" for the epoch inside the genesis op. */
  org: string
  /** The full members that receive the key. */
  members: ReadonlyArray<{ member: Uint8Array }>
  /** The recovery key's public half as genesis carries it (Ed25519). */
  recoveryPublicKey: Uint8Array
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
  return { key, body: { wraps, recovery } }
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
