/**
 * Wrong-typed and wrong-length inputs fed to every exported function and constructor of
 * protocol/ that takes bytes, text or integers. Each must throw a PeerpacsError (InvalidArgumentError
 * for wrong types and lengths; DecodeError where the argument is text or bytes being parsed)
 * whose message names the argument: never a TypeError from inside a library, never a result.
 * Buffer is accepted wherever bytes are, since it is a Uint8Array (checked per row).
 * Non-data arguments (provider, RandomSource, options objects) are at the end of the file.
 *
 * Covered elsewhere: the hkdfSha256 label (kdf.test.ts), decodeCanonical's maxBytes
 * (canonical.test.ts), encodeCanonical's values (canonical.test.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openBytes, sealBytes, sealedLength, StreamOpener, StreamSealer } from '../../../protocol/aead-stream.ts'
import { blobIdBytes, blobIdOf, BlobHasher, isBlobId, parseBlobId, verifyBlock, verifyDigest } from '../../../protocol/blob-id.ts'
import { concatBytes, describe, equalBytes, isBytes, readUintBE, uintBE, utf8Decode, utf8Encode } from '../../../protocol/bytes.ts'
import { decodeCanonical } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { fromBase32, fromBase58, fromHex, toBase32, toBase58, toHex } from '../../../protocol/encoding.ts'
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope, type SignedEnvelope } from '../../../protocol/envelope.ts'
import { DecodeError, InvalidArgumentError, PeerpacsError } from '../../../protocol/errors.ts'
import { createGenesis, isOrgId, readGenesis } from '../../../protocol/genesis.ts'
import {
  generateNodeKey, isNodeId, nodeIdFromPublicKey, nodeKeyFromSecret, publicKeyFromNodeId, signBytes, x25519PublicKey, x25519SecretKey, type NodeKeyPair
} from '../../../protocol/identity.ts'
import { hkdfSha256, hmacSha256, LABELS } from '../../../protocol/kdf.ts'
import { platformRandom, type RandomSource } from '../../../protocol/random.ts'
import { decodeRecoveryKey, encodeRecoveryKey } from '../../../protocol/recovery-key.ts'
import { openSealedBox, sealToPublicKey } from '../../../protocol/sealed-box.ts'
import { secretboxOpen, secretboxSeal } from '../../../protocol/secretbox.ts'
import { isStudyId, newStudyId } from '../../../protocol/study-id.ts'
import { hchacha20, innerNonce, xchachaOpen, xchachaSeal } from '../../../protocol/xchacha.ts'
import { Rng } from './helpers.ts'

type ErrorClass = abstract new (...args: never[]) => PeerpacsError

interface Row {
  /** The function and argument, as error messages name them: 'xchachaSeal(key)'. */
  arg: string
  kind: 'bytes' | 'string' | 'int'
  call: (x: unknown) => unknown
  /** Required byte length; also the length of the wrong-typed views. */
  length?: number
  /** An omitted (undefined) argument means "use the default", so it is not a bad value. */
  optional?: boolean
  /** An options field read with `??`: null also means "use the default". */
  nullIsDefault?: boolean
  /** A valid value for the Buffer check, when all zeros is not one. */
  good?: Uint8Array
  min?: number
  max?: number
  expect?: ErrorClass[]
  /** What the message must contain; by default the `arg` text itself. */
  names?: RegExp
  todo?: string
}

const p = nobleProvider
const rng = new Rng(200)
const random: RandomSource = rng.random
const key32 = rng.bytes(32)
const node = generateNodeKey(random)
const bytes4 = new Uint8Array([1, 2, 3, 4])
const empty = new Uint8Array(0)
const sealedStream = sealBytes({ dataKey: key32, provider: p, random }, bytes4)
const envelope = signEnvelope(node, 'd', bytes4)
const envelopeBytes = encodeEnvelope(envelope)
const box = secretboxSeal(p, random, key32, bytes4, empty)
const x25519Public = x25519PublicKey(node.publicKey)
const sealedBox = sealToPublicKey(p, random, x25519Public, bytes4, empty)
const hashes = new BlobHasher(p, 4)
hashes.update(new Uint8Array(10))
const digest = hashes.digest()
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const withKey = (k: Partial<NodeKeyPair>): NodeKeyPair => ({ ...node, ...k }) as NodeKeyPair
const withEnvelope = (e: Partial<Record<keyof SignedEnvelope, unknown>>): SignedEnvelope => ({ ...envelope, ...e }) as SignedEnvelope
const parse = [InvalidArgumentError, DecodeError]

