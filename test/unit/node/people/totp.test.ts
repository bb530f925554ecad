/**
 * TOTP: RFC 6238 Appendix B through otpauth (all three HMACs, 8 digits), our own 6-digit SHA-1
 * functions against the same times computed here by the RFC's reference algorithm, window
 * edges, malformed codes, and the guard that makes a code good once, across a reopened store
 * and against two requests racing with one code.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secret, TOTP, URI } from 'otpauth'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { TotpCodeError } from '../../../../node/people/errors.ts'
import { newTotpSecret, TotpGuard, totpStepOf, totpUri } from '../../../../node/people/totp.ts'
import { keys } from '../../../../node/store/key-space.ts'
import { LevelKvStore } from '../../../../node/store/kv-level.ts'
import { MemoryKvStore } from '../../../../node/store/kv-memory.ts'

interface Vectors {
  seeds: Record<string, string>
  vectors: Array<{ time: number, step: string, totp: string, mode: string }>
}
const RFC = JSON.parse(await readFile(join(import.meta.dirname, 'vectors/rfc6238.json'), 'utf8')) as Vectors
const SEED = new TextEncoder().encode(RFC.seeds.SHA1!)

/** RFC 6238's reference algorithm (HOTP dynamic truncation over the big-endian step), independent of otpauth. */
function reference (seed: Uint8Array, step: number, digits: number, hash = 'sha1'): string {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac(hash, seed).update(counter).digest()
  const offset = mac[mac.length - 1]! & 0xf
  const binary = mac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

test('RFC 6238 Appendix B: every vector (SHA1, SHA256, SHA512; 8 digits) through otpauth and through the reference', () => {
  assert.equal(RFC.vectors.length, 18)
  for (const v of RFC.vectors) {
    const seed = new TextEncoder().encode(RFC.seeds[v.mode]!)
    const secret = new Secret({ buffer: seed.slice().buffer })
    assert.equal(TOTP.counter({ timestamp: v.time * 1000 }), parseInt(v.step, 16), `step at ${v.time}`)
    assert.equal(TOTP.generate({ secret, algorithm: v.mode, digits: 8, timestamp: v.time * 1000 }), v.totp, `${v.mode} at ${v.time}`)
    assert.equal(reference(seed, parseInt(v.step, 16), 8, v.mode.toLowerCase()), v.totp, `reference ${v.mode} at ${v.time}`)
    assert.equal(TOTP.validate({ token: v.totp, secret, algorithm: v.mode, digits: 8, timestamp: v.time * 1000, window: 0 }), 0)
  }
})

test('our functions: the 6-digit SHA-1 code at each RFC time is found at its own step', () => {
  for (const v of RFC.vectors.filter((v) => v.mode === 'SHA1')) {
    const step = parseInt(v.step, 16)
    const code = reference(SEED, step, 6)
    assert.equal(code, v.totp.slice(2), 'six digits are the last six of the eight')
    assert.equal(totpStepOf(SEED, code, v.time * 1000), step, `at ${v.time}`)
    assert.equal(totpStepOf(SEED, code, v.time * 1000, 0), step)
    assert.equal(totpStepOf(SEED, code.slice(0, 3) + ' ' + code.slice(3), v.time * 1000), step, 'as apps show it, 123 456')
  }
  assert.equal(totpStepOf(SEED, '287082', 59_000), 1)
  assert.equal(totpStepOf(SEED, '287083', 59_000), undefined, 'one digit off')
  assert.equal(totpStepOf(new Uint8Array(20).fill(7), '287082', 59_000), undefined, 'another secret')
})

test('window edges: ±1 step by default, exactly at the step boundaries; 0 and 2 as asked', () => {
  const T = 41_152_263 // 1234567890 s / 30
  const code = (step: number): string => reference(SEED, step, 6)
  const start = T * 30_000
  const end = (T + 1) * 30_000 - 1
  for (const now of [start, start + 15_000, end]) {
    assert.equal(totpStepOf(SEED, code(T), now), T)
    assert.equal(totpStepOf(SEED, code(T - 1), now), T - 1)
    assert.equal(totpStepOf(SEED, code(T + 1), now), T + 1)
    assert.equal(totpStepOf(SEED, code(T - 2), now), undefined)
    assert.equal(totpStepOf(SEED, code(T + 2), now), undefined)
    assert.equal(totpStepOf(SEED, code(T - 1), now, 0), undefined)
    assert.equal(totpStepOf(SEED, code(T - 2), now, 2), T - 2)
  }
  assert.equal(totpStepOf(SEED, code(T - 1), end + 1), undefined, 'one millisecond later, T-1 is two steps back')
  assert.equal(totpStepOf(SEED, code(T + 1), start - 1), undefined, 'one millisecond earlier, T+1 is two steps ahead')
})

test('malformed codes are refused with TotpCodeError, whose message never repeats the code', () => {
  for (const bad of ['', '12345', '1234567', '12a456', '１２３４５６', '123-456', '12345\n', '0x1234', '+12345', '1'.repeat(10_000)]) {
    assert.throws(() => totpStepOf(SEED, bad, 59_000), (e: unknown) => {
      assert.ok(e instanceof TotpCodeError, JSON.stringify(bad.slice(0, 20)))
      assert.equal(e.code, 'TOTP_CODE')
      assert.ok(bad.length < 4 || !e.message.includes(bad), 'the code is not echoed')
      return true
    })
  }
  for (const wrong of [undefined, null, 287082, ['287082']]) {
    assert.throws(() => totpStepOf(SEED, wrong as unknown as string, 59_000), TotpCodeError)
  }
  assert.throws(() => totpStepOf(new Uint8Array(10), '287082', 59_000), InvalidArgumentError, 'a secret under 128 bits')
  assert.throws(() => totpStepOf(SEED, '287082', -1), InvalidArgumentError)
  assert.throws(() => totpStepOf(SEED, '287082', 59_000, 11), InvalidArgumentError)
})

test('newTotpSecret: 20 random bytes; totpUri: SHA1, 6 digits, 30 s, that otpauth parses back to the same secret', () => {
  const secret = newTotpSecret()
  assert.equal(secret.length, 20)
  assert.notDeepEqual(newTotpSecret(), secret)
  const uri = totpUri({ secret, account: 'jöns.berg', issuer: 'Clinic North' })
  assert.match(uri, /^otpauth:\/\/totp\/Clinic%20North:j%C3%B6ns\.berg\?/)
  const parsed = URI.parse(uri)
  assert.ok(parsed instanceof TOTP)
  assert.deepEqual([parsed.algorithm, parsed.digits, parsed.period, parsed.issuer, parsed.label], ['SHA1', 6, 30, 'Clinic North', 'jöns.berg'])
  assert.deepEqual(new Uint8Array(parsed.secret.bytes), secret)
  const now = 1_700_000_000_000
  assert.equal(totpStepOf(secret, parsed.generate({ timestamp: now }), now), Math.floor(now / 30_000), 'an app enrolled from the URI gives codes we accept')
  assert.throws(() => totpUri({ secret, account: 'a:b', issuer: 'x' }), InvalidArgumentError)
  assert.throws(() => totpUri({ secret, account: 'a', issuer: '' }), InvalidArgumentError)
  assert.throws(() => totpUri({ secret, account: 'a\nb', issuer: 'x' }), InvalidArgumentError)
  assert.throws(() => totpUri({ secret: new Uint8Array(8), account: 'a', issuer: 'x' }), InvalidArgumentError)
})

test('TotpGuard: a code is good once; an older step is refused after a newer one; users are apart', async () => {
  const kv = new MemoryKvStore()
  const guard = new TotpGuard(kv)
  const T = 56_666_666
  const now = T * 30_000 + 10_000
  const code = (step: number): string => reference(SEED, step, 6)
  assert.equal(await guard.accept('user-a', SEED, code(T), now), true)
  assert.equal(await guard.accept('user-a', SEED, code(T), now), false, 'replayed')
  assert.equal(await guard.accept('user-a', SEED, code(T), now + 20_000), false, 'replayed in the next step')
  assert.equal(await guard.accept('user-a', SEED, code(T - 1), now), false, 'older than the last accepted')
  assert.equal(await guard.accept('user-b', SEED, code(T), now), true, 'another user keeps their own step')
  assert.equal(await guard.accept('user-a', SEED, code(T + 1), now), true, 'the next step (clock ahead) is newer')
  assert.equal(await guard.accept('user-a', SEED, code(T + 1), now + 30_000), false)
  assert.equal(await guard.lastStep('user-a'), T + 1)
  await assert.rejects(guard.accept('user-a', SEED, '12345', now + 60_000), TotpCodeError)
  await assert.rejects(guard.accept('', SEED, code(T + 2), now + 60_000), InvalidArgumentError)
  await kv.close()
})

test('TotpGuard: two requests racing with one code: exactly one passes', async () => {
  const kv = new MemoryKvStore()
  const T = 56_666_700
  const now = T * 30_000
  const code = reference(SEED, T, 6)
  const results = await Promise.all(Array.from({ length: 8 }, async () => await new TotpGuard(kv).accept('user-r', SEED, code, now)))
  assert.deepEqual(results.filter((r) => r), [true], `results: ${results.join(',')}`)
  await kv.close()
})

test('TotpGuard: a used code stays used after the store is closed and reopened (a restart)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peerpacs-totp-'))
  try {
    const T = 56_666_800
    const now = T * 30_000 + 1_000
    const code = reference(SEED, T, 6)
    let kv = await LevelKvStore.open(join(dir, 'index'), { create: true })
    assert.equal(await new TotpGuard(kv).accept('user-c', SEED, code, now), true)
    await kv.close()
    kv = await LevelKvStore.open(join(dir, 'index'))
    const guard = new TotpGuard(kv)
    assert.equal(await guard.accept('user-c', SEED, code, now + 5_000), false, 'replayed after the restart')
    assert.equal(await guard.lastStep('user-c'), T)
    assert.ok(await kv.get(keys.totpStep('user-c')) !== undefined, 'kept at keys.totpStep(user)')
    assert.equal(await guard.accept('user-c', SEED, reference(SEED, T + 1, 6), now + 30_000), true)
    await kv.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
