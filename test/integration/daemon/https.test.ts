/**
 * HTTPS served by `peerpacs start` itself (issue 19), as separate processes over real sockets:
 *   - bound to every interface (not loopback), a node serves HTTPS by default with a certificate
 *     it made; the fingerprint it reports (log, start's output, control.json, `peerpacs status`,
 *     GET /api/status) is the one a TLS client sees; curl trusts it with --cacert; HSTS; plain
 *     HTTP on the port only redirects; the session cookie carries Secure;
 *   - with --tls-cert/--tls-key that pair is served, a renewed pair written to the files is served
 *     without a restart and a broken one is refused (logged) while the old one goes on;
 *   - a malformed certificate or key is a config error naming the file: exit 2, nothing listens.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { makeCertificate } from '../../../node/daemon/tls-generate.ts'
import { runCli, show, spawnCli } from '../../helpers/cli.ts'
import { tempDir } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'

const run = promisify(execFile)
const PASSWORD = 'quartz lantern meadow 41'

async function peerFingerprint (port: number): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
  try {
    await once(socket, 'secureConnect')
    return socket.getPeerCertificate().fingerprint256
  } finally { socket.destroy() }
}

/** An HTTPS request trusting only `ca` (the node's certificate). */
async function https (port: number, ca: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number, headers: IncomingMessage['headers'], body: string }> {
  const req = httpsRequest({ host: '127.0.0.1', port, method, path, ca, headers, agent: false })
  req.end(body)
  const [res] = await once(req, 'response') as [IncomingMessage]
  let text = ''
  for await (const chunk of res) text += String(chunk)
  return { status: res.statusCode!, headers: res.headers, body: text }
}

