/**
 * node/keys/keyring.ts: createKeyring then unlockKeyring gives back the same node, org and epoch
 * key; the recovery seed opens the epoch key and is never written; a wrong or missing passphrase
 * changes nothing on disk; files are private; mismatched or missing files are KeyFileErrors.
 */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { decodeCanonical, type CanonicalMap } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { x25519SecretKey } from '../../../protocol/identity.ts'
import { nativeProvider } from '../../../node/crypto/native-provider.ts'
import { KeyFileError, PassphraseRequiredError, WrongPassphraseError } from '../../../node/keys/errors.ts'
import { createKeyring, openEpochWithRecoveryKey, ORG_FILE, SECRETS_FILE, unlockKeyring, type Keyring } from '../../../node/keys/keyring.ts'
import { DEFAULT_SCRYPT, type ScryptParams } from '../../../node/keys/passphrase-seal.ts'
import { seeded, toHexString } from './helpers/seeded.ts'
import { listFiles, snapshot, tempDir } from './helpers/temp.ts'

const FAST: ScryptParams = { logN: 10, r: 8, p: 1 }
const provider = nativeProvider
const NOW = Date.UTC(2024, 2, 15, 9, 30)

async function newKeysDir (t: TestContext): Promise<string> {
  const keysDir = join(await tempDir(t, 'peerpacs-keys-'), 'keys')
  await mkdir(keysDir, { mode: 0o700 })
  return keysDir
}

/** `scrypt: 'default'` leaves the cost to createKeyring (DEFAULT_SCRYPT). */
async function create (keysDir: string, passphrase: string | undefined, seed: number, scrypt: ScryptParams | 'default' = FAST): Promise<{ keyring: Keyring, recoverySeed: Uint8Array }> {
  return await createKeyring(keysDir, {
    passphrase, orgName: 'Praxis am See', provider, random: seeded(seed).random, now: NOW, ...(scrypt === 'default' ? {} : { scrypt })
  })
}

function assertSameKeyring (unlocked: Keyring, created: Keyring): void {
  assert.equal(unlocked.nodeId, created.nodeId)
  assert.equal(unlocked.orgId, created.orgId)
  assert.equal(unlocked.currentEpoch, unlocked.orgId)
  assert.equal(toHexString(unlocked.epochKey(unlocked.orgId)), toHexString(created.epochKey(created.orgId)))
  assert.equal(toHexString(unlocked.lookupKey), toHexString(created.lookupKey))
  assert.equal(toHexString(unlocked.nodeKey.publicKey), toHexString(created.nodeKey.publicKey))
  assert.equal(toHexString(unlocked.nodeKey.secretKey), toHexString(created.nodeKey.secretKey))
  assert.equal(unlocked.org.name, 'Praxis am See')
  assert.equal(unlocked.org.created, NOW)
}

async function filesContain (keysDir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for (const path of await listFiles(keysDir)) if ((await readFile(path)).includes(Buffer.from(needle))) hits.push(path)
  return hits
}

test('createKeyring then unlockKeyring (fast scrypt) gives the same node id, org id and epoch key', async (t) => {
  const keysDir = await newKeysDir(t)
  const { keyring } = await create(keysDir, 'hunter2 but longer', 70)
  assert.match(keyring.nodeId, /^12D3KooW/)
  assert.match(keyring.orgId, /^[0-9a-f]{64}$/)
  assert.equal(keyring.epochKey(keyring.orgId).length, 32)
  assertSameKeyring(await unlockKeyring(keysDir, 'hunter2 but longer', provider), keyring)
  // The reference provider reads the same files the same way.
  assertSameKeyring(await unlockKeyring(keysDir, 'hunter2 but longer', nobleProvider), keyring)
})

test('createKeyring then unlockKeyring with a passphrase at the default scrypt cost', async (t) => {
  const keysDir = await newKeysDir(t)
  const { keyring } = await create(keysDir, 'default cost passphrase', 71, 'default')
  const file = decodeCanonical(await readFile(join(keysDir, SECRETS_FILE))) as CanonicalMap
  assert.deepEqual([file.kdf, file.logN, file.r, file.p], ['scrypt', DEFAULT_SCRYPT.logN, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p])
  assertSameKeyring(await unlockKeyring(keysDir, 'default cost passphrase', provider), keyring)
})

test('without a passphrase the keys are unsealed and unlock with none', async (t) => {
  const keysDir = await newKeysDir(t)
  const { keyring } = await create(keysDir, undefined, 72)
  assertSameKeyring(await unlockKeyring(keysDir, undefined, provider), keyring)
})

