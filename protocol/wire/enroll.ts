/**
 * `/peerpacs/enroll/1.0.0` messages (docs/protocol.md "Enrollment"). The joining node has dialled
 * the inviter presenting the invite key as its libp2p identity, so the Noise handshake already
 * proved it holds the invite; one frame each way then turns it into a member:
 *
 *   request  { t: 'enroll', node: bytes32, sig: bytes64 }
 *            node = the joiner's Ed25519 node public key; sig = its signature over
 *            canonical(["peerpacs/enroll/v1", org id, invite public key, node public key])
 *            (it holds the key it asks to be added, and asks for this org and this invite only)
 *   answer   { t: 'welcome', genesis: op bytes, addrs: [text] }   the org's genesis op, the inviter's addresses
 *          | { t: 'refused', code: text, message: text }          nothing was written for this request
 *
 * Each message is one length-prefixed canonical CBOR frame; a request is at most
 * MAX_ENROLL_REQUEST_BYTES, an answer at most MAX_ENROLL_ANSWER_BYTES.
 */
import { isBytes } from '../bytes.ts'
import { decodeCanonical, encodeCanonical } from '../canonical.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import { DecodeError, PeerpacsError } from '../errors.ts'
import { signBytes, verifySignature, type NodeKeyPair } from '../identity.ts'
import { MAX_OP_BYTES } from '../log/op.ts'
import { boundedBytes, boundedList, boundedText, strictMap } from '../log/fields.ts'

export const ENROLL_PROTOCOL = '/peerpacs/enroll/1.0.0'
export const ENROLL_DOMAIN = 'peerpacs/enroll/v1'
export const MAX_ENROLL_REQUEST_BYTES = 256
export const MAX_ENROLL_ANSWER_BYTES = MAX_OP_BYTES + 8192
const MAX_ADDRS = 16
const MAX_ADDR_LENGTH = 256
const MAX_MESSAGE_LENGTH = 1000

/** A frame that is not the message this step expects. */
export class EnrollProtocolError extends PeerpacsError {
  static readonly code = 'ENROLL_PROTOCOL'
  constructor (message: string) { super(EnrollProtocolError.code, message) }
}

export interface EnrollRequest { readonly t: 'enroll', readonly node: Uint8Array, readonly sig: Uint8Array }
export type EnrollAnswer =
  | { readonly t: 'welcome', readonly genesis: Uint8Array, readonly addrs: readonly string[] }
  | { readonly t: 'refused', readonly code: string, readonly message: string }

/** The bytes the node key signs. */
export function enrollStatement (org: string, invitePublicKey: Uint8Array, nodePublicKey: Uint8Array): Uint8Array {
  return encodeCanonical([ENROLL_DOMAIN, org, invitePublicKey, nodePublicKey])
}

export function signEnrollRequest (provider: CryptoProvider, nodeKey: NodeKeyPair, org: string, invitePublicKey: Uint8Array): EnrollRequest {
  expectProvider(provider, 'signEnrollRequest(provider)')
  const message = enrollStatement(org, invitePublicKey, nodeKey.publicKey)
  const sig = provider.ed25519Sign !== undefined ? provider.ed25519Sign(nodeKey.secretKey, message) : signBytes(nodeKey.secretKey, message)
  return { t: 'enroll', node: nodeKey.publicKey, sig }
}

/** Whether the request's signature is the node key's over this org and invite (small-order keys refused). */
export function verifyEnrollRequest (provider: CryptoProvider, request: EnrollRequest, org: string, invitePublicKey: Uint8Array): boolean {
  return verifySignature(provider, request.sig, enrollStatement(org, invitePublicKey, request.node), request.node)
}

export function encodeEnrollRequest (request: EnrollRequest): Uint8Array {
  return encodeCanonical({ t: 'enroll', node: request.node, sig: request.sig })
}

export function decodeEnrollRequest (bytes: Uint8Array): EnrollRequest {
  try {
    const m = strictMap(decodeCanonical(bytes, MAX_ENROLL_REQUEST_BYTES), 'enroll request', ['t', 'node', 'sig'])
    if (m.t !== 'enroll') throw new DecodeError('enroll request: t must be "enroll"')
    return { t: 'enroll', node: boundedBytes(m, 'node', 'enroll request', 32, 32), sig: boundedBytes(m, 'sig', 'enroll request', 64, 64) }
  } catch (cause) {
    throw new EnrollProtocolError(`malformed enroll request: ${(cause as Error).message}`)
  }
}

export function encodeEnrollAnswer (answer: EnrollAnswer): Uint8Array {
  return answer.t === 'welcome'
    ? encodeCanonical({ t: 'welcome', genesis: answer.genesis, addrs: [...answer.addrs] })
    : encodeCanonical({ t: 'refused', code: answer.code, message: answer.message.slice(0, MAX_MESSAGE_LENGTH) })
}

export function decodeEnrollAnswer (bytes: Uint8Array): EnrollAnswer {
  try {
    const value = decodeCanonical(bytes, MAX_ENROLL_ANSWER_BYTES)
    const t = (value !== null && typeof value === 'object' && !Array.isArray(value) && !isBytes(value)) ? value.t : undefined
    if (t === 'welcome') {
      const m = strictMap(value, 'enroll answer', ['t', 'genesis', 'addrs'])
      const addrs = boundedList(m, 'addrs', 'enroll answer', 0, MAX_ADDRS).map((a, i) => {
        if (typeof a !== 'string' || a.length < 1 || a.length > MAX_ADDR_LENGTH || !a.startsWith('/')) throw new DecodeError(`enroll answer.addrs[${i}]: expected a multiaddr`)
        return a
      })
      return { t: 'welcome', genesis: boundedBytes(m, 'genesis', 'enroll answer', 1, MAX_OP_BYTES), addrs }
    }
    if (t === 'refused') {
      const m = strictMap(value, 'enroll answer', ['t', 'code', 'message'])
      return { t: 'refused', code: boundedText(m, 'code', 'enroll answer', 1, 64), message: boundedText(m, 'message', 'enroll answer', 0, MAX_MESSAGE_LENGTH) }
    }
    throw new DecodeError('enroll answer: t must be "welcome" or "refused"')
  } catch (cause) {
    throw new EnrollProtocolError(`malformed enroll answer: ${(cause as Error).message}`)
  }
}