async function until (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

test('on a non-loopback bind: HTTPS by default with a generated certificate, its fingerprint reported everywhere, HSTS, plain HTTP redirected, Secure cookie', async (t) => {
  const data = join(await tempDir(t, 'peerpacs-https-'), 'data')
  const node = await startNode(t, data, ['--http', '0.0.0.0:0'])
  const ready = node.logs().find((e) => e.event === 'node.ready')!
  assert.equal(ready.httpScheme, 'https')
  assert.equal(node.url, `https://127.0.0.1:${node.httpPort}`)
  const listening = node.logs().find((e) => e.event === 'http.listening')!
  assert.deepEqual([listening.scheme, listening.certificate, listening.host], ['https', 'generated', '0.0.0.0'])
  const fingerprint = listening.fingerprint as string
  assert.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)

  // The client sees the certificate the node reports, in each place it reports it.
  assert.equal(await peerFingerprint(node.httpPort), fingerprint)
  assert.match(node.stdout(), new RegExp(`HTTP https://0\\.0\\.0\\.0:${node.httpPort}/dicomweb[^]*SHA-256 fingerprint ${fingerprint}`))
  const control = JSON.parse(await readFile(join(data, 'control.json'), 'utf8')) as { url: string, tls: { fingerprint: string, certFile: string } }
  assert.equal(control.url, `https://127.0.0.1:${node.httpPort}`)
  assert.deepEqual(control.tls, { fingerprint, certFile: join(data, 'keys', 'tls-cert.pem') })
  const status = await runCli(['status', '--data', data, '--json'])
  assert.equal(status.code, 0, show(status))
  const record = status.records.find((r) => r.type === 'status')!
  assert.equal(record.http.scheme, 'https')
  assert.deepEqual([record.http.tls.fingerprint, record.http.tls.source], [fingerprint, 'generated'])
  const human = await runCli(['status', '--data', data])
  assert.match(human.stdout, new RegExp(`HTTPS on port ${node.httpPort}: certificate SHA-256 ${fingerprint}, self-signed`))

  const ca = await readFile(control.tls.certFile, 'utf8')
  const created = await runCli(['token', 'create', '--name', 'https-test', '--data', data, '--json'])
  assert.equal(created.code, 0, show(created))
  const token = created.records[0]!.token as string
  const api = await https(node.httpPort, ca, 'GET', '/api/status', { authorization: `Bearer ${token}` })
  assert.equal(api.status, 200, api.body)
  assert.equal(api.headers['strict-transport-security'], 'max-age=31536000')
  const apiStatus = JSON.parse(api.body) as { http: { scheme: string, tls: { fingerprint: string, subject: string, notAfter: string, source: string } } }
  assert.equal(apiStatus.http.scheme, 'https')
  assert.equal(apiStatus.http.tls.fingerprint, fingerprint)
  assert.equal(apiStatus.http.tls.source, 'generated')
  assert.ok(Date.parse(apiStatus.http.tls.notAfter) > Date.now() + 800 * 86_400_000)

  // curl trusts it given the certificate (by 127.0.0.1 and by localhost: both in its names).
  for (const host of ['127.0.0.1', 'localhost']) {
    const { stdout } = await run('curl', ['-sS', '--cacert', control.tls.certFile, '-o', '/dev/null', '-w', '%{http_code} %{ssl_verify_result}', '-H', `Authorization: Bearer ${token}`, `https://${host}:${node.httpPort}/api/status`])
    assert.equal(stdout, '200 0', host)
  }
  // Without it, curl refuses (the certificate is self-signed): nothing is trusted by accident.
  const untrusted = await run('curl', ['-sS', '-o', '/dev/null', `https://127.0.0.1:${node.httpPort}/api/status`]).then(() => 'accepted', (e: { code: number }) => e.code)
  assert.equal(untrusted, 60)

  // Plain HTTP to the same port: a redirect, nothing else (a password form or cookie never in clear).
  const plain = await fetch(`http://127.0.0.1:${node.httpPort}/api/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'tess', password: PASSWORD }) })
  assert.equal(plain.status, 308)
  assert.equal(plain.headers.get('location'), `https://127.0.0.1:${node.httpPort}/api/session`)
  assert.equal(plain.headers.get('set-cookie'), null)

  // A person signs in over HTTPS: the session cookie carries Secure.
  const passwordFile = join(data, '..', 'password.txt')
  await writeFile(passwordFile, PASSWORD + '\n', { mode: 0o600 })
  const added = await runCli(['users', 'add', 'tess', '--role', 'technologist', '--password-file', passwordFile, '--data', data])
  assert.equal(added.code, 0, show(added))
  const signIn = await https(node.httpPort, ca, 'POST', '/api/session', { 'content-type': 'application/json' }, JSON.stringify({ username: 'tess', password: PASSWORD }))
  assert.equal(signIn.status, 200, signIn.body)
  const cookie = (signIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('peerpacs_session='))
  assert.ok(cookie !== undefined, JSON.stringify(signIn.headers))
  assert.match(cookie!, /;\s*Secure(;|$)/i)
  assert.match(cookie!, /;\s*HttpOnly(;|$)/i)

  // The certificate is kept: a restart serves the same one.
  assert.equal(await node.stop(), 0)
  const again = await startNode(t, data, ['--http', '0.0.0.0:0'])
  assert.equal(again.logs().find((e) => e.event === 'http.listening')!.fingerprint, fingerprint)
  assert.equal(again.logs().some((e) => e.event === 'tls.certificate.generated'), false)
  assert.equal(await peerFingerprint(again.httpPort), fingerprint)
  assert.equal(await again.stop(), 0)
})

test('--tls-cert/--tls-key: that pair is served; a renewed pair is served without a restart, a broken one refused and the old kept', async (t) => {
  const dir = await tempDir(t, 'peerpacs-https-files-')
  const files = { cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem') }
  const first = await makeCertificate('127.0.0.1', Date.now())
  await writeFile(files.cert, first.certPem)
  await writeFile(files.key, first.keyPem, { mode: 0o600 })
  const firstFingerprint = new X509Certificate(first.certPem).fingerprint256
  // On loopback a given pair turns HTTPS on (auto).
  const node = await startNode(t, join(dir, 'data'), ['--tls-cert', files.cert, '--tls-key', files.key])
  const listening = node.logs().find((e) => e.event === 'http.listening')!
  assert.deepEqual([listening.scheme, listening.certificate, listening.certFile, listening.fingerprint], ['https', 'files', files.cert, firstFingerprint])
  assert.equal(await peerFingerprint(node.httpPort), firstFingerprint)
  assert.equal((await https(node.httpPort, first.certPem, 'GET', '/api/status')).status, 401)

  const renewed = await makeCertificate('127.0.0.1', Date.now())
  await writeFile(files.key, renewed.keyPem)
  await writeFile(files.cert, renewed.certPem)
  await until('the renewed pair is served', async () => (await peerFingerprint(node.httpPort)) !== firstFingerprint)
  const renewedFingerprint = await peerFingerprint(node.httpPort)
  assert.equal(node.logs().find((e) => e.event === 'tls.reloaded')?.fingerprint, renewedFingerprint)
  assert.equal((await https(node.httpPort, renewed.certPem, 'GET', '/api/status')).status, 401)
  const status = await runCli(['status', '--data', join(dir, 'data'), '--json'])
  assert.equal(status.records.find((r) => r.type === 'status')!.http.tls.fingerprint, renewedFingerprint)

  await writeFile(files.cert, 'a certificate cut short by a full disk\n')
  await until('the broken pair is refused', () => node.logs().some((e) => e.event === 'tls.reload.refused'))
  assert.match(node.logs().find((e) => e.event === 'tls.reload.refused')!.error as string, /holds no PEM certificate/)
  assert.equal(await peerFingerprint(node.httpPort), renewedFingerprint)
  assert.equal(await node.stop(), 0)
})

test('a malformed certificate or key: a config error naming the file, exit 2, nothing initialised nor started', async (t) => {
  const dir = await tempDir(t, 'peerpacs-https-bad-')
  const good = await makeCertificate('127.0.0.1', Date.now())
  const other = await makeCertificate('127.0.0.1', Date.now())
  const cases: Array<[string, string, RegExp]> = [
    ['not a certificate\n', good.keyPem, /fullchain\.pem holds no PEM certificate/],
    [good.certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /privkey\.pem: no private key can be read from it/],
    [good.certPem, other.keyPem, /privkey\.pem is not the private key of the certificate in .*fullchain\.pem/]
  ]
  for (const [i, [cert, key, pattern]] of cases.entries()) {
    const files = { cert: join(dir, `${i}-fullchain.pem`), key: join(dir, `${i}-privkey.pem`) }
    await writeFile(files.cert, cert)
    await writeFile(files.key, key)
    const data = join(dir, `data-${i}`)
    const child = spawnCli(['start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--p2p', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--tls-cert', files.cert, '--tls-key', files.key])
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.stdout!.resume()
    const [code] = await once(child, 'exit') as [number | null]
    assert.equal(code, 2, stderr)
    assert.match(stderr, pattern)
    assert.doesNotMatch(stderr, /"event":"(http\.listening|dimse\.listening|node\.ready)"/)
    assert.equal(existsSync(join(data, 'control.json')), false)
    assert.equal(existsSync(join(data, 'peerpacs.json')), false, 'checked before a fresh data dir is initialised')
  }
})
