/**
 * Signed envelope: a payload (canonical bytes), who signed it and the signature. The signature
 * covers canonical(["peerpacs/sig/v1", domain, payload]), so a signature made for one purpose
 * (a genesis record, a log op, an invite) never verifies as another.
 */
import { equalBytes, expectBytes, expectObject, expectString } from './bytes.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, textField } from './canonical.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { DecodeError, InvalidArgumentError, SignatureError } from './errors.ts'
import { isWeakPublicKey, nodeIdFromPublicKey, nodeKeyFromSecret, signBytes, verifySignature, type NodeKeyPair } from './identity.ts'

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

// Key pairs already checked to be consistent (public key = the secret's), to sign fast.
const checkedKeys = new WeakSet<NodeKeyPair>()

function checkKeyPair (key: NodeKeyPair): void {
  expectObject(key, 'signEnvelope(key)')
  expectBytes(key.secretKey, 'signEnvelope(key.secretKey)', 32)
  expectBytes(key.publicKey, 'signEnvelope(key.publicKey)', 32)
  if (checkedKeys.has(key)) return
  if (!equalBytes(nodeKeyFromSecret(key.secretKey).publicKey, key.publicKey)) {
    throw new InvalidArgumentError('signEnvelope(key): the public key is not the one of this secret key')
  }
  checkedKeys.add(key)
}

/** Signs with the provider's signer when it has one (a native one, byte-identical), else the reference. */
export function signEnvelope (key: NodeKeyPair, domain: string, payload: Uint8Array, provider?: CryptoProvider): SignedEnvelope {
  expectString(domain, 'signEnvelope(domain)')
  expectBytes(payload, 'signEnvelope(payload)')
  checkKeyPair(key)
  const message = signedMessage(domain, payload)
  const signature = provider?.ed25519Sign !== undefined ? expectBytes(provider.ed25519Sign(key.secretKey, message), 'signEnvelope: the provider\'s signature', 64) : signBytes(key.secretKey, message)
  return { domain, payload, signer: key.publicKey, signature }
}

/** Throws SignatureError unless the envelope is for `domain` and its signature verifies (identity.ts verifySignature). */
export function verifyEnvelope (provider: CryptoProvider, envelope: SignedEnvelope, domain: string): void {
  expectProvider(provider, 'verifyEnvelope(provider)')
  expectString(domain, 'verifyEnvelope(domain)')
  checkEnvelope(envelope, 'verifyEnvelope')
  if (envelope.domain !== domain) {
    throw new SignatureError(`envelope was signed for "${envelope.domain}", expected "${domain}"`)
  }
  if (isWeakPublicKey(envelope.signer)) {
    throw new SignatureError('envelope signer is a small-order key, under which anyone can forge signatures')
  }
  if (!verifySignature(provider, envelope.signature, signedMessage(domain, envelope.payload), envelope.signer)) {
    throw new SignatureError(`signature by ${nodeIdFromPublicKey(envelope.signer)} does not verify`)
  }
}

function checkEnvelope (envelope: SignedEnvelope, where: string): void {
  expectObject(envelope, `${where}(envelope)`)
  expectString(envelope.domain, `${where}(envelope.domain)`)
  expectBytes(envelope.payload, `${where}(envelope.payload)`)
  expectBytes(envelope.signer, `${where}(envelope.signer)`, 32)
  expectBytes(envelope.signature, `${where}(envelope.signature)`, 64)
}

export function encodeEnvelope (envelope: SignedEnvelope): Uint8Array {
  checkEnvelope(envelope, 'encodeEnvelope')
  return encodeCanonical({ domain: envelope.domain, payload: envelope.payload, signer: envelope.signer, signature: envelope.signature })
}

export function decodeEnvelope (bytes: Uint8Array, maxBytes?: number, options: { knownCanonical?: boolean } = {}): SignedEnvelope {
  const map = asMap(decodeCanonical(bytes, maxBytes, options), 'envelope')
  const keys = Object.keys(map)
  if (keys.length !== 4) throw new DecodeError(`envelope: expected keys domain, payload, signer, signature; got ${keys.join(', ')}`)
  return {
    domain: textField(map, 'domain', 'envelope'),
    payload: bytesField(map, 'payload', 'envelope'),
    signer: bytesField(map, 'signer', 'envelope', 32),
    signature: bytesField(map, 'signature', 'envelope', 64)
  }
}
