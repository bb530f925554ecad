/**
 * Bodies of the ops that decide who is in the org and at what level (docs/protocol.md "Members and
 * permissions"): org.genesis, member.add, member.set-level, member.remove, member.addresses,
 * epoch.start. Each has a typed interface, an encoder, and a strict decoder.
 */
import type { CanonicalMap, CanonicalValue } from '../canonical.ts'
import { DecodeError } from '../errors.ts'
import { decodeEpochBody, encodeEpochBody, type EpochBody } from './epoch.ts'
import { boundedBytes, boundedList, boundedText, strictMap } from './fields.ts'
import { isLevel, isRole, isScope, type Level, type Role, type Scope } from './levels.ts'

export const MAX_ORG_NAME = 200
export const MAX_ADDRESSES = 16
export const MAX_ADDRESS_LENGTH = 256

export interface GenesisBody {
  readonly name: string
  /** The recovery key's public half (Ed25519; its X25519 form receives epoch keys). */
  readonly recovery: Uint8Array
  readonly nonce: Uint8Array
  readonly epoch: EpochBody
}

export interface MemberAddBody { readonly member: Uint8Array, readonly role: Role, readonly level: Level, readonly scope: Scope }
export interface MemberSetLevelBody { readonly member: Uint8Array, readonly level: Level, readonly scope: Scope }
export interface MemberRemoveBody { readonly member: Uint8Array, readonly scope: Scope, readonly epoch?: EpochBody }
export interface MemberAddressesBody { readonly addresses: readonly string[] }
export type EpochStartBody = EpochBody

function level (map: CanonicalMap, what: string): Level {
  const v = map.level
  if (!isLevel(v)) throw new DecodeError(`${what}.level: expected relay, read, write or admin`)
  return v
}

function scope (map: CanonicalMap, what: string): Scope {
  const v = map.scope
  if (!isScope(v)) throw new DecodeError(`${what}.scope: expected "org" or a study id (32 lowercase hex digits)`)
  return v
}

export const genesisCodec = {
  encode: (b: GenesisBody): CanonicalValue => ({ name: b.name, recovery: b.recovery, nonce: b.nonce, epoch: encodeEpochBody(b.epoch) }),
  decode: (v: CanonicalValue): GenesisBody => {
    const w = 'org.genesis'
    const m = strictMap(v, w, ['name', 'recovery', 'nonce', 'epoch'])
    return {
      name: boundedText(m, 'name', w, 1, MAX_ORG_NAME),
      recovery: boundedBytes(m, 'recovery', w, 32, 32),
      nonce: boundedBytes(m, 'nonce', w, 16, 16),
      epoch: decodeEpochBody(m.epoch, `${w}.epoch`)
    }
  }
}

export const memberAddCodec = {
  encode: (b: MemberAddBody): CanonicalValue => ({ member: b.member, role: b.role, level: b.level, scope: b.scope }),
  decode: (v: CanonicalValue): MemberAddBody => {
    const w = 'member.add'
    const m = strictMap(v, w, ['member', 'role', 'level', 'scope'])
    if (!isRole(m.role)) throw new DecodeError(`${w}.role: expected site, backup or specialist`)
    const body = { member: boundedBytes(m, 'member', w, 32, 32), role: m.role, level: level(m, w), scope: scope(m, w) }
    if (body.role === 'backup' && (body.level !== 'relay' || body.scope !== 'org')) throw new DecodeError(`${w}: a backup is added at org scope with level relay`)
    if (body.role === 'site' && body.scope !== 'org') throw new DecodeError(`${w}: a site member is added at org scope`)
    return body
  }
}

export const memberSetLevelCodec = {
  encode: (b: MemberSetLevelBody): CanonicalValue => ({ member: b.member, level: b.level, scope: b.scope }),
  decode: (v: CanonicalValue): MemberSetLevelBody => {
    const w = 'member.set-level'
    const m = strictMap(v, w, ['member', 'level', 'scope'])
    return { member: boundedBytes(m, 'member', w, 32, 32), level: level(m, w), scope: scope(m, w) }
  }
}

export const memberRemoveCodec = {
  encode: (b: MemberRemoveBody): CanonicalValue => {
    const out: Record<string, CanonicalValue> = { member: b.member, scope: b.scope }
    if (b.epoch !== undefined) out.epoch = encodeEpochBody(b.epoch)
    return out
  },
  decode: (v: CanonicalValue): MemberRemoveBody => {
    const w = 'member.remove'
    const m = strictMap(v, w, ['member', 'scope'], ['epoch'])
    const body: MemberRemoveBody = { member: boundedBytes(m, 'member', w, 32, 32), scope: scope(m, w) }
    return m.epoch === undefined ? body : { ...body, epoch: decodeEpochBody(m.epoch, `${w}.epoch`) }
  }
}

export const memberAddressesCodec = {
  encode: (b: MemberAddressesBody): CanonicalValue => ({ addresses: [...b.addresses] }),
  decode: (v: CanonicalValue): MemberAddressesBody => {
    const w = 'member.addresses'
    const m = strictMap(v, w, ['addresses'])
    const addresses = boundedList(m, 'addresses', w, 0, MAX_ADDRESSES).map((a, i) => {
      if (typeof a !== 'string' || a.length < 1 || a.length > MAX_ADDRESS_LENGTH || !a.startsWith('/')) {
        throw new DecodeError(`${w}.addresses[${i}]: expected a multiaddr (text starting with "/", at most ${MAX_ADDRESS_LENGTH} characters)`)
      }
      return a
    })
    if (new Set(addresses).size !== addresses.length) throw new DecodeError(`${w}.addresses: an address is listed twice`)
    return { addresses }
  }
}

export const epochStartCodec = {
  encode: (b: EpochStartBody): CanonicalValue => encodeEpochBody(b),
  decode: (v: CanonicalValue): EpochStartBody => decodeEpochBody(v, 'epoch.start', { history: true })
}
