/**
 * Bodies of the people ops (docs/protocol.md "Users"): `user.add`, `user.update`, `user.disable`
 * and `user.enable` all carry `{user, epoch, sealed}`. `user` is 16 random bytes naming the
 * account for ever (never the username: nothing about a person is in clear); `epoch` names the
 * epoch whose key sealed `sealed`, the account record (node/people/user-record.ts) for add and
 * update, and who did it and why for disable and enable. Only full site members hold epoch
 * keys, so only they (and the recovery key) can read or check a sign-in; a backup cannot.
 */
import type { CanonicalValue } from '../canonical.ts'
import { boundedBytes, strictMap } from './fields.ts'

export const USER_ID_BYTES = 16
/** An account record with a few passkeys and ten recovery-code hashes is about 2 KiB sealed. */
export const MAX_USER_SEALED_BYTES = 16 * 1024

export interface UserBody {
  /** 16 random bytes: the account's id. */
  readonly user: Uint8Array
  /** The id of the op that started the epoch whose key sealed `sealed`. */
  readonly epoch: Uint8Array
  readonly sealed: Uint8Array
}

export type UserOpType = 'user.add' | 'user.update' | 'user.disable' | 'user.enable'
export const USER_OP_TYPES: readonly UserOpType[] = ['user.add', 'user.update', 'user.disable', 'user.enable']

function userCodec (what: UserOpType): { encode: (b: UserBody) => CanonicalValue, decode: (v: CanonicalValue) => UserBody } {
  return {
    encode: (b) => ({ user: b.user, epoch: b.epoch, sealed: b.sealed }),
    decode: (v) => {
      const m = strictMap(v, what, ['user', 'epoch', 'sealed'])
      return {
        user: boundedBytes(m, 'user', what, USER_ID_BYTES, USER_ID_BYTES),
        epoch: boundedBytes(m, 'epoch', what, 32, 32),
        sealed: boundedBytes(m, 'sealed', what, 1, MAX_USER_SEALED_BYTES)
      }
    }
  }
}

export const userAddCodec = userCodec('user.add')
export const userUpdateCodec = userCodec('user.update')
export const userDisableCodec = userCodec('user.disable')
export const userEnableCodec = userCodec('user.enable')
