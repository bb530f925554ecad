/**
 * The viewer's static files (node/daemon/viewer-static.ts) over hono's app.request, from a build
 * folder made here: content types, the Content-Security-Policy and other security headers on
 * every answer, ETag revalidation (304), gzip twins only for browsers that accept gzip and only
 * when as new as the file, names outside the build never served, a missing build answered 503
 * with what to do, and a rebuild while the node runs picked up. The routes are public in the
 * route table (signing in starts there).
 */
import assert from 'node:assert/strict'
import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { CONTENT_SECURITY_POLICY, viewerStatic } from '../../../../node/daemon/viewer-static.ts'
import { ruleFor } from '../../../../node/people/route-policy.ts'
import { tempDir } from '../../../helpers/files.ts'

const JS = 'export const answer = 42;\n'.repeat(200)

async function build (dir: string): Promise<void> {
  await mkdir(join(dir, 'assets', 'codecs'), { recursive: true })
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>peerpacs</title>')
  await writeFile(join(dir, 'assets', 'viewer.js'), JS)
  await writeFile(join(dir, 'assets', 'viewer.js.gz'), gzipSync(JS))
  await writeFile(join(dir, 'assets', 'styles.css'), 'body{}')
  await writeFile(join(dir, 'assets', 'codecs', 'charlswasm_decode.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
  await writeFile(join(dir, 'assets', 'notes.txt'), 'not a type the viewer serves')
  await writeFile(join(dir, 'assets', 'study-page-TIIR2BZW.js'), 'export {}')
}

test('files are served with their content type, the CSP and security headers, and no-cache with an ETag', async (t) => {
  const dist = await tempDir(t)
  await build(dist)
  const app = viewerStatic({ dist })
  const cases: Array<[string, string]> = [
    ['/', 'text/html; charset=utf-8'],
    ['/assets/viewer.js', 'text/javascript; charset=utf-8'],
    ['/assets/styles.css', 'text/css; charset=utf-8'],
    ['/assets/codecs/charlswasm_decode.wasm', 'application/wasm']
  ]
  for (const [path, type] of cases) {
    const r = await app.request(path)
    assert.equal(r.status, 200, path)
    assert.equal(r.headers.get('content-type'), type, path)
    assert.equal(r.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, path)
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(r.headers.get('x-frame-options'), 'DENY')
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer')
    assert.equal(r.headers.get('cache-control'), 'no-cache')
    assert.match(r.headers.get('etag') ?? '', /^"[0-9a-z]+-[0-9a-z]+"$/)
    await r.arrayBuffer()
  }
  assert.equal(await (await app.request('/')).text(), '<!doctype html><title>peerpacs</title>')
  // A chunk named by its content's hash never changes: cached for good.
  const chunk = await app.request('/assets/study-page-TIIR2BZW.js')
  assert.equal(chunk.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  assert.equal(chunk.headers.get('content-type'), 'text/javascript; charset=utf-8')
  // The policy: this origin only; WebAssembly may compile (the codecs) but JavaScript may not be eval'd or inlined.
  for (const part of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) assert.ok(CONTENT_SECURITY_POLICY.includes(part), part)
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /'unsafe-inline'|'unsafe-eval'|\*/)
})

test('a matching If-None-Match is answered 304; a rebuild changes the ETag and is served', async (t) => {
  const dist = await tempDir(t)
  await build(dist)
  const app = viewerStatic({ dist })
  const first = await app.request('/assets/styles.css')
  const etag = first.headers.get('etag')!
  await first.text()
  const again = await app.request('/assets/styles.css', { headers: { 'If-None-Match': etag } })
  assert.equal(again.status, 304)
  assert.equal(await again.text(), '')
  await writeFile(join(dist, 'assets', 'styles.css'), 'body{color:red}')
  await utimes(join(dist, 'assets', 'styles.css'), new Date(), new Date(Date.now() + 5000))
  const rebuilt = await app.request('/assets/styles.css', { headers: { 'If-None-Match': etag } })
  assert.equal(rebuilt.status, 200)
  assert.notEqual(rebuilt.headers.get('etag'), etag)
  assert.equal(await rebuilt.text(), 'body{color:red}')
  // A file the build adds later (a new chunk) is found without restarting.
  await writeFile(join(dist, 'assets', 'later.js'), 'export {}')
  assert.equal((await app.request('/assets/later.js')).status, 200)
})

test('the gzip twin goes only to a browser that accepts gzip, and only while it is as new as the file', async (t) => {
  const dist = await tempDir(t)
  await build(dist)
  const app = viewerStatic({ dist })
  const zipped = await app.request('/assets/viewer.js', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } })
  assert.equal(zipped.headers.get('content-encoding'), 'gzip')
  assert.equal(zipped.headers.get('vary'), 'Accept-Encoding')
  assert.equal(gunzipSync(new Uint8Array(await zipped.arrayBuffer())).toString(), JS)
  for (const accept of [undefined, 'br', 'gzip;q=0', 'identity']) {
    const plain = await app.request('/assets/viewer.js', accept === undefined ? {} : { headers: { 'Accept-Encoding': accept } })
    assert.equal(plain.headers.get('content-encoding'), null, String(accept))
    assert.equal(await plain.text(), JS, String(accept))
  }
  // The file rebuilt after its twin: the stale twin is not sent.
  await utimes(join(dist, 'assets', 'viewer.js'), new Date(), new Date(Date.now() + 60_000))
  const fresh = await app.request('/assets/viewer.js', { headers: { 'Accept-Encoding': 'gzip' } })
  assert.equal(fresh.headers.get('content-encoding'), null)
  assert.equal(await fresh.text(), JS)
})

test('only what the build wrote is served: other names, twins by name, other types and paths outside are 404', async (t) => {
  const dist = await tempDir(t)
  await build(dist)
  await writeFile(join(dist, '..', 'secret.js'), 'not for the web')
  const app = viewerStatic({ dist })
  for (const path of ['/assets/nothing.js', '/assets/viewer.js.gz', '/assets/notes.txt', '/assets/../index.html', '/assets/%2e%2e/%2e%2e/secret.js', '/assets/..%2f..%2fsecret.js', '/assets/codecs', '/assets/']) {
    const r = await app.request(path)
    assert.equal(r.status, 404, path)
    assert.doesNotMatch(await r.text(), /not for the web/)
  }
})

test('without a build, / says how to make one (503), and a build made later is served', async (t) => {
  const dist = await tempDir(t)
  const app = viewerStatic({ dist })
  const r = await app.request('/')
  assert.equal(r.status, 503)
  assert.match(await r.text(), /not built.*npm install/)
  await build(dist)
  assert.equal((await app.request('/')).status, 200)
})

test('the viewer files are public in the route table; other paths stay unlisted', () => {
  assert.equal(ruleFor('GET', '/')?.need, 'public')
  assert.equal(ruleFor('HEAD', '/')?.need, 'public')
  assert.equal(ruleFor('GET', '/assets/viewer.js')?.need, 'public')
  assert.equal(ruleFor('GET', '/assets/codecs/charlswasm_decode.wasm')?.need, 'public')
  assert.equal(ruleFor('POST', '/'), undefined)
  assert.equal(ruleFor('GET', '/index.html'), undefined)
  assert.equal(ruleFor('GET', '/assets'), undefined)
})
