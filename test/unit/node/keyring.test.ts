/**
 * node/keys/keyring.ts: createKeyring then unlockKeyring gives back the same node, org and epoch
 * key; the recovery seed opens the epoch key and is never written; a wrong or missing passphrase
 * changes nothing on disk; files are private; mismatched or missing files are KeyFileErrors.
 * A node that joined (createJoinedKeyring) unlocks without an epoch key and learns them from the
 * log, the earlier ones from an epoch's history.
 */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { decodeCanonical, type CanonicalMap } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { generateNodeKey, nodeIdFromPublicKey, nodeKeyFromSecret, x25519SecretKey } from '../../../protocol/identity.ts'
import { createEpoch, createOp, OpLog, type OpBodies, type OpType, type SignedOp } from '../../../protocol/log/index.ts'
import { nativeProvider } from '../../../node/crypto/native-provider.ts'
import { KeyFileError, PassphraseRequiredError, WrongPassphraseError } from '../../../node/keys/errors.ts'
import { createJoinedKeyring, createKeyring, openEpochWithRecoveryKey, ORG_FILE, SECRETS_FILE, unlockKeyring, type Keyring } from '../../../node/keys/keyring.ts'
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

// ---- A node that joined an existing org (createJoinedKeyring, `init --join`) ----

/** The founder's log with `member` added as a site member: member.add, then an epoch.start wrapped to both, carrying the founder's keys as history. */
function admitSite (founder: Keyring, recoveryPublicKey: Uint8Array, member: Uint8Array, random: (n: number) => Uint8Array, withHistory = true): { log: OpLog, epochKey: Uint8Array, epochId: string } {
  const log = new OpLog(provider, founder.org.genesisBytes)
  const write = <T extends OpType>(type: T, body: OpBodies[T]): SignedOp => {
    const op = createOp(provider, founder.nodeKey, { org: log.orgId, seq: log.nextSeq(founder.nodeKey.publicKey), parents: log.heads(), type, body, time: NOW } as never) as SignedOp
    assert.equal(log.add(op).status, 'applied')
    return op
  }
  write('member.add', { member, role: 'site', level: 'write', scope: 'org' })
  const { key, body } = createEpoch(provider, random, {
    org: log.orgId, members: [{ member: founder.nodeKey.publicKey }, { member }], recoveryPublicKey, ...(withHistory ? { previous: founder.epochKeys() } : {})
  })
  const op = write('epoch.start', body)
  return { log, epochKey: key, epochId: op.idHex }
}

test('createJoinedKeyring: the given node key, the org of the genesis, no epoch key yet; unlockKeyring reads it back', async (t) => {
  const founderDir = await newKeysDir(t)
  const { keyring: founder } = await create(founderDir, undefined, 90)
  const joinedDir = await newKeysDir(t)
  const nodeKey = generateNodeKey(seeded(91).random)
  const joined = await createJoinedKeyring(joinedDir, { genesisBytes: founder.org.genesisBytes, nodeKey, passphrase: 'joined pw', provider, random: seeded(92).random, scrypt: FAST })
  assert.equal(joined.nodeId, nodeIdFromPublicKey(nodeKey.publicKey))
  assert.equal(joined.orgId, founder.orgId)
  assert.equal(joined.org.name, 'Praxis am See')
  assert.equal(joined.sealed, true)
  assert.equal(joined.hasEpochKey, false)
  assert.deepEqual(joined.epochKeys(), [])
  assert.throws(() => joined.currentEpoch, (e: unknown) => e instanceof KeyFileError && /holds no epoch key of its org yet/.test(e.message))
  assert.throws(() => joined.epochKey(founder.orgId), KeyFileError)
  for (const name of [SECRETS_FILE, ORG_FILE]) assert.equal((await stat(join(joinedDir, name))).mode & 0o777, 0o600, name)
  assert.deepEqual(await filesContain(joinedDir, nodeKey.secretKey), [], 'node secret written in clear')
  // Not the founder, no box in genesis: it unlocks all the same (it learns its epochs from the log).
  const unlocked = await unlockKeyring(joinedDir, 'joined pw', provider)
  assert.equal(unlocked.nodeId, joined.nodeId)
  assert.equal(toHexString(unlocked.lookupKey), toHexString(joined.lookupKey))
  assert.equal(unlocked.hasEpochKey, false)
  await assert.rejects(unlockKeyring(joinedDir, 'wrong', provider), WrongPassphraseError)
  // Its secrets name the org it joined: another org's file does not pass for it.
  const otherDir = await newKeysDir(t)
  await create(otherDir, undefined, 106)
  await copyFile(join(otherDir, ORG_FILE), join(joinedDir, ORG_FILE))
  await assert.rejects(unlockKeyring(joinedDir, 'joined pw', provider), (e: unknown) => e instanceof KeyFileError && /do not belong together/.test(e.message))
})