const rows: Row[] = [
  // bytes.ts
  { arg: 'utf8Encode(text)', kind: 'string', call: x => utf8Encode(x as string) },
  { arg: 'utf8Decode(bytes)', kind: 'bytes', call: x => utf8Decode(x as Uint8Array) },
  { arg: 'concatBytes(parts)', kind: 'bytes', call: x => concatBytes(bytes4, x as Uint8Array), names: /concatBytes\(parts\[1\]\)/ },
  { arg: 'equalBytes(a)', kind: 'bytes', call: x => equalBytes(x as Uint8Array, bytes4) },
  { arg: 'uintBE(value)', kind: 'int', min: 0, call: x => uintBE(x as number, 4) },
  { arg: 'uintBE(width)', kind: 'int', min: 1, max: 7, call: x => uintBE(1, x as number) },
  { arg: 'readUintBE(bytes)', kind: 'bytes', call: x => readUintBE(x as Uint8Array, 0, 2) },
  // encoding.ts
  { arg: 'toHex(bytes)', kind: 'bytes', call: x => toHex(x as Uint8Array) },
  { arg: 'fromHex(text)', kind: 'string', call: x => fromHex(x as string) },
  { arg: 'fromHex(expectedLength)', kind: 'int', optional: true, min: 0, call: x => fromHex('0011', x as number) },
  { arg: 'toBase58(bytes)', kind: 'bytes', call: x => toBase58(x as Uint8Array) },
  { arg: 'fromBase58(text)', kind: 'string', call: x => fromBase58(x as string) },
  { arg: 'toBase32(bytes)', kind: 'bytes', call: x => toBase32(x as Uint8Array) },
  { arg: 'fromBase32(text)', kind: 'string', call: x => fromBase32(x as string) },
  // random.ts
  { arg: 'random(length)', kind: 'int', min: 0, max: 1 << 30, call: x => platformRandom(x as number) },
  // canonical.ts
  { arg: 'decodeCanonical(bytes)', kind: 'bytes', call: x => decodeCanonical(x as Uint8Array) },
  // crypto-provider.ts (the seam; protocol/ callers check first, but the object is exported)
  { arg: 'nobleProvider.sha256(data)', kind: 'bytes', call: x => p.sha256(x as Uint8Array), names: /sha256/ },
  { arg: 'nobleProvider.createSha256().update(data)', kind: 'bytes', call: x => p.createSha256().update(x as Uint8Array), names: /update/ },
  { arg: 'nobleProvider.chachaSeal(key)', kind: 'bytes', length: 32, call: x => p.chachaSeal(x as Uint8Array, new Uint8Array(12), bytes4, empty), names: /chachaSeal|key/ },
  { arg: 'nobleProvider.chachaOpen(key)', kind: 'bytes', length: 32, call: x => p.chachaOpen(x as Uint8Array, new Uint8Array(12), new Uint8Array(16), empty), names: /chachaOpen|key/ },
  // xchacha.ts
  { arg: 'hchacha20(key)', kind: 'bytes', length: 32, call: x => hchacha20(x as Uint8Array, new Uint8Array(16)) },
  { arg: 'hchacha20(input)', kind: 'bytes', length: 16, call: x => hchacha20(key32, x as Uint8Array) },
  { arg: 'innerNonce(nonce24)', kind: 'bytes', length: 24, call: x => innerNonce(x as Uint8Array) },
  { arg: 'xchachaSeal(key)', kind: 'bytes', length: 32, call: x => xchachaSeal(p, x as Uint8Array, new Uint8Array(24), bytes4) },
  { arg: 'xchachaSeal(nonce)', kind: 'bytes', length: 24, call: x => xchachaSeal(p, key32, x as Uint8Array, bytes4) },
  { arg: 'xchachaSeal(plaintext)', kind: 'bytes', call: x => xchachaSeal(p, key32, new Uint8Array(24), x as Uint8Array) },
  { arg: 'xchachaSeal(aad)', kind: 'bytes', optional: true, call: x => xchachaSeal(p, key32, new Uint8Array(24), bytes4, x as Uint8Array) },
  { arg: 'xchachaOpen(key)', kind: 'bytes', length: 32, call: x => xchachaOpen(p, x as Uint8Array, new Uint8Array(24), new Uint8Array(16)) },
  { arg: 'xchachaOpen(nonce)', kind: 'bytes', length: 24, call: x => xchachaOpen(p, key32, x as Uint8Array, new Uint8Array(16)) },
  { arg: 'xchachaOpen(sealed)', kind: 'bytes', call: x => xchachaOpen(p, key32, new Uint8Array(24), x as Uint8Array) },
  { arg: 'xchachaOpen(aad)', kind: 'bytes', optional: true, call: x => xchachaOpen(p, key32, new Uint8Array(24), new Uint8Array(16), x as Uint8Array) },
  // kdf.ts
  { arg: 'hkdfSha256(ikm)', kind: 'bytes', call: x => hkdfSha256(x as Uint8Array, empty, LABELS.recordKey) },
  { arg: 'hkdfSha256(salt)', kind: 'bytes', call: x => hkdfSha256(key32, x as Uint8Array, LABELS.recordKey) },
  { arg: 'hkdfSha256(length)', kind: 'int', optional: true, min: 1, max: 255 * 32, call: x => hkdfSha256(key32, empty, LABELS.recordKey, x as number) },
  { arg: 'hmacSha256(key)', kind: 'bytes', call: x => hmacSha256(x as Uint8Array, bytes4) },
  { arg: 'hmacSha256(message)', kind: 'bytes', call: x => hmacSha256(key32, x as Uint8Array) },
  // aead-stream.ts
  { arg: 'sealedLength(length)', kind: 'int', min: 0, call: x => sealedLength(x as number) },
  { arg: 'sealedLength(chunkSize)', kind: 'int', optional: true, min: 1024, max: 8 * 1024 * 1024, call: x => sealedLength(10, x as number) },
  { arg: 'StreamSealer(dataKey)', kind: 'bytes', length: 32, call: x => new StreamSealer({ dataKey: x as Uint8Array, provider: p, random }) },
  { arg: 'StreamSealer(chunkSize)', kind: 'int', optional: true, nullIsDefault: true, min: 1024, max: 8 * 1024 * 1024, call: x => new StreamSealer({ dataKey: key32, provider: p, random, chunkSize: x as number }) },
  { arg: 'StreamSealer.push(data)', kind: 'bytes', call: x => new StreamSealer({ dataKey: key32, provider: p, random }).push(x as Uint8Array) },
  { arg: 'StreamOpener(dataKey)', kind: 'bytes', length: 32, call: x => new StreamOpener({ dataKey: x as Uint8Array, provider: p }) },
  { arg: 'StreamOpener.push(data)', kind: 'bytes', call: x => new StreamOpener({ dataKey: key32, provider: p }).push(x as Uint8Array) },
  { arg: 'sealBytes(plaintext)', kind: 'bytes', call: x => sealBytes({ dataKey: key32, provider: p, random }, x as Uint8Array), names: /sealBytes\(plaintext\)/ },
  { arg: 'openBytes(sealed)', kind: 'bytes', call: x => openBytes({ dataKey: key32, provider: p }, x as Uint8Array), names: /openBytes\(sealed\)/ },
  // secretbox.ts
  { arg: 'secretboxSeal(key)', kind: 'bytes', length: 32, call: x => secretboxSeal(p, random, x as Uint8Array, bytes4, empty) },
  { arg: 'secretboxSeal(plaintext)', kind: 'bytes', call: x => secretboxSeal(p, random, key32, x as Uint8Array, empty) },
  { arg: 'secretboxSeal(aad)', kind: 'bytes', call: x => secretboxSeal(p, random, key32, bytes4, x as Uint8Array) },
  { arg: 'secretboxOpen(key)', kind: 'bytes', length: 32, call: x => secretboxOpen(p, x as Uint8Array, box, empty) },
  { arg: 'secretboxOpen(box)', kind: 'bytes', call: x => secretboxOpen(p, key32, x as Uint8Array, empty) },
  { arg: 'secretboxOpen(aad)', kind: 'bytes', call: x => secretboxOpen(p, key32, box, x as Uint8Array) },
  // sealed-box.ts
  { arg: 'sealToPublicKey(recipientPublic)', kind: 'bytes', length: 32, good: x25519Public, call: x => sealToPublicKey(p, random, x as Uint8Array, bytes4, empty) },
  { arg: 'sealToPublicKey(plaintext)', kind: 'bytes', call: x => sealToPublicKey(p, random, x25519Public, x as Uint8Array, empty) },
  { arg: 'sealToPublicKey(aad)', kind: 'bytes', call: x => sealToPublicKey(p, random, x25519Public, bytes4, x as Uint8Array) },
  { arg: 'openSealedBox(recipientSecret)', kind: 'bytes', length: 32, call: x => openSealedBox(p, x as Uint8Array, sealedBox, empty) },
  { arg: 'openSealedBox(sealed)', kind: 'bytes', call: x => openSealedBox(p, x25519SecretKey(node.secretKey), x as Uint8Array, empty) },
  { arg: 'openSealedBox(aad)', kind: 'bytes', call: x => openSealedBox(p, x25519SecretKey(node.secretKey), sealedBox, x as Uint8Array) },
  // identity.ts
  { arg: 'nodeKeyFromSecret(secretKey)', kind: 'bytes', length: 32, call: x => nodeKeyFromSecret(x as Uint8Array) },
  { arg: 'nodeIdFromPublicKey(publicKey)', kind: 'bytes', length: 32, call: x => nodeIdFromPublicKey(x as Uint8Array) },
  { arg: 'publicKeyFromNodeId(nodeId)', kind: 'string', call: x => publicKeyFromNodeId(x as string) },
  { arg: 'signBytes(secretKey)', kind: 'bytes', length: 32, call: x => signBytes(x as Uint8Array, bytes4) },
  { arg: 'signBytes(message)', kind: 'bytes', call: x => signBytes(node.secretKey, x as Uint8Array) },
  { arg: 'x25519PublicKey(edPublicKey)', kind: 'bytes', length: 32, call: x => x25519PublicKey(x as Uint8Array) },
  { arg: 'x25519SecretKey(edSecretKey)', kind: 'bytes', length: 32, call: x => x25519SecretKey(x as Uint8Array) },
  // envelope.ts
  { arg: 'signEnvelope(domain)', kind: 'string', call: x => signEnvelope(node, x as string, bytes4) },
  { arg: 'signEnvelope(payload)', kind: 'bytes', call: x => signEnvelope(node, 'd', x as Uint8Array) },
  { arg: 'signEnvelope(key.secretKey)', kind: 'bytes', length: 32, call: x => signEnvelope(withKey({ secretKey: x as Uint8Array }), 'd', bytes4) },
  { arg: 'signEnvelope(key.publicKey)', kind: 'bytes', length: 32, call: x => signEnvelope(withKey({ publicKey: x as Uint8Array }), 'd', bytes4) },
  { arg: 'verifyEnvelope(domain)', kind: 'string', call: x => verifyEnvelope(p, envelope, x as string) },
  { arg: 'envelope.signer', kind: 'bytes', length: 32, call: x => verifyEnvelope(p, withEnvelope({ signer: x }), 'd') },
  { arg: 'envelope.signature', kind: 'bytes', length: 64, call: x => verifyEnvelope(p, withEnvelope({ signature: x }), 'd') },
  { arg: 'envelope.payload', kind: 'bytes', call: x => verifyEnvelope(p, withEnvelope({ payload: x }), 'd') },
  { arg: 'encodeEnvelope(envelope.domain)', kind: 'string', call: x => encodeEnvelope(withEnvelope({ domain: x })), names: /domain/ },
  { arg: 'encodeEnvelope(envelope.signer)', kind: 'bytes', length: 32, call: x => encodeEnvelope(withEnvelope({ signer: x })), names: /signer/ },
  { arg: 'encodeEnvelope(envelope.signature)', kind: 'bytes', length: 64, call: x => encodeEnvelope(withEnvelope({ signature: x })), names: /signature/ },
  { arg: 'encodeEnvelope(envelope.payload)', kind: 'bytes', call: x => encodeEnvelope(withEnvelope({ payload: x })), names: /payload/ },
  { arg: 'decodeEnvelope(bytes)', kind: 'bytes', call: x => decodeEnvelope(x as Uint8Array), names: /\(bytes\)/ },
  // blob-id.ts
  { arg: 'parseBlobId(value)', kind: 'string', call: x => parseBlobId(x as string), expect: parse, names: /blob id/ },
  { arg: 'blobIdBytes(id)', kind: 'string', call: x => blobIdBytes(x as never), expect: parse, names: /blob id/ },
  { arg: 'blobIdOf(size)', kind: 'int', min: 0, call: x => blobIdOf(p, x as number, 4, new Uint8Array(32)) },
  { arg: 'blobIdOf(blockSize)', kind: 'int', min: 1, call: x => blobIdOf(p, 0, x as number, empty) },
  { arg: 'blobIdOf(blockHashes)', kind: 'bytes', length: 96, call: x => blobIdOf(p, 10, 4, x as Uint8Array) },
  { arg: 'BlobHasher(blockSize)', kind: 'int', optional: true, min: 1, call: x => new BlobHasher(p, x as number) },
  { arg: 'BlobHasher.update(data)', kind: 'bytes', call: x => new BlobHasher(p).update(x as Uint8Array) },
  { arg: 'verifyBlock(index)', kind: 'int', min: 0, max: 2, call: x => verifyBlock(p, digest, x as number, bytes4) },
  { arg: 'verifyBlock(block)', kind: 'bytes', call: x => verifyBlock(p, digest, 0, x as Uint8Array) },
  // recovery-key.ts
  { arg: 'encodeRecoveryKey(seed)', kind: 'bytes', length: 32, call: x => encodeRecoveryKey(p, x as Uint8Array) },
  { arg: 'decodeRecoveryKey(text)', kind: 'string', call: x => decodeRecoveryKey(p, x as string) },
  // genesis.ts
  { arg: 'createGenesis(name)', kind: 'string', call: x => createGenesis(p, node, { name: x as string, recoveryPublicKey: key32, created: 0, random }) },
  { arg: 'createGenesis(recoveryPublicKey)', kind: 'bytes', length: 32, call: x => createGenesis(p, node, { name: 'n', recoveryPublicKey: x as Uint8Array, created: 0, random }) },
  { arg: 'createGenesis(created)', kind: 'int', min: 0, call: x => createGenesis(p, node, { name: 'n', recoveryPublicKey: key32, created: x as number, random }) },
  { arg: 'readGenesis(bytes)', kind: 'bytes', call: x => readGenesis(p, x as Uint8Array), names: /\(bytes\)/ }
]

