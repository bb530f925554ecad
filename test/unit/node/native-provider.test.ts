/**
 * node/crypto/native-provider.ts against protocol's noble reference: SHA-256 (one shot and
 * streamed in random pieces), ChaCha20-Poly1305 seal/open and tamper detection, whole STREAM
 * objects (protocol/aead-stream.ts), and Ed25519 verification, including the speccheck edge
 * cases in test/vectors/ed25519-edge-cases.json where ZIP-215 and OpenSSL disagree.
 */
import { createPublicKey, verify as rawVerify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nativeProvider } from '../../../node/crypto/native-provider.ts'
import { nobleProvider, type CryptoProvider } from '../../../protocol/crypto-provider.ts'
import { AuthenticationError } from '../../../protocol/errors.ts'
import { openBytes, sealBytes, sealedLength } from '../../../protocol/aead-stream.ts'
import { xchachaOpen, xchachaSeal } from '../../../protocol/xchacha.ts'
import { generateNodeKey, signBytes } from '../../../protocol/identity.ts'
import { fromHexString, randomPieces, seeded, toHexString } from './helpers/seeded.ts'

const native = nativeProvider
const noble = nobleProvider

function hex (bytes: Uint8Array): string { return toHexString(bytes) }

function streamed (provider: CryptoProvider, pieces: Uint8Array[]): Uint8Array {
  const h = provider.createSha256()
  for (const piece of pieces) h.update(piece)
  return h.digest()
}

test('sha256: native equals noble for every length 0..300, whole and in random pieces', () => {
  const rng = seeded(1)
  for (let length = 0; length <= 300; length++) {
    const data = rng.bytes(length)
    const want = hex(noble.sha256(data))
    assert.equal(hex(native.sha256(data)), want, `sha256 of ${length} bytes`)
    const pieces = randomPieces(data, rng, 70)
    assert.equal(hex(streamed(native, pieces)), want, `createSha256 of ${length} bytes in ${pieces.length} pieces`)
    assert.equal(hex(streamed(noble, pieces)), want)
  }
})

test('sha256: native equals noble on a few MB, whole and in random pieces', () => {
  const rng = seeded(2)
  for (const length of [(1 << 20) - 1, 3 * (1 << 20) + 17]) {
    const data = rng.bytes(length)
    const want = hex(noble.sha256(data))
    assert.equal(hex(native.sha256(data)), want)
    assert.equal(hex(streamed(native, randomPieces(data, rng, 200_000))), want)
  }
})

test('sha256: the native hasher chains update() and returns a plain Uint8Array digest', () => {
  const h = native.createSha256()
  const digest = h.update(new Uint8Array([1])).update(new Uint8Array([2, 3])).digest()
  assert.equal(digest.length, 32)
  assert.equal(hex(digest), hex(noble.sha256(new Uint8Array([1, 2, 3]))))
  // An empty update changes nothing.
  assert.equal(hex(native.createSha256().update(new Uint8Array(0)).digest()), hex(noble.sha256(new Uint8Array(0))))
})

const CHACHA_LENGTHS = [0, 1, 15, 16, 17, 63, 64, 65, 1000, 65536, 1 << 20]

test('chachaSeal: native output equals noble for random keys, nonces and AADs', () => {
  const rng = seeded(3)
  for (const length of CHACHA_LENGTHS) {
    for (let round = 0; round < 3; round++) {
      const key = rng.bytes(32)
      const nonce = rng.bytes(12)
      const aad = rng.bytes(rng.pick([0, 1, 13, 24, 300]))
      const plaintext = rng.bytes(length)
      const fromNative = native.chachaSeal(key, nonce, plaintext, aad)
      const fromNoble = noble.chachaSeal(key, nonce, plaintext, aad)
      assert.equal(fromNative.length, length + 16)
      assert.ok(fromNative instanceof Uint8Array)
      assert.equal(hex(fromNative), hex(fromNoble), `seal of ${length} bytes, aad ${aad.length}`)
      // Each opens the other's output.
      assert.equal(hex(native.chachaOpen(key, nonce, fromNoble, aad)), hex(plaintext))
      assert.equal(hex(noble.chachaOpen(key, nonce, fromNative, aad)), hex(plaintext))
    }
  }
})

test('chacha: inputs that are views into larger buffers (non-zero byteOffset) give the same bytes', () => {
  const rng = seeded(9)
  const backing = rng.bytes(4096)
  for (let round = 0; round < 20; round++) {
    const view = (length: number): Uint8Array => {
      const at = rng.int(1, backing.length - length - 1)
      return backing.subarray(at, at + length)
    }
    const key = view(32)
    const nonce = view(12)
    const aad = view(rng.int(0, 50))
    const plaintext = view(rng.int(0, 2000))
    const sealed = native.chachaSeal(key, nonce, plaintext, aad)
    assert.equal(hex(sealed), hex(noble.chachaSeal(key.slice(), nonce.slice(), plaintext.slice(), aad.slice())))
    const inside = new Uint8Array(sealed.length + 9)
    inside.set(sealed, 5)
    assert.equal(hex(native.chachaOpen(key, nonce, inside.subarray(5, 5 + sealed.length), aad)), hex(plaintext))
    assert.equal(hex(native.sha256(plaintext)), hex(noble.sha256(plaintext.slice())))
  }
})

