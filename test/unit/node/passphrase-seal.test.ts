/**
 * node/keys/passphrase-seal.ts and node/keys/passphrase.ts: node:crypto scrypt equals the noble
 * reference; sealing round-trips; wrong, missing and differently-normalised passphrases; unsealed
 * files; damaged files; and where a passphrase comes from (file, trailing newline, environment).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { scrypt as nobleScrypt } from '@noble/hashes/scrypt.js'
import { encodeCanonical, decodeCanonical, type CanonicalMap, type CanonicalValue } from '../../../protocol/canonical.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { PeerpacsError } from '../../../protocol/errors.ts'
import { nativeProvider } from '../../../node/crypto/native-provider.ts'
import { KeyFileError, PassphraseRequiredError, WrongPassphraseError } from '../../../node/keys/errors.ts'
import { DEFAULT_SCRYPT, isSealed, openWithPassphrase, scryptKey, sealWithPassphrase, type ScryptParams } from '../../../node/keys/passphrase-seal.ts'
import { PassphraseFileError, resolvePassphrase } from '../../../node/keys/passphrase.ts'
import { seeded, toHexString } from './helpers/seeded.ts'
import { tempDir } from './helpers/temp.ts'

const FAST: ScryptParams = { logN: 10, r: 8, p: 1 }
const provider = nativeProvider
const WHERE = '/data/keys/node-secrets.cbor'

function nobleKey (passphrase: string, salt: Uint8Array, params: ScryptParams): Uint8Array {
  return nobleScrypt(new TextEncoder().encode(passphrase.normalize('NFC')), salt, { N: 2 ** params.logN, r: params.r, p: params.p, dkLen: 32 })
}

async function seal (secret: Uint8Array, passphrase: string | undefined, seed = 60, params: ScryptParams = FAST): Promise<Uint8Array> {
  return await sealWithPassphrase(secret, passphrase, { provider, random: seeded(seed).random, params })
}

function fileMap (file: Uint8Array): CanonicalMap {
  return decodeCanonical(file) as CanonicalMap
}

function rewrite (file: Uint8Array, change: (map: CanonicalMap) => void): Uint8Array {
  const map = { ...fileMap(file) }
  change(map)
  return encodeCanonical(map)
}

describe('scryptKey', () => {
  test('node:crypto scrypt equals @noble/hashes scrypt (logN 10, varied r, p, salts and passphrases)', async () => {
    const rng = seeded(61)
    const passphrases = ['', 'a', 'correct horse battery staple', 'pässwörd', 'A\u0308rger', '密码🔑', ' spaces ', 'x'.repeat(300)]
    for (const [i, passphrase] of passphrases.entries()) {
      for (const params of [FAST, { logN: 10, r: 1, p: 1 }, { logN: 11, r: 4, p: 2 }] as ScryptParams[]) {
        const salt = rng.bytes(i === 0 ? 0 : 16)
        const key = await scryptKey(passphrase, salt, params)
        assert.equal(key.length, 32)
        assert.equal(toHexString(key), toHexString(nobleKey(passphrase, salt, params)), `${JSON.stringify(passphrase)} ${JSON.stringify(params)}`)
      }
    }
  })

  test('RFC 7914 §12 vector (N = 1024, r = 8, p = 16), first 32 bytes', async () => {
    const key = await scryptKey('password', new TextEncoder().encode('NaCl'), { logN: 10, r: 8, p: 16 })
    assert.equal(toHexString(key), 'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162')
  })

  test('node:crypto scrypt equals @noble/hashes scrypt at the real DEFAULT_SCRYPT', async () => {
    assert.deepEqual(DEFAULT_SCRYPT, { logN: 17, r: 8, p: 1 })
    const salt = seeded(62).bytes(16)
    const key = await scryptKey('a real passphrase', salt, DEFAULT_SCRYPT)
    assert.equal(toHexString(key), toHexString(nobleKey('a real passphrase', salt, DEFAULT_SCRYPT)))
  })

  test('NFC and NFD spellings of a passphrase derive the same key', async () => {
    const salt = seeded(63).bytes(16)
    const nfc = await scryptKey('Gr\u00fc\u00dfe \u00c5ngstr\u00f6m', salt, FAST)
    const nfd = await scryptKey('Gru\u0308\u00dfe A\u030angstro\u0308m', salt, FAST)
    assert.equal(toHexString(nfd), toHexString(nfc))
  })
})

describe('sealWithPassphrase / openWithPassphrase', () => {
  const secret = seeded(64).bytes(64)

  test('round trip with a passphrase; the file holds neither secret nor passphrase', async () => {
    const file = await seal(secret, 'open sesame')
    assert.equal(isSealed(file), true)
    assert.equal(toHexString(await openWithPassphrase(provider, file, 'open sesame', WHERE)), toHexString(secret))
    assert.equal(toHexString(await openWithPassphrase(nobleProvider, file, 'open sesame', WHERE)), toHexString(secret))
    assert.ok(!Buffer.from(file).includes(Buffer.from(secret)))
    assert.ok(!Buffer.from(file).includes(Buffer.from('open sesame')))
    const map = fileMap(file)
    assert.equal(map.kdf, 'scrypt')
    assert.deepEqual([map.logN, map.r, map.p], [FAST.logN, FAST.r, FAST.p], 'the parameters travel in the file')
  })

  test('the default parameters are used when none are given', async () => {
    const file = await sealWithPassphrase(secret, 'pw', { provider, random: seeded(65).random })
    const map = fileMap(file)
    assert.deepEqual([map.logN, map.r, map.p], [17, 8, 1])
    assert.equal(toHexString(await openWithPassphrase(provider, file, 'pw', WHERE)), toHexString(secret))
  })

  test('wrong passphrase → WrongPassphraseError that names the file, never the passphrase', async () => {
    const file = await seal(secret, 'right one')
    for (const wrong of ['right one ', 'Right one', '', 'right one\n']) {
      await assert.rejects(openWithPassphrase(provider, file, wrong, WHERE), (error: unknown) => {
        assert.ok(error instanceof WrongPassphraseError)
        assert.equal(error.code, 'WRONG_PASSPHRASE')
        assert.ok(error.message.includes(WHERE))
        assert.ok(error.hint !== undefined && error.hint.length > 0)
        if (wrong.trim() !== '') assert.ok(!error.message.includes(wrong) && !error.hint.includes(wrong))
        return true
      }, JSON.stringify(wrong))
    }
  })

  test('no passphrase for a sealed file → PassphraseRequiredError with a hint', async () => {
    const file = await seal(secret, 'pw')
    await assert.rejects(openWithPassphrase(provider, file, undefined, WHERE), (error: unknown) => {
      assert.ok(error instanceof PassphraseRequiredError)
      assert.ok(error.message.includes(WHERE))
      assert.match(error.hint ?? '', /PEERPACS_PASSPHRASE|--passphrase-file/)
      return true
    })
  })

  test('an unsealed (kdf "none") file opens without a passphrase', async () => {
    const file = await seal(secret, undefined)
    assert.equal(isSealed(file), false)
    assert.equal(fileMap(file).kdf, 'none')
    assert.equal(toHexString(await openWithPassphrase(provider, file, undefined, WHERE)), toHexString(secret))
    // A passphrase given for an unsealed file is not needed, and not an error.
    assert.equal(toHexString(await openWithPassphrase(provider, file, 'anything', WHERE)), toHexString(secret))
  })

  test('a passphrase typed in NFD opens a file sealed with its NFC spelling, and back', async () => {
    const nfc = 'caf\u00e9 \u00fcber \u1e9b\u0323'.normalize('NFC')
    const nfd = nfc.normalize('NFD')
    assert.notEqual(nfc, nfd)
    assert.equal(toHexString(await openWithPassphrase(provider, await seal(secret, nfc), nfd, WHERE)), toHexString(secret))
    assert.equal(toHexString(await openWithPassphrase(provider, await seal(secret, nfd), nfc, WHERE)), toHexString(secret))
  })

  test('the scrypt parameters are bound to the box: editing them in the file does not open', async () => {
    const file = await seal(secret, 'pw')
    const edited = rewrite(file, (m) => { m.r = 4 })
    await assert.rejects(openWithPassphrase(provider, edited, 'pw', WHERE), WrongPassphraseError)
  })

  test('a structurally damaged file → KeyFileError naming the file', async () => {
    const file = await seal(secret, 'pw')
    const damaged: Array<[string, Uint8Array]> = [
      ['random bytes', seeded(66).bytes(120)],
      ['empty', new Uint8Array(0)],
      ['truncated', file.subarray(0, file.length - 5)],
      ['trailing byte', new Uint8Array([...file, 0])],
      ['a CBOR array', encodeCanonical([1, 2, 3])],
      ['version 2', rewrite(file, (m) => { m.v = 2 })],
      ['no version', rewrite(file, (m) => { delete m.v })],
      ['unknown kdf', rewrite(file, (m) => { m.kdf = 'argon2id' })],
      ['logN 30', rewrite(file, (m) => { m.logN = 30 })],
      ['logN 9', rewrite(file, (m) => { m.logN = 9 })],
      ['p 0', rewrite(file, (m) => { m.p = 0 })],
      ['r 64', rewrite(file, (m) => { m.r = 64 })],
      ['JSON', new TextEncoder().encode('{"v":1,"kdf":"none"}')]
    ]
    for (const [what, bytes] of damaged) {
      await assert.rejects(openWithPassphrase(provider, bytes, 'pw', WHERE), (error: unknown) => {
        assert.ok(error instanceof KeyFileError, `${what}: got ${String(error)}`)
        assert.equal(error.code, 'KEY_FILE')
        assert.ok(error.message.includes(WHERE), `${what}: ${error.message}`)
        return true
      }, what)
    }
  })

  test('a flipped byte inside the box is indistinguishable from a wrong passphrase', async () => {
    const file = await seal(secret, 'pw')
    const map = fileMap(file)
    const box = (map.box as Uint8Array).slice()
    box[30] = box[30]! ^ 1
    await assert.rejects(openWithPassphrase(provider, rewrite(file, (m) => { m.box = box }), 'pw', WHERE), WrongPassphraseError)
    const salt = (map.salt as Uint8Array).slice()
    salt[0] = salt[0]! ^ 1
    await assert.rejects(openWithPassphrase(provider, rewrite(file, (m) => { m.salt = salt }), 'pw', WHERE), WrongPassphraseError)
  })

  test('a file whose fields are missing or malformed → KeyFileError, not a bare DecodeError', {
  }, async () => {
    const sealed = await seal(secret, 'pw')
    const plain = await seal(secret, undefined)
    const boxOf = (f: Uint8Array): Uint8Array => fileMap(f).box as Uint8Array
    const damaged: Array<[string, Uint8Array]> = [
      ['no kdf', rewrite(sealed, (m) => { delete m.kdf })],
      ['kdf is a number', rewrite(sealed, (m) => { m.kdf = 7 as CanonicalValue })],
      ['no salt', rewrite(sealed, (m) => { delete m.salt })],
      ['8-byte salt', rewrite(sealed, (m) => { m.salt = new Uint8Array(8) })],
      ['no logN', rewrite(sealed, (m) => { delete m.logN })],
      ['box shorter than its overhead', rewrite(sealed, (m) => { m.box = boxOf(sealed).subarray(0, 20) })],
      ['box version byte 2', rewrite(sealed, (m) => { const b = boxOf(sealed).slice(); b[0] = 2; m.box = b })],
      ['no box', rewrite(sealed, (m) => { delete m.box })],
      ['unsealed without secret', rewrite(plain, (m) => { delete m.secret })]
    ]
    const wrongType: string[] = []
    for (const [what, bytes] of damaged) {
      try {
        await openWithPassphrase(provider, bytes, 'pw', WHERE)
        wrongType.push(`${what}: opened`)
      } catch (error) {
        if (!(error instanceof KeyFileError)) wrongType.push(`${what}: ${(error as PeerpacsError).name} ${(error as Error).message}`)
      }
    }
    assert.deepEqual(wrongType, [])
  })
})

describe('resolvePassphrase', () => {
  test('a passphrase file: one trailing LF or CRLF is stripped, everything else kept', async (t) => {
    const dir = await tempDir(t, 'peerpacs-pass-')
    const cases: Array<[string, string]> = [
      ['secret\n', 'secret'],
      ['secret\r\n', 'secret'],
      ['secret', 'secret'],
      ['secret\n\n', 'secret\n'],
      ['  spaced out  \n', '  spaced out  '],
      ['tab\t\n', 'tab\t'],
      ['multi\nline\n', 'multi\nline'],
      ['\u00fcber\n', '\u00fcber']
    ]
    for (const [i, [content, want]] of cases.entries()) {
      const path = join(dir, `pass-${i}`)
      await writeFile(path, content)
      assert.equal(await resolvePassphrase(path, {}), want, JSON.stringify(content))
    }
  })

  test('an empty passphrase file (or one holding only a newline) is an error', async (t) => {
    const dir = await tempDir(t, 'peerpacs-pass-')
    for (const content of ['', '\n', '\r\n']) {
      const path = join(dir, 'empty')
      await writeFile(path, content)
      await assert.rejects(resolvePassphrase(path, { PEERPACS_PASSPHRASE: 'from-env' }), (error: unknown) => {
        assert.ok(error instanceof PassphraseFileError)
        assert.match(error.message, /is empty/)
        assert.ok(error.message.includes(path))
        return true
      }, JSON.stringify(content))
    }
  })

  test('a missing passphrase file is an error naming the file and the reason', async (t) => {
    const path = join(await tempDir(t, 'peerpacs-pass-'), 'nope')
    await assert.rejects(resolvePassphrase(path, { PEERPACS_PASSPHRASE: 'from-env' }), (error: unknown) => {
      assert.ok(error instanceof PassphraseFileError)
      assert.equal(error.code, 'PASSPHRASE_FILE')
      assert.ok(error.message.includes(path))
      assert.match(error.message, /ENOENT/)
      return true
    })
  })

  test('without a file: PEERPACS_PASSPHRASE, else undefined; the file wins over the environment', async (t) => {
    assert.equal(await resolvePassphrase(undefined, { PEERPACS_PASSPHRASE: 'env pass' }), 'env pass')
    assert.equal(await resolvePassphrase(undefined, { PEERPACS_PASSPHRASE: '' }), undefined)
    assert.equal(await resolvePassphrase(undefined, {}), undefined)
    const path = join(await tempDir(t, 'peerpacs-pass-'), 'pass')
    await writeFile(path, 'file pass\n')
    assert.equal(await resolvePassphrase(path, { PEERPACS_PASSPHRASE: 'env pass' }), 'file pass')
  })
})