test('learnEpochs: a joined node opens the epoch wrapped to it and, from its history, the genesis key', async (t) => {
  const { keyring: founder, recoverySeed } = await create(await newKeysDir(t), undefined, 93)
  const recoveryPublic = nodeKeyFromSecret(recoverySeed).publicKey
  const joinedDir = await newKeysDir(t)
  const nodeKey = generateNodeKey(seeded(94).random)
  const joined = await createJoinedKeyring(joinedDir, { genesisBytes: founder.org.genesisBytes, nodeKey, passphrase: undefined, provider, random: seeded(95).random })
  const { log, epochKey, epochId } = admitSite(founder, recoveryPublic, nodeKey.publicKey, seeded(96).random)
  joined.learnEpochs(log.state)
  assert.equal(joined.currentEpoch, epochId)
  assert.equal(toHexString(joined.epochKey(epochId)), toHexString(epochKey))
  assert.equal(toHexString(joined.epochKey(founder.orgId)), toHexString(founder.epochKey(founder.orgId)), 'the genesis key, from the history')
  // After a restart (unlock, then the log again): the same.
  const again = await unlockKeyring(joinedDir, undefined, provider)
  assert.equal(again.hasEpochKey, false)
  again.learnEpochs(log.state)
  assert.equal(toHexString(again.epochKey(founder.orgId)), toHexString(founder.epochKey(founder.orgId)))
  assert.deepEqual(again.epochKeys().map((e) => e.id).sort(), [founder.orgId, epochId].sort())
  // The founder learns the new epoch too (wrapped to it), and keeps the genesis key.
  founder.learnEpochs(log.state)
  assert.equal(founder.currentEpoch, epochId)
  assert.equal(toHexString(founder.epochKey(epochId)), toHexString(epochKey))
})

test('learnEpochs without a history: the joined node holds only the epoch wrapped to it', async (t) => {
  const { keyring: founder, recoverySeed } = await create(await newKeysDir(t), undefined, 97)
  const nodeKey = generateNodeKey(seeded(98).random)
  const joined = await createJoinedKeyring(await newKeysDir(t), { genesisBytes: founder.org.genesisBytes, nodeKey, passphrase: undefined, provider, random: seeded(99).random })
  const { log, epochId } = admitSite(founder, nodeKeyFromSecret(recoverySeed).publicKey, nodeKey.publicKey, seeded(100).random, false)
  joined.learnEpochs(log.state)
  assert.equal(joined.currentEpoch, epochId)
  assert.throws(() => joined.epochKey(founder.orgId), KeyFileError)
})

test('learnEpochs: a node the log never wrapped a key to holds none (a backup, or not admitted yet)', async (t) => {
  const { keyring: founder, recoverySeed } = await create(await newKeysDir(t), undefined, 101)
  const joined = await createJoinedKeyring(await newKeysDir(t), { genesisBytes: founder.org.genesisBytes, nodeKey: generateNodeKey(seeded(102).random), passphrase: undefined, provider, random: seeded(103).random })
  const other = generateNodeKey(seeded(104).random)
  const { log } = admitSite(founder, nodeKeyFromSecret(recoverySeed).publicKey, other.publicKey, seeded(105).random)
  joined.learnEpochs(log.state)
  assert.equal(joined.hasEpochKey, false)
  assert.deepEqual(joined.epochKeys(), [])
})
