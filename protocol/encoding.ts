/**
 * Text encodings of bytes used in ids and on screen: hex for digests and blob ids,
 * base58btc for node ids (as libp2p prints peer ids), base32 (Crockford) for keys a person types.
 */
import { base32crockford, base58, hex } from '@scure/base'
import { DecodeError } from './errors.ts'
import { expectBytes, expectInteger, expectString } from './bytes.ts'

export function toHex (bytes: Uint8Array): string {
  return hex.encode(expectBytes(bytes, 'toHex(bytes)'))
}

export function fromHex (text: string, expectedLength?: number): Uint8Array {
  expectString(text, 'fromHex(text)')
  if (expectedLength !== undefined) expectInteger(expectedLength, 'fromHex(expectedLength)')
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new DecodeError(`expected lowercase hex with an even number of digits, got ${text.length} characters`)
  }
  const bytes = hex.decode(text)
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new DecodeError(`expected ${expectedLength} bytes of hex, got ${bytes.length}`)
  }
  return bytes
}

export function toBase58 (bytes: Uint8Array): string {
  return base58.encode(expectBytes(bytes, 'toBase58(bytes)'))
}

export function fromBase58 (text: string): Uint8Array {
  expectString(text, 'fromBase58(text)')
  try {
    return base58.decode(text)
  } catch (cause) {
    throw new DecodeError('expected base58btc text', { cause })
  }
}

export function toBase32 (bytes: Uint8Array): string {
  return base32crockford.encode(expectBytes(bytes, 'toBase32(bytes)'))
}

/** Crockford base32; case-insensitive, and O/I/L read as 0/1/1 as people mistype them. */
export function fromBase32 (text: string): Uint8Array {
  expectString(text, 'fromBase32(text)')
  try {
    return base32crockford.decode(text.toUpperCase())
  } catch (cause) {
    throw new DecodeError('expected Crockford base32 text', { cause })
  }
}
