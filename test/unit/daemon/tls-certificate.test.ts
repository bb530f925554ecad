/**
 * The certificate the node serves (issue 19): an operator's pair is checked (PEM, matching key,
 * dates) with errors naming the file; the generated one is made once, kept (same fingerprint at
 * the next start), its key sealed with the node's passphrase, and made anew when it nears its
 * end, is damaged, or does not cover the HTTP address.
 */
import assert from 'node:assert/strict'
import { createHash, X509Certificate } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { ConfigError } from '../../../node/config/config.ts'
import { GENERATED_CERT_FILE, GENERATED_KEY_FILE, generatedTls, makeCertificate } from '../../../node/daemon/tls-generate.ts'
import { checkPair, loadPair } from '../../../node/daemon/tls.ts'
import { createLogger } from '../../../node/logging/logger.ts'
import { provider, random } from '../../../node/runtime.ts'
import { tempDir } from '../node/helpers/temp.ts'

const DAY = 86_400_000

function capture (): { log: ReturnType<typeof createLogger>, events: () => Array<Record<string, any>> } {
  const lines: string[] = []
  return { log: createLogger({ write: (l) => lines.push(l) }), events: () => lines.map((l) => JSON.parse(l) as Record<string, any>) }
}

function isConfigError (pattern: RegExp) {
  return (e: unknown): boolean => e instanceof ConfigError && e.code === 'CONFIG' && pattern.test(e.message)
}

test('a generated certificate: ECDSA P-256, self-signed, for localhost, 127.0.0.1, ::1, the host name and the HTTP address, server auth only', async () => {
  const now = Date.now()
  const { certPem, keyPem } = await makeCertificate('10.1.2.3', now)
  const cert = new X509Certificate(certPem)
  assert.equal(cert.publicKey.asymmetricKeyType, 'ec')
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  assert.ok(cert.issuer === cert.subject && cert.verify(cert.publicKey), 'self-signed')
  for (const name of ['localhost', hostname()]) assert.equal(cert.checkHost(name), name)
  for (const ip of ['127.0.0.1', '::1', '10.1.2.3']) assert.ok(cert.checkIP(ip) !== undefined, ip)
  assert.equal(cert.ca, false)
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'])
  const days = (Date.parse(cert.validTo) - now) / DAY
  assert.ok(days > 824 && days <= 826, `valid ${days} days`)
  const material = checkPair(certPem, keyPem, { cert: 'c.pem', key: 'k.pem' }, 'files', now)
  assert.equal(material.info.fingerprint, createHash('sha256').update(cert.raw).digest('hex').toUpperCase().match(/../g)!.join(':'))
  assert.equal(material.info.fingerprint, cert.fingerprint256)
})

test('an operator pair that is not PEM, does not match, has expired or cannot be read: a config error naming the file', async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-pair-')
  const now = Date.now()
  const a = await makeCertificate('127.0.0.1', now)
  const b = await makeCertificate('127.0.0.1', now)
  const old = await makeCertificate('127.0.0.1', now - 900 * DAY)
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  const write = async (cert: string, key: string): Promise<void> => { await writeFile(files.cert, cert); await writeFile(files.key, key) }

  await write(a.certPem, a.keyPem)
  assert.equal((await loadPair(files)).info.source, 'files')
  await write('hello\n', a.keyPem)
  await assert.rejects(loadPair(files), isConfigError(new RegExp(`${files.cert} holds no PEM certificate`)))
  await write(a.certPem.replace(/[A-Za-z]{20}/, 'A'.repeat(20)), a.keyPem)
  await assert.rejects(loadPair(files), isConfigError(new RegExp(`${files.cert}: the certificate cannot be read`)))
  await write(a.certPem, 'not a key\n')
  await assert.rejects(loadPair(files), isConfigError(new RegExp(`${files.key}: no private key can be read from it`)))
  await write(a.certPem, b.keyPem)
  await assert.rejects(loadPair(files), isConfigError(new RegExp(`${files.key} is not the private key of the certificate in ${files.cert}`)))
  await write(old.certPem, old.keyPem)
  await assert.rejects(loadPair(files), isConfigError(new RegExp(`the certificate in ${files.cert} expired on`)))
  await assert.rejects(loadPair({ cert: join(dir, 'missing.pem'), key: files.key }), isConfigError(/cannot read the TLS certificate .*missing\.pem: ENOENT/))
})

