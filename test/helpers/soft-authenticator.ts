/**
 * A software WebAuthn authenticator with its browser, for tests without a browser: given the
 * options a relying party sends, it answers as navigator.credentials.create()/get() would,
 * serialised with PublicKeyCredential.toJSON().
 *
 * Registration: an ES256 (P-256) key from node:crypto, attestation 'none', authenticator data
 * rpIdHash | flags (UP, UV, AT) | counter | AAGUID | credential id length | credential id |
 * COSE_Key (CBOR, via cborg), and clientDataJSON { type: 'webauthn.create', challenge, origin }.
 * Sign-in: authenticator data rpIdHash | flags (UP, UV) | counter, signed (ECDSA over SHA-256,
 * DER, as WebAuthn wants) over authData || SHA-256(clientDataJSON); the counter grows by one
 * per signature unless `keepsCounter: false` (then it stays 0, like many platform passkeys).
 *
 * `Tamper` makes the hostile answers: another origin, RP id, challenge, type or counter, a
 * flipped signature bit, no user presence, or someone else's user handle.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { encode } from 'cborg'
import type {
  AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON
} from '@simplewebauthn/server'

export interface Tamper {
  origin?: string
  rpId?: string
  challenge?: string
  type?: string
  /** The counter to put in the authenticator data instead of the next one (and the stored counter is left alone). */
  counter?: number
  flipSignature?: boolean
  userPresent?: boolean
  userHandle?: string
  /** Answer a registration with a credential it already holds for the RP (ignoring excludeCredentials), as a misbehaving authenticator might. */
  reuseCredential?: boolean
}

interface Held { readonly id: Uint8Array, readonly key: KeyObject, readonly rpId: string, readonly userHandle: string, counter: number }

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_AT = 0x40
/** 'none' attestation: the AAGUID is all zeros. */
const AAGUID = new Uint8Array(16)

const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
const sha256 = (bytes: Uint8Array | string): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest())

function u32 (n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n >>> 0, false)
  return out
}

function concat (...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

export class SoftAuthenticator {
  readonly origin: string
  readonly keepsCounter: boolean
  readonly userVerifies: boolean
  readonly #held: Held[] = []

  constructor (options: { origin: string, keepsCounter?: boolean, userVerifies?: boolean }) {
    this.origin = options.origin
    this.keepsCounter = options.keepsCounter ?? true
    this.userVerifies = options.userVerifies ?? true
  }

  /** navigator.credentials.create(): a new credential for options.rp.id and options.user. */
  create (options: PublicKeyCredentialCreationOptionsJSON, tamper: Tamper = {}): RegistrationResponseJSON {
    if (!options.pubKeyCredParams.some((p) => p.alg === -7)) throw new Error('the soft authenticator only makes ES256 keys, and the options do not offer -7')
    const rpId = options.rp.id ?? new URL(this.origin).hostname
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id))
    const reused = tamper.reuseCredential === true ? this.#held.find((h) => h.rpId === rpId) : undefined
    if (tamper.reuseCredential === true && reused === undefined) throw new Error('reuseCredential: the authenticator holds no credential for this RP yet')
    if (reused === undefined && this.#held.some((h) => h.rpId === rpId && excluded.has(b64u(h.id)))) {
      throw new Error('InvalidStateError: the authenticator already holds an excluded credential')
    }
    const { privateKey, publicKey } = reused === undefined ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : { privateKey: reused.key, publicKey: createPublicKey(reused.key) }
    const jwk = publicKey.export({ format: 'jwk' })
    const cose = encode(new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))]
    ]))
    const id = reused?.id ?? new Uint8Array(randomBytes(32))
    const held: Held = reused ?? { id, key: privateKey, rpId, userHandle: options.user.id, counter: 0 }
    if (reused === undefined) this.#held.push(held)
    const flags = (tamper.userPresent === false ? 0 : FLAG_UP) | (this.userVerifies ? FLAG_UV : 0) | FLAG_AT
    const idLength = new Uint8Array([id.length >> 8, id.length & 0xff])
    const authData = concat(sha256(tamper.rpId ?? rpId), new Uint8Array([flags]), u32(tamper.counter ?? held.counter), AAGUID, idLength, id, cose)
    const attestationObject = encode({ fmt: 'none', attStmt: {}, authData })
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: this.#clientData('webauthn.create', options.challenge, tamper),
        attestationObject: b64u(attestationObject),
        transports: ['usb', 'nfc']
      }
    }
  }

  /** navigator.credentials.get(): an assertion by the first allowed credential this authenticator holds. */
  get (options: PublicKeyCredentialRequestOptionsJSON, tamper: Tamper = {}): AuthenticationResponseJSON {
    const rpId = options.rpId ?? new URL(this.origin).hostname
    const allowed = options.allowCredentials?.map((c) => c.id)
    const held = this.#held.find((h) => h.rpId === rpId && (allowed === undefined || allowed.length === 0 || allowed.includes(b64u(h.id))))
    if (held === undefined) throw new Error('NotAllowedError: the authenticator holds no credential the options allow')
    let counter = tamper.counter
    if (counter === undefined) {
      if (this.keepsCounter) held.counter += 1
      counter = held.counter
    }
    const flags = (tamper.userPresent === false ? 0 : FLAG_UP) | (this.userVerifies ? FLAG_UV : 0)
    const authData = concat(sha256(tamper.rpId ?? rpId), new Uint8Array([flags]), u32(counter))
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, tamper)
    const signature = new Uint8Array(sign('sha256', concat(authData, sha256(Buffer.from(clientDataJSON, 'base64url'))), held.key))
    if (tamper.flipSignature === true) signature[signature.length - 1]! ^= 0x01
    return {
      id: b64u(held.id),
      rawId: b64u(held.id),
      type: 'public-key',
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON,
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: tamper.userHandle ?? held.userHandle
      }
    }
  }

  /** A second authenticator holding copies of this one's keys and counters: a cloned device. */
  clone (): SoftAuthenticator {
    const copy = new SoftAuthenticator({ origin: this.origin, keepsCounter: this.keepsCounter, userVerifies: this.userVerifies })
    for (const h of this.#held) {
      const key = createPrivateKey(h.key.export({ format: 'pem', type: 'pkcs8' }))
      copy.#held.push({ id: h.id, key, rpId: h.rpId, userHandle: h.userHandle, counter: h.counter })
    }
    return copy
  }

  #clientData (type: string, challenge: string, tamper: Tamper): string {
    const data = { type: tamper.type ?? type, challenge: tamper.challenge ?? challenge, origin: tamper.origin ?? this.origin, crossOrigin: false }
    return b64u(new TextEncoder().encode(JSON.stringify(data)))
  }
}