function badValues (row: Row): unknown[] {
  const n = row.length ?? 4
  switch (row.kind) {
    case 'bytes': return [
      ...(row.optional === true ? [] : [undefined]), null, 0, 1.5, 'abcd', 'x'.repeat(n), Array.from({ length: n }, () => 1),
      new ArrayBuffer(n), new Uint16Array(n), new Int8Array(n), new Uint8ClampedArray(n), new DataView(new ArrayBuffer(n)), { length: n }, true,
      ...(row.length === undefined ? [] : [new Uint8Array(0), new Uint8Array(n - 1), new Uint8Array(n + 1), Buffer.alloc(n + 1)])
    ]
    case 'string': return [undefined, null, 0, 1.5, new Uint8Array(4), ['abcd'], {}, true, new String('abcd')]
    case 'int': return [
      ...(row.optional === true ? [] : [undefined]), ...(row.nullIsDefault === true ? [] : [null]), '5', 1.5, NaN, Infinity, -Infinity, 2 ** 53, 5n, {}, true, new Uint8Array(1),
      ...(row.min === undefined ? [] : [row.min - 1]), ...(row.max === undefined ? [] : [row.max + 1])
    ]
  }
}

function label (value: unknown): string {
  if (typeof value === 'bigint') return `bigint ${value}`
  if (typeof value === 'number') return `number ${value}`
  if (Buffer.isBuffer(value)) return `Buffer of length ${value.length}`
  return describe(value)
}

