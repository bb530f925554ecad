/**
 * Seals a node's secrets at rest with a passphrase: scrypt (N = 2^17, r = 8, p = 1: 128 MiB and
 * about half a second, so guessing is slow) derives a key that closes a secret box. Without a
 * passphrase the secrets are stored as they are, protected only by file permissions; `init`
 * warns about that. The parameters travel in the file, so they can be raised later.
 */
import { scrypt } from 'node:crypto'
import { utf8Encode } from '../../protocol/bytes.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, intField, textField } from '../../protocol/canonical.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { AuthenticationError, DecodeError } from '../../protocol/errors.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { SECRETBOX_OVERHEAD, secretboxOpen, secretboxSeal } from '../../protocol/secretbox.ts'
import { KeyFileError, PassphraseRequiredError, WrongPassphraseError } from './errors.ts'

export interface ScryptParams { readonly logN: number, readonly r: number, readonly p: number }
export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 }

export function scryptKey (passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  const N = 2 ** params.logN
  return new Promise((resolve, reject) => {
    scrypt(utf8Encode(passphrase.normalize('NFC')), salt, 32, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (error, key) => {
      if (error !== null) reject(error)
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))
    })
  })
}

function aadFor (params: ScryptParams, salt: Uint8Array): Uint8Array {
  return encodeCanonical(['peerpacs/passphrase-seal/v1', params.logN, params.r, params.p, salt])
}

export interface SealOptions {
  provider: CryptoProvider
  random: RandomSource
  params?: ScryptParams
}

export async function sealWithPassphrase (secret: Uint8Array, passphrase: string | undefined, options: SealOptions): Promise<Uint8Array> {
  if (passphrase === undefined) return encodeCanonical({ v: 1, kdf: 'none', secret })
  const params = options.params ?? DEFAULT_SCRYPT
  const salt = options.random(16)
  const key = await scryptKey(passphrase, salt, params)
  const box = secretboxSeal(options.provider, options.random, key, secret, aadFor(params, salt))
  return encodeCanonical({ v: 1, kdf: 'scrypt', logN: params.logN, r: params.r, p: params.p, salt, box })
}

export function isSealed (file: Uint8Array): boolean {
  return textField(asMap(decodeCanonical(file), 'key file'), 'kdf', 'key file') !== 'none'
}

export async function openWithPassphrase (provider: CryptoProvider, file: Uint8Array, passphrase: string | undefined, where: string): Promise<Uint8Array> {
  const damaged = (cause: unknown): KeyFileError =>
    new KeyFileError(`key file ${where} is damaged or not a peerpacs key file: ${(cause as Error).message}`)
  let sealed: { params: ScryptParams, salt: Uint8Array, box: Uint8Array }
  try {
    const map = asMap(decodeCanonical(file), 'key file')
    if (intField(map, 'v', 'key file') !== 1) throw new DecodeError('key file version is not 1')
    const kdf = textField(map, 'kdf', 'key file')
    if (kdf === 'none') return bytesField(map, 'secret', 'key file')
    if (kdf !== 'scrypt') throw new DecodeError(`unknown key derivation "${kdf}"`)
    const params = { logN: intField(map, 'logN', 'key file'), r: intField(map, 'r', 'key file'), p: intField(map, 'p', 'key file') }
    if (params.logN < 10 || params.logN > 22 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) {
      throw new DecodeError('scrypt parameters outside the accepted range')
    }
    sealed = { params, salt: bytesField(map, 'salt', 'key file', 16), box: bytesField(map, 'box', 'key file') }
    if (sealed.box.length < SECRETBOX_OVERHEAD || sealed.box[0] !== 1) throw new DecodeError('sealed secret is malformed')
  } catch (cause) {
    throw damaged(cause)
  }
  if (passphrase === undefined) {
    throw new PassphraseRequiredError(`the keys in ${where} are sealed with a passphrase`,
      'set PEERPACS_PASSPHRASE or pass --passphrase-file FILE')
  }
  const key = await scryptKey(passphrase, sealed.salt, sealed.params)
  try {
    return secretboxOpen(provider, key, sealed.box, aadFor(sealed.params, sealed.salt))
  } catch (error) {
    if (error instanceof AuthenticationError) {
      throw new WrongPassphraseError(`wrong passphrase for the keys in ${where}; nothing was changed`,
        'check PEERPACS_PASSPHRASE or the --passphrase-file contents (a trailing newline is ignored)')
    }
    throw error
  }
}
