/**
 * protocol/identity.ts: Ed25519 node keys on RFC 8032 section 7.1 (key derivation, signing, and
 * nobleProvider's verification), node ids as libp2p PeerId strings computed independently from
 * the peer-ids spec (test/vectors/libp2p-peer-id.json), and the X25519 forms of a node key.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { base58 } from '@scure/base'
import { x25519 } from '@noble/curves/ed25519.js'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { DecodeError } from '../../../protocol/errors.ts'
import {
  generateNodeKey, isNodeId, nodeIdFromPublicKey, nodeKeyFromSecret, publicKeyFromNodeId, signBytes, x25519PublicKey, x25519SecretKey
} from '../../../protocol/identity.ts'
import { fixedRandom, flipBit, h, hx, loadVectors, Rng, throwsPeerpacs } from './helpers.ts'

interface Ed25519Vectors { cases: Array<{ name: string, secretKey: string, publicKey: string, message: string, signature: string }> }
interface PeerIdVectors { cases: Array<{ name: string, publicKey: string, protobuf: string, multihash: string, peerId: string }> }
const ed = loadVectors<Ed25519Vectors>('ed25519-rfc8032.json')
const peerIds = loadVectors<PeerIdVectors>('libp2p-peer-id.json')
const verify = nobleProvider.ed25519Verify

/** The libp2p peer-ids spec, written out: base58btc(identity multihash(protobuf PublicKey{Ed25519, key})). */
function specPeerId (publicKey: Uint8Array, keyType = 1): string {
  const protobuf = new Uint8Array([0x08, keyType, 0x12, publicKey.length, ...publicKey])
  const multihash = new Uint8Array([0x00, protobuf.length, ...protobuf])
  return base58.encode(multihash)
}

test('RFC 8032 7.1: the secret key gives the public key, signBytes gives the signature, verify accepts it', () => {
  for (const c of ed.cases) {
    const key = nodeKeyFromSecret(h(c.secretKey))
    assert.equal(hx(key.publicKey), c.publicKey, c.name)
    assert.equal(hx(key.secretKey), c.secretKey)
    assert.equal(hx(signBytes(h(c.secretKey), h(c.message))), c.signature, c.name)
    assert.equal(verify(h(c.signature), h(c.message), h(c.publicKey)), true, c.name)
  }
})

test('RFC 8032 7.1: verify rejects a flipped bit in the signature, the message or the public key', () => {
  for (const c of ed.cases) {
    const [sig, msg, pub] = [h(c.signature), h(c.message), h(c.publicKey)]
    for (let byte = 0; byte < 64; byte++) {
      const bit = byte * 8 + (byte % 8)
      assert.equal(verify(flipBit(sig, bit), msg, pub), false, `${c.name}: signature bit ${bit}`)
    }
    for (let bit = 0; bit < msg.length * 8; bit++) assert.equal(verify(sig, flipBit(msg, bit), pub), false, `${c.name}: message bit ${bit}`)
    assert.equal(verify(sig, new Uint8Array([...msg, 0]), pub), false, `${c.name}: message with a byte appended`)
    for (let byte = 0; byte < 32; byte += 3) {
      assert.equal(verify(sig, msg, flipBit(pub, byte * 8 + (byte % 8))), false, `${c.name}: public key byte ${byte}`)
    }
  }
  // A signature from TEST 2 does not verify TEST 3's message under TEST 3's key.
  assert.equal(verify(h(ed.cases[1]!.signature), h(ed.cases[2]!.message), h(ed.cases[2]!.publicKey)), false)
})

test('verify returns false, never throws, for malformed signatures and keys', () => {
  const c = ed.cases[0]!
  assert.equal(verify(h(c.signature).subarray(0, 63), h(c.message), h(c.publicKey)), false)
  assert.equal(verify(h(c.signature), h(c.message), h(c.publicKey).subarray(0, 31)), false)
  assert.equal(verify(h(c.signature), h(c.message), new Uint8Array(32).fill(0xff)), false, 'public key not on the curve')
  // S ≥ L is refused (no malleable signatures): S + L for TEST 1.
  const sig = h(c.signature)
  const L = 2n ** 252n + 27742317777372353535851937790883648493n
  let s = 0n
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!)
  let sPlusL = s + L
  const malleable = sig.slice()
  for (let i = 0; i < 32; i++) { malleable[32 + i] = Number(sPlusL & 0xffn); sPlusL >>= 8n }
  assert.equal(verify(malleable, h(c.message), h(c.publicKey)), false, 'S + L')
})