test('generated once and kept: the same fingerprint at the next start; files 0600; the key sealed with the node passphrase', async (t) => {
  const keysDir = await tempDir(t, 'peerpacs-tls-gen-')
  const { log, events } = capture()
  const options = { keysDir, host: '127.0.0.1', passphrase: 'correct horse battery staple', provider, random, log }
  const first = await generatedTls(options)
  assert.equal(first.info.source, 'generated')
  assert.equal(first.info.certFile, join(keysDir, GENERATED_CERT_FILE))
  assert.deepEqual(events().map((e) => [e.event, e.reason, e.sealed]), [['tls.certificate.generated', 'none yet', true]])
  for (const file of [GENERATED_CERT_FILE, GENERATED_KEY_FILE]) assert.equal((await stat(join(keysDir, file))).mode & 0o777, 0o600, file)
  const sealed = await readFile(join(keysDir, GENERATED_KEY_FILE))
  assert.ok(!sealed.includes('PRIVATE KEY'), 'the key file holds no PEM key')
  const der = Buffer.from(first.key.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  assert.ok(!sealed.includes(der.subarray(-32)), 'nor its raw bytes')

  const again = await generatedTls(options)
  assert.equal(again.info.fingerprint, first.info.fingerprint)
  assert.equal(events().length, 1, 'nothing generated the second time')
  // Without a passphrase the key is kept as-is (file permissions only), as the node key is.
  const open = await generatedTls({ ...options, keysDir: await tempDir(t, 'peerpacs-tls-gen-'), passphrase: undefined })
  assert.equal(events().at(-1)?.sealed, false)
  assert.notEqual(open.info.fingerprint, first.info.fingerprint)
})

test('made anew when it nears its end, is damaged, is sealed with another passphrase, or does not cover the HTTP address', async (t) => {
  const keysDir = await tempDir(t, 'peerpacs-tls-renew-')
  const { log, events } = capture()
  const options = { keysDir, host: '127.0.0.1', passphrase: undefined, provider, random, log }
  const first = await generatedTls(options)
  const later = await generatedTls({ ...options, now: Date.now() + 800 * DAY })
  assert.notEqual(later.info.fingerprint, first.info.fingerprint)
  assert.match(events().at(-1)!.reason, /it ends on/)

  const lan = await generatedTls({ ...options, host: '192.0.2.44', now: Date.now() + 800 * DAY })
  assert.notEqual(lan.info.fingerprint, later.info.fingerprint)
  assert.match(events().at(-1)!.reason, /does not cover/)
  assert.ok(new X509Certificate(lan.cert).checkIP('192.0.2.44') !== undefined)

  await writeFile(join(keysDir, GENERATED_CERT_FILE), 'garbage')
  const repaired = await generatedTls({ ...options, host: '192.0.2.44' })
  assert.match(events().at(-1)!.reason, /cannot be used: .*holds no PEM certificate/)
  assert.notEqual(repaired.info.fingerprint, lan.info.fingerprint)

  const sealed = await generatedTls({ ...options, keysDir: await tempDir(t, 'peerpacs-tls-renew-'), passphrase: 'the first passphrase here' })
  const other = await generatedTls({ ...options, keysDir: dirname(sealed.info.certFile), passphrase: 'another passphrase entirely' })
  assert.notEqual(other.info.fingerprint, sealed.info.fingerprint)
  assert.match(events().at(-1)!.reason, /cannot be used: wrong passphrase/)
})