test('the recovery seed opens the epoch key; another seed does not', async (t) => {
  const keysDir = await newKeysDir(t)
  const { keyring, recoverySeed } = await create(keysDir, 'pw', 73)
  assert.equal(recoverySeed.length, 32)
  assert.equal(toHexString(openEpochWithRecoveryKey(provider, keyring.org, recoverySeed)), toHexString(keyring.epochKey(keyring.orgId)))
  const unlocked = await unlockKeyring(keysDir, 'pw', provider)
  assert.equal(toHexString(openEpochWithRecoveryKey(nobleProvider, unlocked.org, recoverySeed)), toHexString(keyring.epochKey(keyring.orgId)))
  assert.throws(() => openEpochWithRecoveryKey(provider, keyring.org, seeded(74).bytes(32)))
  // The node key cannot stand in for the recovery key.
  assert.throws(() => openEpochWithRecoveryKey(provider, keyring.org, keyring.nodeKey.secretKey))
  assert.throws(() => openEpochWithRecoveryKey(provider, keyring.org, recoverySeed, 'ff'.repeat(32)), KeyFileError)
})

test('no file under the keys dir holds the recovery seed, its X25519 key, the epoch key, or (sealed) the node secret', async (t) => {
  for (const passphrase of ['pw', undefined]) {
    const keysDir = await newKeysDir(t)
    const { keyring, recoverySeed } = await create(keysDir, passphrase, 75)
    assert.deepEqual((await listFiles(keysDir)).map((p) => p.slice(keysDir.length + 1)).sort(), [SECRETS_FILE, ORG_FILE].sort())
    assert.deepEqual(await filesContain(keysDir, recoverySeed), [], 'recovery seed written')
    assert.deepEqual(await filesContain(keysDir, x25519SecretKey(recoverySeed)), [], 'recovery X25519 secret written')
    assert.deepEqual(await filesContain(keysDir, keyring.epochKey(keyring.orgId)), [], 'epoch key written in clear')
    if (passphrase !== undefined) {
      assert.deepEqual(await filesContain(keysDir, keyring.nodeKey.secretKey), [], 'node secret written in clear')
      assert.deepEqual(await filesContain(keysDir, keyring.lookupKey), [], 'lookup key written in clear')
    }
  }
})

test('the key files are mode 0600', async (t) => {
  const keysDir = await newKeysDir(t)
  await create(keysDir, 'pw', 76)
  for (const name of [SECRETS_FILE, ORG_FILE]) {
    assert.equal((await stat(join(keysDir, name))).mode & 0o777, 0o600, name)
  }
})

test('a wrong passphrase throws WrongPassphraseError and leaves every file byte-identical', async (t) => {
  const keysDir = await newKeysDir(t)
  await create(keysDir, 'the right one', 77)
  const before = await snapshot(keysDir)
  for (const wrong of ['the wrong one', 'the right one\n', '']) {
    await assert.rejects(unlockKeyring(keysDir, wrong, provider), WrongPassphraseError)
  }
  await assert.rejects(unlockKeyring(keysDir, undefined, provider), PassphraseRequiredError)
  const after = await snapshot(keysDir)
  assert.deepEqual([...after.keys()], [...before.keys()], 'no file added or removed')
  for (const [path, { bytes, mode }] of before) {
    assert.ok(after.get(path)!.bytes.equals(bytes), `${path} changed`)
    assert.equal(after.get(path)!.mode, mode)
  }
})

test('an epoch the node holds no key for → KeyFileError', async (t) => {
  const keysDir = await newKeysDir(t)
  const { keyring } = await create(keysDir, undefined, 78)
  assert.throws(() => keyring.epochKey('ff'.repeat(32)), KeyFileError)
})

test('files that do not belong together → KeyFileError saying so', async (t) => {
  const a = await newKeysDir(t)
  const b = await newKeysDir(t)
  await create(a, undefined, 79)
  await create(b, undefined, 80)
  await copyFile(join(b, ORG_FILE), join(a, ORG_FILE))
  await assert.rejects(unlockKeyring(a, undefined, provider), (error: unknown) => {
    assert.ok(error instanceof KeyFileError)
    assert.match(error.message, /do not belong together/)
    return true
  })
})

test('a missing or damaged key file → KeyFileError naming it', async (t) => {
  const keysDir = await newKeysDir(t)
  await create(keysDir, 'pw', 81)
  const org = await readFile(join(keysDir, ORG_FILE))
  await writeFile(join(keysDir, ORG_FILE), org.subarray(0, org.length - 10))
  await assert.rejects(unlockKeyring(keysDir, 'pw', provider), (error: unknown) => {
    assert.ok(error instanceof KeyFileError)
    assert.ok(error.message.includes(join(keysDir, ORG_FILE)), error.message)
    return true
  })
  await rm(join(keysDir, ORG_FILE))
  await assert.rejects(unlockKeyring(keysDir, 'pw', provider), /cannot read .*org\.cbor: ENOENT/)
  await rm(join(keysDir, SECRETS_FILE))
  await assert.rejects(unlockKeyring(keysDir, 'pw', provider), (error: unknown) => {
    assert.ok(error instanceof KeyFileError)
    assert.match(error.message, /node-secrets\.cbor: ENOENT/)
    return true
  })
})