for (const row of rows) {
  test(`${row.arg} refuses ${row.kind === 'int' ? 'non-integers and out-of-range integers' : `wrong types${row.length === undefined ? '' : ' and lengths'}`}`, row.todo === undefined ? {} : { todo: row.todo }, () => {
    const expected = row.expect ?? [InvalidArgumentError]
    const names = row.names ?? new RegExp(escape(row.arg))
    for (const value of badValues(row)) {
      let caught: unknown
      let result: unknown
      try {
        result = row.call(value)
      } catch (error) {
        caught = error
      }
      const what = `${row.arg} given ${label(value)}`
      assert.ok(caught !== undefined, `${what}: returned ${describe(result)} instead of throwing`)
      assert.ok(caught instanceof PeerpacsError, `${what}: threw a raw ${(caught as Error)?.constructor?.name}: ${(caught as Error)?.message}`)
      assert.ok(expected.some(c => caught instanceof c), `${what}: threw ${caught.name} (${caught.message}), expected ${expected.map(c => c.name).join(' or ')}`)
      assert.match(caught.message, names, `${what}: the message does not name the argument`)
    }
    if (row.kind === 'bytes') {
      // A Buffer of a good length is a Uint8Array, so this argument must accept it.
      const good = row.good === undefined ? Buffer.alloc(row.length ?? 4) : Buffer.from(row.good)
      try {
        row.call(good)
      } catch (error) {
        assert.ok(!(error instanceof InvalidArgumentError && names.test(error.message)), `${row.arg} refused a Buffer: ${(error as Error).message}`)
      }
    }
  })
}