test('chacha: the key bytes decide, not the array holding them (a reused or rewritten key buffer)', {
}, () => {
  const rng = seeded(10)
  const key = rng.bytes(32)
  const nonce = rng.bytes(12)
  const plaintext = rng.bytes(100)
  const aad = rng.bytes(5)
  for (let round = 0; round < 4; round++) {
    const sealed = native.chachaSeal(key, nonce, plaintext, aad)
    assert.equal(hex(sealed), hex(noble.chachaSeal(key.slice(), nonce, plaintext, aad)), `round ${round}`)
    assert.equal(hex(native.chachaOpen(key, nonce, sealed, aad)), hex(plaintext))
    const previous = key.slice()
    key.set(rng.bytes(32)) // the same array now holds another key
    assert.throws(() => native.chachaOpen(key, nonce, sealed, aad), AuthenticationError, 'opened with the old key after the array changed')
    assert.equal(hex(native.chachaOpen(previous, nonce, sealed, aad)), hex(plaintext))
  }
  key.fill(0) // zeroised after use, then used again
  assert.equal(hex(native.chachaSeal(key, nonce, plaintext, aad)), hex(noble.chachaSeal(new Uint8Array(32), nonce, plaintext, aad)))
})

test('chachaSeal: RFC 8439 §2.8.2 vector, from both providers', () => {
  const key = fromHexString('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
  const nonce = fromHexString('070000004041424344454647')
  const aad = fromHexString('50515253c0c1c2c3c4c5c6c7')
  const plaintext = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
  const tag = '1ae10b594f09e26a7e902ecbd0600691'
  for (const provider of [native, noble]) {
    const sealed = provider.chachaSeal(key, nonce, plaintext, aad)
    assert.ok(hex(sealed).startsWith('d31a8d34648e60db7b86afbc53ef7ec2'), provider.name)
    assert.ok(hex(sealed).endsWith(tag), provider.name)
  }
})

test('chachaOpen: any tampering fails in both providers with AuthenticationError, and native returns nothing', () => {
  const rng = seeded(4)
  for (const length of CHACHA_LENGTHS) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(12)
    const aad = rng.bytes(rng.int(0, 40))
    const plaintext = rng.bytes(length)
    const sealed = noble.chachaSeal(key, nonce, plaintext, aad)
    const flip = (bytes: Uint8Array, at: number): Uint8Array => {
      const copy = bytes.slice()
      copy[at] = copy[at]! ^ (1 << rng.int(0, 7))
      return copy
    }
    const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array, Uint8Array]> = [
      ['tag bit', key, nonce, flip(sealed, sealed.length - 1 - rng.int(0, 15)), aad],
      ['wrong key', flip(key, rng.int(0, 31)), nonce, sealed, aad],
      ['wrong nonce', key, flip(nonce, rng.int(0, 11)), sealed, aad],
      ['extra aad byte', key, nonce, sealed, new Uint8Array([...aad, 0])],
      ['truncated by one byte', key, nonce, sealed.subarray(0, sealed.length - 1), aad],
      ['shorter than the tag', key, nonce, sealed.subarray(0, 15), aad],
      ['empty', key, nonce, new Uint8Array(0), aad]
    ]
    if (length > 0) cases.push(['ciphertext bit', key, nonce, flip(sealed, rng.int(0, length - 1)), aad])
    if (aad.length > 0) cases.push(['aad bit', key, nonce, sealed, flip(aad, rng.int(0, aad.length - 1))])
    for (const [what, k, n, s, a] of cases) {
      let returned: Uint8Array | undefined
      assert.throws(() => { returned = native.chachaOpen(k, n, s, a) }, AuthenticationError, `native, ${what}, length ${length}`)
      assert.equal(returned, undefined, `native returned plaintext for ${what}`)
      assert.throws(() => noble.chachaOpen(k, n, s, a), AuthenticationError, `noble, ${what}, length ${length}`)
    }
  }
})

test('chachaOpen: the native error names what failed and keeps the cause', () => {
  const key = new Uint8Array(32)
  const nonce = new Uint8Array(12)
  const sealed = native.chachaSeal(key, nonce, new Uint8Array(10), new Uint8Array(0))
  sealed[0] = sealed[0]! ^ 1
  assert.throws(() => native.chachaOpen(key, nonce, sealed, new Uint8Array(0)), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError)
    assert.equal(error.code, 'AUTH_FAILED')
    assert.match(error.message, /tag did not verify/)
    assert.ok(error.cause !== undefined, 'the OpenSSL error is kept as the cause')
    return true
  })
  assert.throws(() => native.chachaOpen(key, nonce, new Uint8Array(7), new Uint8Array(0)), /7 bytes is shorter than its tag/)
})

