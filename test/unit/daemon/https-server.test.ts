/**
 * The node's HTTP server with TLS (issue 19), in process over real sockets on 127.0.0.1: the
 * certificate served is the one the node reports, HSTS on every HTTPS answer, plain HTTP on the
 * same port only redirected, TLS 1.2 minimum with AEAD suites, the header deadline still cuts slow
 * clients over TLS, and a renewed pair is served without a restart (files watched, or SIGHUP)
 * while a bad one is refused and the old one kept.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { connect as netConnect } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { Hono } from 'hono'
import { startHttp } from '../../../node/daemon/http.ts'
import { makeCertificate } from '../../../node/daemon/tls-generate.ts'
import { openTls, type TlsService } from '../../../node/daemon/tls-service.ts'
import { createLogger } from '../../../node/logging/logger.ts'
import { provider, random } from '../../../node/runtime.ts'
import type { HttpSettings } from '../../../node/config/settings.ts'
import { tempDir } from '../node/helpers/temp.ts'

interface Served { port: number, tls: TlsService, files: { cert: string, key: string }, ca: string, events: () => Array<Record<string, any>> }

async function serve (t: TestContext, pollMs: number, settings: Partial<HttpSettings> = {}): Promise<Served> {
  const dir = await tempDir(t, 'peerpacs-https-')
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  const pair = await makeCertificate('127.0.0.1', Date.now())
  await writeFile(files.cert, pair.certPem)
  await writeFile(files.key, pair.keyPem)
  const lines: string[] = []
  const log = createLogger({ write: (l) => lines.push(l) })
  const http: HttpSettings = { host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: 1 << 20, tls: { mode: 'on', ...files }, ...settings }
  const tls = (await openTls(http, { keysDir: dir, passphrase: undefined, provider, random, log, pollMs }))!
  const app = new Hono()
  app.all('/hello', (c) => c.text(`hi over ${new URL(c.req.url).protocol}`))
  const server = await startHttp(app, http, log, tls)
  t.after(async () => { await server.close() })
  assert.equal(server.scheme, 'https')
  return { port: server.port, tls, files, ca: pair.certPem, events: () => lines.map((l) => JSON.parse(l) as Record<string, any>) }
}

/** What a TLS client sees: the certificate's SHA-256, the protocol and the suite. */
async function handshake (port: number, options: ConnectionOptions = {}): Promise<{ fingerprint: string, protocol: string | null, cipher: string }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options })
  try {
    await once(socket, 'secureConnect')
    return { fingerprint: socket.getPeerCertificate().fingerprint256, protocol: socket.getProtocol(), cipher: socket.getCipher().name }
  } finally { socket.destroy() }
}

async function get (port: number, ca: string, path: string): Promise<{ status: number, headers: Record<string, unknown>, body: string }> {
  const req = httpsRequest({ host: '127.0.0.1', port, path, ca, agent: false })
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return { status: res.statusCode!, headers: res.headers, body }
}