test('node id: libp2p peer id of the RFC 8032 keys, computed from the spec and frozen', () => {
  for (const c of peerIds.cases) {
    const pub = h(c.publicKey)
    assert.equal(hx(new Uint8Array([0x08, 0x01, 0x12, 0x20, ...pub])), c.protobuf)
    assert.equal(specPeerId(pub), c.peerId, `${c.name}: spec computation`)
    assert.equal(nodeIdFromPublicKey(pub), c.peerId, c.name)
    assert.ok(c.peerId.startsWith('12D3KooW'), 'Ed25519 peer ids print as 12D3KooW…')
    assert.equal(hx(base58.decode(c.peerId)), c.multihash)
    assert.equal(hx(publicKeyFromNodeId(c.peerId)), c.publicKey)
    assert.ok(isNodeId(c.peerId))
  }
})

test('node id round trip for random keys', () => {
  const rng = new Rng(3)
  for (let i = 0; i < 50; i++) {
    const key = generateNodeKey(rng.random)
    const id = nodeIdFromPublicKey(key.publicKey)
    assert.equal(id, specPeerId(key.publicKey))
    assert.deepEqual(publicKeyFromNodeId(id), key.publicKey)
  }
})

test('publicKeyFromNodeId refuses ids that are not Ed25519 peer ids, with DecodeError', () => {
  const pub = h(peerIds.cases[0]!.publicKey)
  const id = nodeIdFromPublicKey(pub)
  const bytes = base58.decode(id)
  const withByte = (index: number, value: number): string => { const b = bytes.slice(); b[index] = value; return base58.encode(b) }
  const cases: Array<[string, string]> = [
    ['secp256k1 key type (protobuf Type = 2)', specPeerId(pub, 2)],
    ['RSA key type (protobuf Type = 0)', specPeerId(pub, 0)],
    ['sha2-256 multihash instead of identity', withByte(0, 0x12)],
    ['wrong multihash length', withByte(1, 0x25)],
    ['wrong protobuf field', withByte(2, 0x10)],
    ['wrong data length', withByte(5, 0x21)],
    ['truncated by one character', id.slice(0, -1)],
    ['truncated to half', id.slice(0, 26)],
    ['one byte too many', base58.encode(new Uint8Array([...bytes, 0]))],
    ['empty', ''],
    ['not base58 (0, O, I, l)', id.slice(0, -1) + '0'],
    ['trailing space', id + ' '],
    ['leading newline', '\n' + id],
    ['a CIDv1 string', 'bafzaajaiaejcb'],
    ['Qm… (sha2-256 RSA peer id)', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N']
  ]
  for (const [name, text] of cases) {
    throwsPeerpacs(() => publicKeyFromNodeId(text), DecodeError, name)
    assert.equal(isNodeId(text), false, name)
  }
  for (const notText of [undefined, null, 1, pub]) assert.equal(isNodeId(notText), false)
})

test('nodeKeyFromSecret copies the secret; generateNodeKey draws 32 bytes', () => {
  const secret = h(ed.cases[0]!.secretKey)
  const key = nodeKeyFromSecret(secret)
  secret.fill(0)
  assert.equal(hx(key.secretKey), ed.cases[0]!.secretKey)
  const generated = generateNodeKey(fixedRandom(h(ed.cases[1]!.secretKey)))
  assert.equal(hx(generated.publicKey), ed.cases[1]!.publicKey)
})

test('X25519 forms: the secret form\'s public key is the public form, and both sides agree on a shared secret', () => {
  const rng = new Rng(4)
  const keys = [...ed.cases.map(c => nodeKeyFromSecret(h(c.secretKey))), ...Array.from({ length: 20 }, () => generateNodeKey(rng.random))]
  for (const key of keys) {
    const xs = x25519SecretKey(key.secretKey)
    const xp = x25519PublicKey(key.publicKey)
    assert.equal(xs.length, 32)
    assert.equal(hx(x25519.getPublicKey(xs)), hx(xp))
  }
  const [a, b] = [keys[0]!, keys[1]!]
  assert.equal(
    hx(x25519.getSharedSecret(x25519SecretKey(a.secretKey), x25519PublicKey(b.publicKey))),
    hx(x25519.getSharedSecret(x25519SecretKey(b.secretKey), x25519PublicKey(a.publicKey))))
})

test('x25519PublicKey refuses bytes that are not an Ed25519 point, with DecodeError', () => {
  for (const bad of ['ff'.repeat(32), '02' + '00'.repeat(31), '01' + '00'.repeat(31)]) {
    throwsPeerpacs(() => x25519PublicKey(h(bad)), DecodeError, bad)
  }
})