test('the is* guards answer false, and never throw, for every wrong-typed value', () => {
  const values: unknown[] = [undefined, null, 0, 1.5, NaN, '', 'abcd', 'x'.repeat(64), [], {}, new Uint8Array(32), new ArrayBuffer(4), new Uint16Array(4), 5n, Symbol('s'), () => 1, Object.create(null), new String('a'.repeat(64))]
  for (const value of values) {
    for (const guard of [isNodeId, isBlobId, isOrgId, isStudyId]) assert.equal(guard(value), false, `${guard.name}(${label(value)})`)
    if (!(value instanceof Uint8Array)) assert.equal(isBytes(value), false, label(value))
  }
})

test('nobleProvider.ed25519Verify answers false, never throws, for wrong-typed arguments', () => {
  const sig = signBytes(node.secretKey, bytes4)
  assert.equal(p.ed25519Verify(sig, bytes4, node.publicKey), true)
  for (const bad of [undefined, null, 'abcd', [1, 2], new ArrayBuffer(64), new Uint16Array(32), new Uint8Array(0), new Uint8Array(65)]) {
    assert.equal(p.ed25519Verify(bad as Uint8Array, bytes4, node.publicKey), false, `signature ${label(bad)}`)
    assert.equal(p.ed25519Verify(sig, bad as Uint8Array, node.publicKey), false, `message ${label(bad)}`)
    assert.equal(p.ed25519Verify(sig, bytes4, bad as Uint8Array), false, `public key ${label(bad)}`)
  }
})

