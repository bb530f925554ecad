/**
 * Signed envelope: a payload (canonical bytes), who signed it and the signature. The signature
 * covers canonical(["peerpacs/sig/v1", domain, payload]), so a signature made for one purpose
 * (a genesis record, a log op, an invite) never verifies as another.
 */
import { describe, expectBytes, expectString } from './bytes.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, textField } from './canonical.ts'
import type { CryptoProvider } from './crypto-provider.ts'
import { DecodeError, SignatureError } from './errors.ts'
import { nodeIdFromPublicKey, signBytes, type NodeKeyPair } from './identity.ts'

export interface SignedEnvelope {
  readonly domain: string
  readonly payload: Uint8Array
  readonly signer: Uint8Array
  readonly signature: Uint8Array
}

const SIGNATURE_CONTEXT = 'peerpacs/sig/v1'

function signedMessage (domain: string, payload: Uint8Array): Uint8Array {
  return encodeCanonical([SIGNATURE_CONTEXT, domain, payload])
}

export function signEnvelope (key: NodeKeyPair, domain: string, payload: Uint8Array): SignedEnvelope {
  expectString(domain, 'signEnvelope(domain)')
  expectBytes(payload, 'signEnvelope(payload)')
  expectBytes(key?.secretKey, 'signEnvelope(key.secretKey)', 32)
  return { domain, payload, signer: key.publicKey, signature: signBytes(key.secretKey, signedMessage(domain, payload)) }
}

/** Throws SignatureError unless the envelope is for `domain` and its signature verifies. */
export function verifyEnvelope (provider: CryptoProvider, envelope: SignedEnvelope, domain: string): void {
  expectString(domain, 'verifyEnvelope(domain)')
  if (envelope === null || typeof envelope !== 'object') throw new DecodeError(`verifyEnvelope(envelope): expected an envelope, got ${describe(envelope)}`)
  expectBytes(envelope.signer, 'envelope.signer', 32)
  expectBytes(envelope.signature, 'envelope.signature', 64)
  expectBytes(envelope.payload, 'envelope.payload')
  if (envelope.domain !== domain) {
    throw new SignatureError(`envelope was signed for "${envelope.domain}", expected "${domain}"`)
  }
  if (!provider.ed25519Verify(envelope.signature, signedMessage(domain, envelope.payload), envelope.signer)) {
    throw new SignatureError(`signature by ${nodeIdFromPublicKey(envelope.signer)} does not verify`)
  }
}

export function encodeEnvelope (envelope: SignedEnvelope): Uint8Array {
  return encodeCanonical({ domain: envelope.domain, payload: envelope.payload, signer: envelope.signer, signature: envelope.signature })
}

export function decodeEnvelope (bytes: Uint8Array, maxBytes?: number): SignedEnvelope {
  const map = asMap(decodeCanonical(bytes, maxBytes), 'envelope')
  const keys = Object.keys(map)
  if (keys.length !== 4) throw new DecodeError(`envelope: expected keys domain, payload, signer, signature; got ${keys.join(', ')}`)
  return {
    domain: textField(map, 'domain', 'envelope'),
    payload: bytesField(map, 'payload', 'envelope'),
    signer: bytesField(map, 'signer', 'envelope', 32),
    signature: bytesField(map, 'signature', 'envelope', 64)
  }
}
