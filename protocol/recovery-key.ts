/**
 * The org's recovery key as a person writes it down: an Ed25519 seed with a checksum, in
 * Crockford base32 groups ("PPRK1-XXXXX-XXXXX-…"). Its X25519 form receives every epoch key,
 * so it can reopen an org from its backup; its Ed25519 form can sign on the org's behalf.
 * The checksum catches a mistyped key before it is tried against anything.
 */
import { concatBytes, equalBytes, expectBytes, expectString, utf8Encode } from './bytes.ts'
import type { CryptoProvider } from './crypto-provider.ts'
import { fromBase32, toBase32 } from './encoding.ts'
import { DecodeError } from './errors.ts'

const PREFIX = 'PPRK1'
const CHECKSUM_LENGTH = 4
const CHECKSUM_CONTEXT = utf8Encode('peerpacs/recovery-key/v1')

function checksum (provider: CryptoProvider, seed: Uint8Array): Uint8Array {
  return provider.sha256(concatBytes(CHECKSUM_CONTEXT, seed)).subarray(0, CHECKSUM_LENGTH)
}

export function encodeRecoveryKey (provider: CryptoProvider, seed: Uint8Array): string {
  expectBytes(seed, 'encodeRecoveryKey(seed)', 32)
  const body = toBase32(concatBytes(seed, checksum(provider, seed)))
  const groups = body.match(/.{1,5}/g) ?? []
  return [PREFIX, ...groups].join('-')
}

/** Reads a recovery key as typed: case, spaces, dashes and line breaks do not matter. */
export function decodeRecoveryKey (provider: CryptoProvider, text: string): Uint8Array {
  expectString(text, 'decodeRecoveryKey(text)')
  const compact = text.replace(/[\s-]/g, '').toUpperCase()
  if (!compact.startsWith(PREFIX)) {
    throw new DecodeError(`not a peerpacs recovery key: it should start with ${PREFIX}-`)
  }
  let bytes: Uint8Array
  try {
    bytes = fromBase32(compact.slice(PREFIX.length))
  } catch (cause) {
    throw new DecodeError('recovery key has characters outside its alphabet (digits and letters, without U)', { cause })
  }
  if (bytes.length !== 32 + CHECKSUM_LENGTH) {
    throw new DecodeError(`recovery key has the wrong length: ${bytes.length} bytes where 36 were expected (a group missing or extra?)`)
  }
  const seed = bytes.slice(0, 32)
  if (!equalBytes(bytes.subarray(32), checksum(provider, seed))) {
    throw new DecodeError('recovery key checksum does not match: a character is mistyped')
  }
  return seed
}