// ---- Non-data arguments: RandomSource, provider, options and key objects ----

/** Runs each call; returns a line for each that did not throw a PeerpacsError. */
function offenders (calls: Array<[string, () => unknown]>): string[] {
  const out: string[] = []
  for (const [name, call] of calls) {
    try {
      const result = call()
      out.push(`${name}: returned ${describe(result)}`)
    } catch (error) {
      if (!(error instanceof PeerpacsError)) out.push(`${name}: raw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`)
    }
  }
  return out
}

const notRandom: unknown[] = [undefined, null, 'random', new Uint8Array(32)]

test('a RandomSource that is not a function is refused', () => {
  const calls: Array<[string, () => unknown]> = []
  for (const bad of notRandom) {
    const r = bad as RandomSource
    calls.push(
      [`StreamSealer(random = ${label(bad)})`, () => new StreamSealer({ dataKey: key32, provider: p, random: r })],
      [`secretboxSeal(random = ${label(bad)})`, () => secretboxSeal(p, r, key32, bytes4, empty)],
      [`sealToPublicKey(random = ${label(bad)})`, () => sealToPublicKey(p, r, x25519Public, bytes4, empty)],
      [`generateNodeKey(random = ${label(bad)})`, () => generateNodeKey(r)],
      [`newStudyId(random = ${label(bad)})`, () => newStudyId(r)],
      [`createGenesis(random = ${label(bad)})`, () => createGenesis(p, node, { name: 'n', recoveryPublicKey: key32, created: 0, random: r })])
  }
  assert.deepEqual(offenders(calls), [])
})