test('xchacha: sealing through either provider gives the same bytes, and each opens the other', () => {
  const rng = seeded(5)
  for (const length of [0, 1, 64, 1000, 70_000]) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const aad = rng.bytes(rng.int(0, 30))
    const plaintext = rng.bytes(length)
    const a = xchachaSeal(native, key, nonce, plaintext, aad)
    const b = xchachaSeal(noble, key, nonce, plaintext, aad)
    assert.equal(hex(a), hex(b))
    assert.equal(hex(xchachaOpen(noble, key, nonce, a, aad)), hex(plaintext))
    assert.equal(hex(xchachaOpen(native, key, nonce, b, aad)), hex(plaintext))
  }
})

test('STREAM: whole sealed objects are byte-identical under both providers, and each opens the other', () => {
  const sizes: Array<[number, number | undefined]> = [
    [0, undefined], [1, 1024], [1023, 1024], [1024, 1024], [1025, 1024], [3 * 1024 + 5, 1024],
    [65536, undefined], [65537, undefined], [300_000, undefined], [(1 << 20) + 3, 4096]
  ]
  for (const [index, [length, chunkSize]] of sizes.entries()) {
    const data = seeded(100 + index)
    const dataKey = data.bytes(32)
    const plaintext = data.bytes(length)
    const options = (provider: CryptoProvider) => ({
      dataKey, provider, random: seeded(1000 + index).random, ...(chunkSize === undefined ? {} : { chunkSize })
    })
    const fromNative = sealBytes(options(native), plaintext)
    const fromNoble = sealBytes(options(noble), plaintext)
    assert.equal(fromNative.length, sealedLength(length, chunkSize))
    assert.equal(hex(fromNative), hex(fromNoble), `STREAM of ${length} bytes, chunk ${chunkSize ?? 'default'}`)
    assert.equal(hex(openBytes({ dataKey, provider: noble }, fromNative)), hex(plaintext))
    assert.equal(hex(openBytes({ dataKey, provider: native }, fromNoble)), hex(plaintext))
  }
})

test('STREAM: a flipped byte anywhere fails to open under both providers', () => {
  const rng = seeded(6)
  const dataKey = rng.bytes(32)
  const plaintext = rng.bytes(5000)
  const sealed = sealBytes({ dataKey, provider: native, random: rng.random, chunkSize: 1024 }, plaintext)
  for (let round = 0; round < 20; round++) {
    const damaged = sealed.slice()
    const at = rng.int(24, damaged.length - 1) // past the header: a header flip is a DecodeError or an auth failure
    damaged[at] = damaged[at]! ^ 0x40
    for (const provider of [native, noble]) {
      assert.throws(() => openBytes({ dataKey, provider }, damaged), AuthenticationError, `${provider.name}, byte ${at}`)
    }
  }
})

test('ed25519Verify: valid signatures agree (true); a flipped bit in signature, message or key agrees (false)', () => {
  const rng = seeded(7)
  for (let round = 0; round < 64; round++) {
    const key = generateNodeKey(rng.random)
    const message = rng.bytes(rng.int(0, 200))
    const signature = signBytes(key.secretKey, message)
    assert.equal(native.ed25519Verify(signature, message, key.publicKey), true)
    assert.equal(noble.ed25519Verify(signature, message, key.publicKey), true)
    const flipped = (bytes: Uint8Array): Uint8Array => {
      const copy = bytes.slice()
      const at = rng.int(0, copy.length - 1)
      copy[at] = copy[at]! ^ (1 << rng.int(0, 7))
      return copy
    }
    const bad: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
      ['signature', flipped(signature), message, key.publicKey],
      ['public key', signature, message, flipped(key.publicKey)]
    ]
    if (message.length > 0) bad.push(['message', signature, flipped(message), key.publicKey])
    for (const [what, s, m, p] of bad) {
      const a = native.ed25519Verify(s, m, p)
      const b = noble.ed25519Verify(s, m, p)
      assert.equal(a, b, `native and noble disagree on a flipped ${what}`)
      assert.equal(a, false, `flipped ${what} verified`)
    }
  }
})

