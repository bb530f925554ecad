/**
 * node/people/passkeys.ts and passkey-record.ts: a passkey registered and then used to sign in,
 * through @simplewebauthn/server's real verification, with a software authenticator
 * (test/helpers/soft-authenticator.ts) making the browser's JSON. Each hostile answer is refused
 * with a PasskeyError and its reason: wrong origin, wrong RP id, wrong challenge, wrong ceremony
 * type, unknown credential, another account's user handle, a counter that went backwards (a
 * cloned authenticator), a tampered signature, no user presence, garbage; a challenge is single
 * use and expires on the injected clock. The record codec round-trips through canonical CBOR and
 * refuses malformed input.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../../../../protocol/canonical.ts'
import { PeerpacsError } from '../../../../protocol/errors.ts'
import { PasskeyError, type PasskeyRefusal } from '../../../../node/people/errors.ts'
import { PasskeyCeremonies, type RelyingParty } from '../../../../node/people/passkeys.ts'
import { passkeyFromCanonical, passkeyToCanonical, type PasskeyCredential } from '../../../../node/people/passkey-record.ts'
import { HTTP_BY_CODE } from '../../../../node/dicomweb/http-errors.ts'
import { SoftAuthenticator, type Tamper } from '../../../helpers/soft-authenticator.ts'

const ORIGIN = 'https://pacs.example.org:8443'
const RP: RelyingParty = { id: 'pacs.example.org', name: 'peerpacs', origins: [ORIGIN] }
const USER = { id: '0123456789abcdef0123456789abcdef', username: 'dr.ada', displayName: 'Ada Lovelace' }
const MINUTE = 60_000

function setup (options: { keepsCounter?: boolean } = {}) {
  const clock = { now: 1_800_000_000_000 }
  const ceremonies = new PasskeyCeremonies(RP, { now: () => clock.now })
  const authenticator = new SoftAuthenticator({ origin: ORIGIN, ...options })
  return { clock, ceremonies, authenticator }
}

async function register (ceremonies: PasskeyCeremonies, authenticator: SoftAuthenticator, existing: PasskeyCredential[] = [], tamper?: Tamper): Promise<PasskeyCredential> {
  const options = await ceremonies.registrationOptions(USER, existing)
  return await ceremonies.verifyRegistration(USER.id, authenticator.create(options, tamper), 'YubiKey 5')
}

async function signIn (ceremonies: PasskeyCeremonies, authenticator: SoftAuthenticator, credentials: PasskeyCredential[], tamper?: Tamper) {
  const options = await ceremonies.authenticationOptions(USER.id, credentials)
  return await ceremonies.verifyAuthentication(USER.id, authenticator.get(options, tamper), credentials)
}

async function refused (promise: Promise<unknown>, reason: PasskeyRefusal, message?: RegExp): Promise<PasskeyError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof PasskeyError, `expected a PasskeyError, got ${String(error)}`)
    assert.equal(error.code, 'PASSKEY')
    assert.equal(error.reason, reason, `expected reason ${reason}, got ${error.reason}: ${error.message}`)
    assert.ok(error.hint !== undefined && error.hint.length > 0)
    if (message !== undefined) assert.match(error.message, message)
    return error
  }
  assert.fail(`expected a refusal (${reason}), but it was accepted`)
}

test('registration then sign-in succeed through the real verification; the counter grows and is returned', async () => {
  const { ceremonies, authenticator, clock } = setup()
  const options = await ceremonies.registrationOptions(USER, [])
  assert.equal(options.rp.id, RP.id)
  assert.equal(options.attestation, 'none')
  assert.deepEqual(options.authenticatorSelection, { residentKey: 'preferred', userVerification: 'preferred', requireResidentKey: false })
  assert.deepEqual(options.pubKeyCredParams.map((p) => p.alg), [-8, -7, -257])
  assert.equal(Buffer.from(options.challenge, 'base64url').length, 32)
  assert.equal(Buffer.from(options.user.id, 'base64url').toString('utf8'), USER.id)
  const passkey = await ceremonies.verifyRegistration(USER.id, authenticator.create(options), ' YubiKey 5 ')
  assert.equal(passkey.name, 'YubiKey 5')
  assert.equal(passkey.counter, 0)
  assert.equal(passkey.created, clock.now)
  assert.deepEqual(passkey.transports, ['usb', 'nfc'])
  assert.equal(Buffer.from(passkey.id, 'base64url').length, 32)

  const request = await ceremonies.authenticationOptions(USER.id, [passkey])
  assert.equal(request.rpId, RP.id)
  assert.equal(request.userVerification, 'preferred')
  assert.deepEqual(request.allowCredentials, [{ id: passkey.id, type: 'public-key', transports: ['usb', 'nfc'] }])
  const first = await ceremonies.verifyAuthentication(USER.id, authenticator.get(request), [passkey])
  assert.deepEqual(first, { credentialId: passkey.id, newCounter: 1 })
  const second = await signIn(ceremonies, authenticator, [{ ...passkey, counter: first.newCounter }])
  assert.equal(second.newCounter, 2)
  assert.equal(ceremonies.pending, 0, 'every challenge was used up')
})

test('an authenticator that keeps no counter (always 0) signs in again and again', async () => {
  const { ceremonies, authenticator } = setup({ keepsCounter: false })
  const passkey = await register(ceremonies, authenticator)
  for (let i = 0; i < 3; i++) assert.equal((await signIn(ceremonies, authenticator, [passkey])).newCounter, 0)
})

test('the right passkey is found among several, and its id is what comes back', async () => {
  const { ceremonies } = setup()
  const a = new SoftAuthenticator({ origin: ORIGIN })
  const b = new SoftAuthenticator({ origin: ORIGIN })
  const pa = await register(ceremonies, a)
  const pb = await register(ceremonies, b, [pa])
  assert.notEqual(pa.id, pb.id)
  assert.equal((await signIn(ceremonies, b, [pa, pb])).credentialId, pb.id)
  assert.equal((await signIn(ceremonies, a, [pa, pb])).credentialId, pa.id)
})

test('a wrong origin is refused (registration and sign-in)', async () => {
  const { ceremonies, authenticator } = setup()
  await refused(register(ceremonies, authenticator, [], { origin: 'https://evil.example.org' }), 'origin', /evil\.example\.org/)
  const passkey = await register(ceremonies, authenticator)
  await refused(signIn(ceremonies, authenticator, [passkey], { origin: 'https://pacs.example.org' }), 'origin')
})

test('a wrong RP id (the passkey of another site) is refused', async () => {
  const { ceremonies, authenticator } = setup()
  await refused(register(ceremonies, authenticator, [], { rpId: 'example.org' }), 'rp-id')
  const passkey = await register(ceremonies, authenticator)
  await refused(signIn(ceremonies, authenticator, [passkey], { rpId: 'other.example.org' }), 'rp-id')
})

test('an answer made for another challenge is refused, and the real one is then used up', async () => {
  const { ceremonies, authenticator } = setup()
  const other = Buffer.alloc(32, 7).toString('base64url')
  await refused(register(ceremonies, authenticator, [], { challenge: other }), 'challenge')
  const passkey = await register(ceremonies, authenticator)
  await refused(signIn(ceremonies, authenticator, [passkey], { challenge: other }), 'challenge')
  assert.equal(ceremonies.pending, 0)
})

test('a challenge is single use: the same answer twice is refused the second time', async () => {
  const { ceremonies, authenticator } = setup()
  const options = await ceremonies.registrationOptions(USER, [])
  const answer = authenticator.create(options)
  const passkey = await ceremonies.verifyRegistration(USER.id, answer, 'key')
  await refused(ceremonies.verifyRegistration(USER.id, answer, 'key'), 'no-challenge', /never asked, already answered/)
  const request = await ceremonies.authenticationOptions(USER.id, [passkey])
  const assertion = authenticator.get(request)
  const { newCounter } = await ceremonies.verifyAuthentication(USER.id, assertion, [passkey])
  await refused(ceremonies.verifyAuthentication(USER.id, assertion, [{ ...passkey, counter: newCounter }]), 'no-challenge')
  // A failed answer uses the challenge up too: no second try at the same one.
  const again = await ceremonies.authenticationOptions(USER.id, [passkey])
  await refused(ceremonies.verifyAuthentication(USER.id, { garbage: true }, [passkey]), 'malformed')
  await refused(ceremonies.verifyAuthentication(USER.id, authenticator.get(again), [{ ...passkey, counter: newCounter }]), 'no-challenge')
})

test('a challenge expires on the clock; newer options replace older ones; ceremonies and users do not share them', async () => {
  const { ceremonies, authenticator, clock } = setup()
  const options = await ceremonies.registrationOptions(USER, [])
  assert.equal(options.timeout, 5 * MINUTE)
  clock.now += 5 * MINUTE
  await refused(ceremonies.verifyRegistration(USER.id, authenticator.create(options), 'key'), 'challenge-expired')
  // Just inside the window it is good.
  const fresh = await ceremonies.registrationOptions(USER, [])
  clock.now += 5 * MINUTE - 1
  const passkey = await ceremonies.verifyRegistration(USER.id, authenticator.create(fresh), 'key')
  // Asking again replaces the pending challenge: an answer to the older options is refused.
  const older = await ceremonies.authenticationOptions(USER.id, [passkey])
  const newer = await ceremonies.authenticationOptions(USER.id, [passkey])
  assert.notEqual(older.challenge, newer.challenge)
  await refused(ceremonies.verifyAuthentication(USER.id, authenticator.get(older), [passkey]), 'challenge')
  // A registration challenge does not answer a sign-in, nor one user's another's.
  await ceremonies.registrationOptions(USER, [passkey])
  await refused(ceremonies.verifyAuthentication(USER.id, authenticator.get(newer), [passkey]), 'no-challenge')
  const sign = await ceremonies.authenticationOptions(USER.id, [passkey])
  await refused(ceremonies.verifyAuthentication('ffffffffffffffffffffffffffffffff', authenticator.get(sign), [passkey]), 'no-challenge')
})

test('a custom challenge lifetime is honoured', async () => {
  const clock = { now: 0 }
  const ceremonies = new PasskeyCeremonies(RP, { now: () => clock.now, challengeTtlMs: 30_000 })
  const authenticator = new SoftAuthenticator({ origin: ORIGIN })
  const options = await ceremonies.registrationOptions(USER, [])
  assert.equal(options.timeout, 30_000)
  clock.now = 30_000
  await refused(ceremonies.verifyRegistration(USER.id, authenticator.create(options), 'key'), 'challenge-expired')
  assert.throws(() => new PasskeyCeremonies(RP, { challengeTtlMs: 5 }), /challengeTtlMs/)
})

test('a passkey that is not the account\'s is refused, also when it answers for another account\'s user handle', async () => {
  const { ceremonies, authenticator } = setup()
  const mine = await register(ceremonies, authenticator)
  const stranger = new SoftAuthenticator({ origin: ORIGIN })
  const theirs = await register(ceremonies, stranger)
  // The stranger's passkey is real and correctly signed, but it is not in this account's list.
  const options = await ceremonies.authenticationOptions(USER.id, [mine])
  await refused(ceremonies.verifyAuthentication(USER.id, stranger.get({ ...options, allowCredentials: [] }), [mine]), 'unknown-credential')
  await refused(signIn(ceremonies, authenticator, [mine], { userHandle: Buffer.from('someone-else').toString('base64url') }), 'unknown-credential', /another account/)
  assert.equal((await signIn(ceremonies, stranger, [mine, theirs])).credentialId, theirs.id)
})

test('registering a passkey the account already holds is refused', async () => {
  const { ceremonies, authenticator } = setup()
  const passkey = await register(ceremonies, authenticator)
  await refused(register(ceremonies, authenticator, [passkey], { reuseCredential: true }), 'duplicate')
})

test('a counter that does not grow is refused after the signature checks: a replayed counter, and a cloned authenticator', async () => {
  const { ceremonies, authenticator } = setup()
  let passkey = await register(ceremonies, authenticator)
  const first = await signIn(ceremonies, authenticator, [passkey])
  passkey = { ...passkey, counter: first.newCounter }
  await refused(signIn(ceremonies, authenticator, [passkey], { counter: first.newCounter }), 'counter', /from 1 to 1/)
  await refused(signIn(ceremonies, authenticator, [passkey], { counter: 0 }), 'counter', /from 1 to 0/)
  // A clone: both devices go on from the same counter; whichever comes second is caught.
  const clone = authenticator.clone()
  const genuine = await signIn(ceremonies, authenticator, [passkey])
  assert.equal(genuine.newCounter, 2)
  passkey = { ...passkey, counter: genuine.newCounter }
  await refused(signIn(ceremonies, clone, [passkey]), 'counter', /from 2 to 2/)
  // A forged assertion with a lower counter and a bad signature is a signature failure, not a counter one.
  await refused(signIn(ceremonies, authenticator, [passkey], { counter: 1, flipSignature: true }), 'signature')
})

test('a tampered signature is refused', async () => {
  const { ceremonies, authenticator } = setup()
  const passkey = await register(ceremonies, authenticator)
  await refused(signIn(ceremonies, authenticator, [passkey], { flipSignature: true }), 'signature')
})

test('no user presence, or the other ceremony\'s client data type, is refused', async () => {
  const { ceremonies, authenticator } = setup()
  await refused(register(ceremonies, authenticator, [], { userPresent: false }), 'rejected', /presence/)
  const passkey = await register(ceremonies, authenticator)
  await refused(signIn(ceremonies, authenticator, [passkey], { userPresent: false }), 'rejected', /not present/)
  await refused(signIn(ceremonies, authenticator, [passkey], { type: 'webauthn.create' }), 'rejected', /type/)
})

test('garbage input is refused as malformed, never with another error', async () => {
  const { ceremonies, authenticator } = setup()
  const passkey = await register(ceremonies, authenticator)
  const good = authenticator.get(await ceremonies.authenticationOptions(USER.id, [passkey]))
  const b64 = (text: string) => Buffer.from(text).toString('base64url')
  const garbage: unknown[] = [
    undefined, null, 42, 'a string', [], {},
    { ...good, id: '' }, { ...good, id: '!!!' }, { ...good, id: 'A'.repeat(2000), rawId: 'A'.repeat(2000) },
    { ...good, rawId: 'AAAA' }, { ...good, type: 'password' }, { ...good, response: null },
    { ...good, response: { ...good.response, clientDataJSON: 42 } },
    { ...good, response: { ...good.response, clientDataJSON: b64('not json') } },
    { ...good, response: { ...good.response, clientDataJSON: b64('[1,2]') } },
    { ...good, response: { ...good.response, clientDataJSON: b64('{"type":1,"challenge":"x","origin":"y"}') } },
    { ...good, response: { ...good.response, clientDataJSON: 'A'.repeat(100_000) } },
    { ...good, response: { ...good.response, authenticatorData: undefined } },
    { ...good, response: { ...good.response, authenticatorData: 'AAA=' } },
    { ...good, response: { ...good.response, signature: 'A'.repeat(5000) } },
    { ...good, response: { ...good.response, userHandle: 17 } }
  ]
  for (const answer of garbage) {
    await ceremonies.authenticationOptions(USER.id, [passkey])
    await refused(ceremonies.verifyAuthentication(USER.id, answer, [passkey]), 'malformed')
  }
  // Well-shaped but meaningless bytes: the library refuses them, and the refusal is still a PasskeyError.
  for (const change of [{ authenticatorData: 'AAAA' }, { signature: 'AAAA' }]) {
    const fresh = authenticator.get(await ceremonies.authenticationOptions(USER.id, [passkey]))
    const error = await ceremonies.verifyAuthentication(USER.id, { ...fresh, response: { ...fresh.response, ...change } }, [passkey]).catch((e: unknown) => e)
    assert.ok(error instanceof PasskeyError && ['rejected', 'signature'].includes(error.reason), String(error))
  }
  for (const change of [{ attestationObject: 'AAAA' }, { attestationObject: Buffer.from('ff', 'hex').toString('base64url') }, { transports: 'usb' }]) {
    const fresh = authenticator.create(await ceremonies.registrationOptions(USER, []))
    const error = await ceremonies.verifyRegistration(USER.id, { ...fresh, response: { ...fresh.response, ...change } }, 'key').catch((e: unknown) => e)
    assert.ok(error instanceof PasskeyError && ['rejected', 'malformed'].includes(error.reason), String(error))
  }
  // The refusal maps to a client error over HTTP, not a 500.
  assert.equal(HTTP_BY_CODE.PASSKEY.status, 400)
})

test('a passkey name is checked: trimmed, NFC, 1 to 64 characters, no control characters', async () => {
  const { ceremonies, authenticator } = setup()
  for (const name of ['', '   ', 'x'.repeat(65), 'key\nnext', 'abc\u202Eevil', 42 as unknown as string]) {
    const options = await ceremonies.registrationOptions(USER, [])
    await refused(ceremonies.verifyRegistration(USER.id, authenticator.create(options), name), 'name')
  }
  const options = await ceremonies.registrationOptions(USER, [])
  const passkey = await ceremonies.verifyRegistration(USER.id, authenticator.create(options), 'Cle\u0301 de bureau 🔑')
  assert.equal(passkey.name, 'Clé de bureau 🔑')
})

test('options refuse an account without passkeys, with too many, and a bad user id; a bad relying party does not construct', async () => {
  const { ceremonies } = setup()
  await refused(ceremonies.authenticationOptions(USER.id, []), 'no-passkeys')
  const some: PasskeyCredential = { id: 'AAAA', publicKey: new Uint8Array([1]), counter: 0, transports: [], created: 0, name: 'k' }
  await refused(ceremonies.registrationOptions(USER, Array.from({ length: 16 }, () => some)), 'too-many')
  await assert.rejects(ceremonies.registrationOptions({ ...USER, id: '' }, []), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(ceremonies.authenticationOptions('x'.repeat(65), [some]), { code: 'INVALID_ARGUMENT' })
  const bad: RelyingParty[] = [
    { ...RP, id: '' }, { ...RP, id: '10.0.0.5' }, { ...RP, id: 'PACS.example.org' }, { ...RP, origins: [] },
    { ...RP, origins: ['https://pacs.example.org/'] }, { ...RP, origins: ['http://pacs.example.org'] },
    { ...RP, origins: ['https://evil.org'] }, { ...RP, name: '' }
  ]
  for (const rp of bad) assert.throws(() => new PasskeyCeremonies(rp), { code: 'INVALID_ARGUMENT' }, JSON.stringify(rp))
  // localhost over http is what browsers allow, and subdomains of the RP id are fine.
  new PasskeyCeremonies({ id: 'localhost', name: 'dev', origins: ['http://localhost:8080', 'https://localhost'] })
  new PasskeyCeremonies({ ...RP, origins: [ORIGIN, 'https://viewer.pacs.example.org'] })
})

test('pending challenges are bounded: the oldest give way', async () => {
  const { ceremonies } = setup()
  const some: PasskeyCredential = { id: 'AAAA', publicKey: new Uint8Array([1]), counter: 0, transports: [], created: 0, name: 'k' }
  for (let i = 0; i < 10_050; i++) await ceremonies.authenticationOptions(`user-${i}`, [some])
  assert.equal(ceremonies.pending, 10_000)
  await refused(ceremonies.verifyAuthentication('user-0', {}, [some]), 'no-challenge')
  await refused(ceremonies.verifyAuthentication('user-10049', {}, [some]), 'malformed')
})

// ---- the record codec ----

test('record codec: a registered passkey round-trips through canonical CBOR', async () => {
  const { ceremonies, authenticator } = setup()
  const passkey = await register(ceremonies, authenticator)
  const bytes = encodeCanonical(passkeyToCanonical(passkey))
  const back = passkeyFromCanonical(decodeCanonical(bytes))
  assert.deepEqual({ ...back, publicKey: [...back.publicKey], transports: [...back.transports] }, { ...passkey, publicKey: [...passkey.publicKey], transports: [...passkey.transports] })
  assert.ok(Object.isFrozen(back))
  // And the decoded record still signs in.
  assert.equal((await signIn(ceremonies, authenticator, [back])).newCounter, 1)
})

test('record codec: malformed records are refused with DECODE_FAILED naming the field', () => {
  const good = { id: 'AAECAw', publicKey: new Uint8Array(77), counter: 5, transports: ['usb', 'hybrid'], created: 1_800_000_000_000, name: 'YubiKey' }
  assert.deepEqual(passkeyFromCanonical(good).transports, ['usb', 'hybrid'])
  const cases: Array<[CanonicalValue, RegExp]> = [
    [null, /expected a map/], [[1, 2], /expected a map/], [new Uint8Array(3), /expected a map/],
    [{ ...good, extra: 1 }, /unexpected field.*"extra"/], [{ ...good, name: undefined as unknown as string }, /missing field.*name/],
    [{ ...good, id: '' }, /^passkey record id:/], [{ ...good, id: 'AAE=' }, /id: expected base64url/], [{ ...good, id: 'AAF' }, /canonical base64url/],
    [{ ...good, id: 'A'.repeat(1366) }, /at most 1023 bytes/], [{ ...good, id: 7 }, /id: expected base64url text, got integer/],
    [{ ...good, publicKey: 'key' }, /publicKey: expected a byte string/], [{ ...good, publicKey: new Uint8Array(0) }, /publicKey: expected 1 to 1024/],
    [{ ...good, publicKey: new Uint8Array(1025) }, /publicKey: expected 1 to 1024 bytes, got 1025/],
    [{ ...good, counter: -1 }, /counter/], [{ ...good, counter: 2 ** 32 }, /counter/], [{ ...good, counter: 'x' }, /counter/],
    [{ ...good, transports: 'usb' }, /transports: expected a list/], [{ ...good, transports: Array(9).fill('usb') }, /transports: expected a list of at most 8/],
    [{ ...good, transports: ['USB'] }, /transports\[0\]/], [{ ...good, transports: [1] }, /transports\[0\]/], [{ ...good, transports: ['a'.repeat(33)] }, /transports\[0\]/],
    [{ ...good, created: -5 }, /created/], [{ ...good, created: null }, /created/],
    [{ ...good, name: '' }, /name: expected 1 to 64/], [{ ...good, name: 'n'.repeat(65) }, /name: expected 1 to 64 characters, got 65/],
    [{ ...good, name: 'a\u0000b' }, /name: control/], [{ ...good, name: ' pad' }, /name: leading/], [{ ...good, name: 'Cle\u0301' }, /name: expected NFC/]
  ]
  for (const [value, message] of cases) {
    assert.throws(() => passkeyFromCanonical(value), (e: unknown) => e instanceof PeerpacsError && e.code === 'DECODE_FAILED' && message.test(e.message), `${JSON.stringify(value, (_, v) => v instanceof Uint8Array ? `bytes(${v.length})` : v)}`)
  }
  // 64 characters counted as code points, not UTF-16 units.
  assert.equal(passkeyFromCanonical({ ...good, name: '🔑'.repeat(64) }).name.length, 128)
  // The encoder refuses what the decoder would refuse, so a bad record is never written.
  assert.throws(() => passkeyToCanonical({ ...good, counter: -1 }), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => passkeyToCanonical({ ...good, name: '' }), { code: 'INVALID_ARGUMENT' })
})
