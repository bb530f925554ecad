/**
 * The org's recovery key as a person writes it down: an Ed25519 seed with a checksum, in
 * Crockford base32 groups ("PPRK1-XXXXX-XXXXX-…"). Its X25519 form receives every epoch key,
 * so it can reopen an org from its backup; its Ed25519 form can sign on the org's behalf.
 * The checksum catches a mistyped key before it is tried against anything.
 */
import { concatBytes, equalBytes, expectBytes, expectString, utf8Encode } from './bytes.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { fromBase32, toBase32 } from './encoding.ts'
import { DecodeError } from './errors.ts'

const PREFIX = 'PPRK1'
const CHECKSUM_LENGTH = 4
/** 36 bytes in 5-bit characters. */
const ENCODED_LENGTH = Math.ceil((32 + CHECKSUM_LENGTH) * 8 / 5)
const CHECKSUM_CONTEXT = utf8Encode('peerpacs/recovery-key/v1')

function checksum (provider: CryptoProvider, seed: Uint8Array): Uint8Array {
  return provider.sha256(concatBytes(CHECKSUM_CONTEXT, seed)).subarray(0, CHECKSUM_LENGTH)
}

export function encodeRecoveryKey (provider: CryptoProvider, seed: Uint8Array): string {
  expectProvider(provider, 'encodeRecoveryKey(provider)')
  expectBytes(seed, 'encodeRecoveryKey(seed)', 32)
  const body = toBase32(concatBytes(seed, checksum(provider, seed)))
  const groups = body.match(/.{1,5}/g) ?? []
  return [PREFIX, ...groups].join('-')
}

/** Reads a recovery key as typed: case, spaces, dashes and line breaks do not matter. */
export function decodeRecoveryKey (provider: CryptoProvider, text: string): Uint8Array {
  expectProvider(provider, 'decodeRecoveryKey(provider)')
  expectString(text, 'decodeRecoveryKey(text)')
  // Crockford base32 reads O as 0 and I, L as 1: people mistype them, in the prefix too.
  const compact = text.replace(/[\s-]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1')
  if (!compact.startsWith(PREFIX)) {
    throw new DecodeError(`not a peerpacs recovery key: it should start with ${PREFIX}-`)
  }
  const body = compact.slice(PREFIX.length)
  if (!/^[0-9A-HJKMNP-TV-Z]*$/.test(body)) {
    throw new DecodeError('recovery key has characters outside its alphabet (digits and letters, without U)')
  }
  if (body.length !== ENCODED_LENGTH) {
    throw new DecodeError(`recovery key has the wrong length: ${body.length} characters where ${ENCODED_LENGTH} were expected (a group missing or extra?)`)
  }
  let bytes: Uint8Array
  try {
    bytes = fromBase32(body)
  } catch {
    // Only the last character's spare bits can fail here: a mistyped last character.
    throw new DecodeError('recovery key checksum does not match: a character is mistyped')
  }
  const seed = bytes.slice(0, 32)
  if (!equalBytes(bytes.subarray(32), checksum(provider, seed))) {
    throw new DecodeError('recovery key checksum does not match: a character is mistyped')
  }
  return seed
}