async function until (what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('HTTPS with the certificate the node reports; HSTS on every answer; the client trusts it with the certificate as CA', async (t) => {
  const s = await serve(t, 60_000)
  const seen = await handshake(s.port)
  assert.equal(seen.fingerprint, s.tls.info.fingerprint)
  assert.equal(seen.protocol, 'TLSv1.3')
  const answer = await get(s.port, s.ca, '/hello')
  assert.equal(answer.status, 200)
  assert.equal(answer.body, 'hi over https:')
  assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000')
  const missing = await get(s.port, s.ca, '/nothing-here')
  assert.equal(missing.status, 404)
  assert.equal(missing.headers['strict-transport-security'], 'max-age=31536000')
  const listening = s.events().find((e) => e.event === 'http.listening')!
  assert.deepEqual([listening.scheme, listening.fingerprint, listening.certificate, listening.plainHttp], ['https', s.tls.info.fingerprint, 'files', 'redirect'])
})

test('plain HTTP on the same port: only a 308 to https:// (same host, port, path and query), no page, no HSTS', async (t) => {
  const s = await serve(t, 60_000)
  for (const method of ['GET', 'POST']) {
    const response = await fetch(`http://127.0.0.1:${s.port}/hello?x=1`, { method, redirect: 'manual', ...(method === 'POST' ? { body: '{"password":"x"}' } : {}) })
    assert.equal(response.status, 308, method)
    assert.equal(response.headers.get('location'), `https://127.0.0.1:${s.port}/hello?x=1`)
    assert.equal(response.headers.get('strict-transport-security'), null)
    assert.doesNotMatch(await response.text(), /hi over/)
  }
  // A Host header that is not a host is not echoed into the Location.
  const raw = netConnect(s.port, '127.0.0.1')
  raw.end('GET /a HTTP/1.1\r\nHost: evil.example/<script>\r\nConnection: close\r\n\r\n')
  let text = ''
  for await (const chunk of raw) text += String(chunk)
  assert.match(text, new RegExp(`^HTTP/1.1 308[^]*\r\nLocation: https://127.0.0.1:${s.port}/a\r\n`))
})

test('TLS 1.2 at least, AEAD suites with ECDHE only', async (t) => {
  const s = await serve(t, 60_000)
  await assert.rejects(handshake(s.port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }))
  await assert.rejects(handshake(s.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA' }))
  const gcm = await handshake(s.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })
  assert.deepEqual([gcm.protocol, gcm.cipher], ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'])
  const chacha = await handshake(s.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' })
  assert.equal(chacha.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305')
})

test('slow clients are still cut over TLS: half a header, or nothing at all, within the header deadline', async (t) => {
  const s = await serve(t, 60_000, { headersTimeout: 1, requestTimeout: 2 })
  const started = Date.now()
  const socket = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, servername: 'localhost' })
  await once(socket, 'secureConnect')
  socket.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n')
  let text = ''
  socket.on('data', (d) => { text += String(d) })
  await once(socket, 'close')
  assert.match(text, /^HTTP\/1.1 408/)
  const silent = netConnect(s.port, '127.0.0.1')
  silent.on('error', () => {})
  await once(silent, 'close')
  assert.ok(Date.now() - started < 10_000, 'both cut well within a generous bound')
})

test('a renewed pair written to the files is served without a restart; a broken one is refused and the old one kept', async (t) => {
  const s = await serve(t, 100)
  const before = s.tls.info.fingerprint
  const renewed = await makeCertificate('127.0.0.1', Date.now())
  await writeFile(s.files.key, renewed.keyPem)
  await writeFile(s.files.cert, renewed.certPem)
  await until('the renewed certificate is served', async () => (await handshake(s.port)).fingerprint !== before)
  assert.equal((await handshake(s.port)).fingerprint, s.tls.info.fingerprint)
  const reloaded = s.events().filter((e) => e.event === 'tls.reloaded')
  assert.equal(reloaded.at(-1)?.previous, before)
  assert.equal(reloaded.at(-1)?.fingerprint, s.tls.info.fingerprint)
  assert.equal((await get(s.port, renewed.certPem, '/hello')).status, 200)

  const good = s.tls.info.fingerprint
  const other = await makeCertificate('127.0.0.1', Date.now())
  await writeFile(s.files.cert, other.certPem) // the key stays the previous one: a mismatched pair
  await until('the broken pair is refused', async () => s.events().some((e) => e.event === 'tls.reload.refused'))
  const refused = s.events().find((e) => e.event === 'tls.reload.refused')!
  assert.match(refused.error, /is not the private key of the certificate/)
  assert.equal(refused.keptFingerprint, good)
  assert.equal((await handshake(s.port)).fingerprint, good)
  assert.equal(s.tls.info.fingerprint, good)
})

test('SIGHUP reads the files again', async (t) => {
  const s = await serve(t, 3_600_000)
  const before = s.tls.info.fingerprint
  const renewed = await makeCertificate('127.0.0.1', Date.now())
  await writeFile(s.files.key, renewed.keyPem)
  await writeFile(s.files.cert, renewed.certPem)
  process.kill(process.pid, 'SIGHUP')
  await until('SIGHUP reloads', async () => (await handshake(s.port)).fingerprint !== before)
  assert.equal(s.events().find((e) => e.event === 'tls.reloaded')?.reason, 'SIGHUP')
})
