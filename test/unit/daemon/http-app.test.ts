/**
 * The HTTP front (node/daemon/http.ts), in process: bearer auth before every route, the control
 * token alone opens the CLI channel, and CORS answers a browser viewer's preflight from a
 * configured origin only.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Hono } from 'hono'
import { createHttpApp } from '../../../node/daemon/http.ts'
import { silentLogger } from '../../../node/logging/logger.ts'
import { TokenStore } from '../../../node/daemon/tokens.ts'
import { provider, random } from '../../../node/runtime.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'

async function app (corsOrigins: string[]): Promise<{ app: Hono, token: string }> {
  const tokens = new TokenStore(new MemoryKvStore(), provider, random)
  const { token } = await tokens.create('viewer')
  const dicomweb = new Hono()
  dicomweb.get('/studies', (c) => c.json([]))
  const api = new Hono()
  api.get('/status', (c) => c.json({ ok: true }))
  const control = new Hono()
  control.post('/run', (c) => c.json({ ran: true }))
  return {
    app: createHttpApp({ settings: { host: '127.0.0.1', port: 0, corsOrigins, maxStowBytes: 1 << 20 }, tokens, controlToken: 'ppc_secret', log: silentLogger, mounts: { '/dicomweb': dicomweb }, api, control }),
    token
  }
}

test('no route answers without a valid bearer token', async () => {
  const { app: a, token } = await app([])
  for (const path of ['/dicomweb/studies', '/api/status', '/nowhere', '/']) {
    const r = await a.request(path)
    assert.equal(r.status, 401, path)
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="peerpacs"')
  }
  assert.equal((await a.request('/dicomweb/studies', { headers: { authorization: `Bearer ${token}` } })).status, 200)
  assert.equal((await a.request('/dicomweb/studies', { headers: { authorization: 'Bearer ppc_secret' } })).status, 200)
  assert.equal((await a.request('/nowhere', { headers: { authorization: `Bearer ${token}` } })).status, 404)
})

test('the CLI channel needs the control token (and loopback)', async () => {
  const { app: a, token } = await app([])
  const post = (bearer: string, remoteAddress: string): Promise<Response> => Promise.resolve(a.request('/api/cli/run', { method: 'POST', headers: { authorization: `Bearer ${bearer}` } }, { incoming: { socket: { remoteAddress, localAddress: '10.0.0.1' } } }))
  assert.equal((await post(token, '127.0.0.1')).status, 403)
  assert.equal((await post('ppc_secret', '10.0.0.9')).status, 403)
  assert.equal((await post('ppc_secret', '127.0.0.1')).status, 200)
  assert.equal((await post('ppc_secret', '10.0.0.1')).status, 200, 'this machine on its own LAN address')
})

test('CORS: a configured origin gets its preflight and headers; another origin does not', async () => {
  const { app: a, token } = await app(['https://viewer.example.org'])
  const preflight = await a.request('/dicomweb/studies', { method: 'OPTIONS', headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://viewer.example.org')
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/i)
  const get = await a.request('/dicomweb/studies', { headers: { origin: 'https://viewer.example.org', authorization: `Bearer ${token}` } })
  assert.equal(get.headers.get('access-control-allow-origin'), 'https://viewer.example.org')
  const other = await a.request('/dicomweb/studies', { headers: { origin: 'https://evil.example.com', authorization: `Bearer ${token}` } })
  assert.equal(other.headers.get('access-control-allow-origin'), null)
  const { app: off } = await app([])
  const none = await off.request('/dicomweb/studies', { method: 'OPTIONS', headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'GET' } })
  assert.equal(none.headers.get('access-control-allow-origin'), null)
  assert.equal(none.status, 401)
})