test('ed25519Verify: wrong-length inputs are false in both providers, never a throw', () => {
  const rng = seeded(8)
  const key = generateNodeKey(rng.random)
  const message = rng.bytes(10)
  const signature = signBytes(key.secretKey, message)
  const inputs: Array<[Uint8Array, Uint8Array]> = [
    [signature.subarray(0, 63), key.publicKey],
    [new Uint8Array([...signature, 0]), key.publicKey],
    [new Uint8Array(0), key.publicKey],
    [signature, key.publicKey.subarray(0, 31)],
    [signature, new Uint8Array([...key.publicKey, 0])],
    [signature, new Uint8Array(0)]
  ]
  for (const [s, p] of inputs) {
    assert.equal(native.ed25519Verify(s, message, p), false, `sig ${s.length}, key ${p.length}`)
    assert.equal(noble.ed25519Verify(s, message, p), false, `sig ${s.length}, key ${p.length}`)
  }
})

interface EdgeCase { message: string, pub_key: string, signature: string, zip215: boolean }
interface EdgeCaseFile { source: string, cases: EdgeCase[] }

const vectors = JSON.parse(readFileSync(new URL('../../vectors/ed25519-edge-cases.json', import.meta.url), 'utf8')) as EdgeCaseFile

test('ed25519Verify: speccheck edge cases — native === noble === the frozen ZIP-215 answer', () => {
  assert.match(vectors.source, /ed25519-speccheck/)
  assert.equal(vectors.cases.length, 13)
  for (const [i, c] of vectors.cases.entries()) {
    const s = fromHexString(c.signature)
    const m = fromHexString(c.message)
    const p = fromHexString(c.pub_key)
    const fromNoble = noble.ed25519Verify(s, m, p)
    // Twice: the native provider caches key objects, and the second call must not differ.
    const fromNative = [native.ed25519Verify(s, m, p), native.ed25519Verify(s, m, p)]
    assert.equal(fromNoble, c.zip215, `case ${i}: noble no longer gives the frozen answer`)
    assert.deepEqual(fromNative, [c.zip215, c.zip215], `case ${i}: native disagrees with ZIP-215`)
  }
  // The set is not one-sided: it has both accepted and rejected cases.
  assert.ok(vectors.cases.some((c) => c.zip215) && vectors.cases.some((c) => !c.zip215))
})

function opensslVerify (c: EdgeCase): boolean {
  try {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(c.pub_key, 'hex')])
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' })
    return rawVerify(null, Buffer.from(c.message, 'hex'), key, Buffer.from(c.signature, 'hex'))
  } catch {
    return false
  }
}

test('ed25519Verify: raw node:crypto verify disagrees with ZIP-215, which is why native falls back to noble', () => {
  // Case 0: small-order A and R with S = 0 ([8](S·B) = [8]R + [8][k]A holds trivially). ZIP-215's
  // cofactored equation accepts it; OpenSSL rejects it. If native used OpenSSL's answer alone,
  // replicas on Node and in a browser would disagree about which ops are validly signed.
  const case0 = vectors.cases[0]!
  assert.equal(case0.zip215, true)
  assert.equal(opensslVerify(case0), false)

  const disagree = vectors.cases.flatMap((c, i) => opensslVerify(c) === c.zip215 ? [] : [i])
  assert.ok(disagree.length > 0)
  // OpenSSL is stricter, never looser: every disagreement is an OpenSSL reject of a ZIP-215
  // accept. This is what makes "OpenSSL valid is final" in native-provider.ts sound.
  for (const i of disagree) assert.equal(vectors.cases[i]!.zip215, true, `case ${i}: OpenSSL accepts what ZIP-215 rejects`)
  for (const [i, c] of vectors.cases.entries()) {
    if (opensslVerify(c)) assert.equal(c.zip215, true, `case ${i}`)
  }
})

test('ed25519Sign: native signatures equal noble\'s (RFC 8032 is deterministic) for random keys and messages, and a rewritten key array signs with its new key', () => {
  const rng = seeded(8032)
  for (let i = 0; i < 200; i++) {
    const secret = rng.bytes(32)
    const message = rng.bytes(i % 7 === 0 ? 0 : (i * 37) % 3000)
    const native = nativeProvider.ed25519Sign!(secret, message)
    assert.equal(toHexString(native), toHexString(nobleProvider.ed25519Sign!(secret, message)))
    assert.equal(toHexString(native), toHexString(signBytes(secret, message)))
  }
  // RFC 8032 §7.1 test 1: empty message.
  const seed = fromHexString('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
  assert.equal(toHexString(nativeProvider.ed25519Sign!(seed, new Uint8Array(0))),
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b')
  const key = rng.bytes(32)
  const first = nativeProvider.ed25519Sign!(key, new Uint8Array([1]))
  const other = rng.bytes(32)
  key.set(other)
  assert.equal(toHexString(nativeProvider.ed25519Sign!(key, new Uint8Array([1]))), toHexString(nobleProvider.ed25519Sign!(other, new Uint8Array([1]))))
  assert.notEqual(toHexString(first), toHexString(nativeProvider.ed25519Sign!(key, new Uint8Array([1]))))
})