test('a RandomSource that returns the wrong number of bytes is refused', () => {
  const calls: Array<[string, () => unknown]> = []
  for (const n of [0, 15, 17, 64]) {
    const short: RandomSource = () => new Uint8Array(n)
    calls.push(
      [`StreamSealer, ${n} bytes`, () => new StreamSealer({ dataKey: key32, provider: p, random: short })],
      [`secretboxSeal, ${n} bytes`, () => secretboxSeal(p, short, key32, bytes4, empty)],
      [`sealToPublicKey, ${n} bytes`, () => sealToPublicKey(p, short, x25519Public, bytes4, empty)],
      [`generateNodeKey, ${n} bytes`, () => generateNodeKey(short)],
      [`newStudyId, ${n} bytes`, () => newStudyId(short)])
    if (n !== 0) calls.push([`createGenesis, ${n} bytes`, () => createGenesis(p, node, { name: 'n', recoveryPublicKey: key32, created: 0, random: short })])
  }
  const found = offenders(calls)
  // Refusals must be InvalidArgumentError naming the draw, not a later DecodeError.
  for (const [name, call] of calls) {
    try { call() } catch (error) {
      if (error instanceof PeerpacsError && !(error instanceof InvalidArgumentError)) found.push(`${name}: ${error.name}: ${error.message}`)
    }
  }
  assert.deepEqual(found, [])
})

test('a missing provider is refused before any work', () => {
  const none = undefined as unknown as typeof p
  const calls: Array<[string, () => unknown]> = [
    ['xchachaSeal', () => xchachaSeal(none, key32, new Uint8Array(24), bytes4)],
    ['xchachaOpen', () => xchachaOpen(none, key32, new Uint8Array(24), new Uint8Array(16))],
    ['secretboxSeal', () => secretboxSeal(none, random, key32, bytes4, empty)],
    ['secretboxOpen', () => secretboxOpen(none, key32, box, empty)],
    ['sealToPublicKey', () => sealToPublicKey(none, random, x25519Public, bytes4, empty)],
    ['openSealedBox', () => openSealedBox(none, x25519SecretKey(node.secretKey), sealedBox, empty)],
    ['StreamSealer', () => new StreamSealer({ dataKey: key32, provider: none, random })],
    ['StreamOpener', () => new StreamOpener({ dataKey: key32, provider: none })],
    ['sealBytes', () => sealBytes({ dataKey: key32, provider: none, random }, bytes4)],
    ['openBytes', () => openBytes({ dataKey: key32, provider: none }, sealedStream)],
    ['BlobHasher', () => new BlobHasher(none)],
    ['blobIdOf', () => blobIdOf(none, 0, 4, empty)],
    ['encodeRecoveryKey', () => encodeRecoveryKey(none, key32)],
    ['decodeRecoveryKey', () => decodeRecoveryKey(none, encodeRecoveryKey(p, key32))],
    ['verifyEnvelope', () => verifyEnvelope(none, envelope, 'd')],
    ['readGenesis', () => readGenesis(none, createGenesis(p, node, { name: 'n', recoveryPublicKey: key32, created: 0, random }).bytes)]
  ]
  assert.deepEqual(offenders(calls), [])
})

test('options, key pairs, envelopes and digests that are not objects are refused', () => {
  const calls: Array<[string, () => unknown]> = []
  for (const bad of [undefined, null]) {
    const x = bad as never
    calls.push(
      [`StreamSealer(${String(bad)})`, () => new StreamSealer(x)],
      [`StreamOpener(${String(bad)})`, () => new StreamOpener(x)],
      [`sealBytes(${String(bad)})`, () => sealBytes(x, bytes4)],
      [`openBytes(${String(bad)})`, () => openBytes(x, sealedStream)],
      [`signEnvelope(key = ${String(bad)})`, () => signEnvelope(x, 'd', bytes4)],
      [`encodeEnvelope(${String(bad)})`, () => encodeEnvelope(x)],
      [`createGenesis(key = ${String(bad)})`, () => createGenesis(p, x, { name: 'n', recoveryPublicKey: key32, created: 0, random })],
      [`createGenesis(options = ${String(bad)})`, () => createGenesis(p, node, x)],
      [`verifyDigest(${String(bad)})`, () => verifyDigest(p, x)],
      [`verifyBlock(digest = ${String(bad)})`, () => verifyBlock(p, x, 0, bytes4)])
  }
  assert.deepEqual(offenders(calls), [])
})
