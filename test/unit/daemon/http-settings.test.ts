/**
 * The HTTP server's limits in the node settings (issue 12 item 3): defaults, the config file's
 * http.headersTimeout / requestTimeout / idleTimeout / keepAliveTimeout / maxConnectionsPerAddress,
 * and errors that name the key.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULTS, loadSettings } from '../../../node/config/config.ts'
import { httpLimits } from '../../../node/daemon/http-limits.ts'
import { tempDir } from '../node/helpers/temp.ts'

async function configFile (t: Parameters<typeof tempDir>[0], content: unknown): Promise<string> {
  const path = join(await tempDir(t, 'peerpacs-http-config-'), 'config.json')
  await writeFile(path, JSON.stringify(content))
  return path
}

test('defaults: headers within 20 s, a request within an hour, 60 s idle, 64 connections per address', async () => {
  const s = await loadSettings({ dataDir: 'd' })
  assert.deepEqual(
    [s.http.headersTimeout, s.http.requestTimeout, s.http.idleTimeout, s.http.keepAliveTimeout, s.http.maxConnectionsPerAddress],
    [DEFAULTS.httpHeadersTimeout, DEFAULTS.httpRequestTimeout, DEFAULTS.httpIdleTimeout, DEFAULTS.httpKeepAliveTimeout, DEFAULTS.httpMaxConnectionsPerAddress])
  assert.deepEqual([DEFAULTS.httpHeadersTimeout, DEFAULTS.httpRequestTimeout, DEFAULTS.httpIdleTimeout, DEFAULTS.httpMaxConnectionsPerAddress], [20, 3600, 60, 64])
  // Settings built by hand without the limits get the same defaults.
  assert.deepEqual(httpLimits({ host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: 1024 }), {
    headersTimeoutMs: 20_000, requestTimeoutMs: 3_600_000, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxConnectionsPerAddress: 64
  })
})

test('the config file sets each limit; requestTimeout 0 means none', async (t) => {
  const path = await configFile(t, { http: { headersTimeout: 5, requestTimeout: 0, idleTimeout: 15, keepAliveTimeout: 2, maxConnectionsPerAddress: 200 } })
  const s = await loadSettings({ dataDir: 'd', configFile: path })
  assert.deepEqual([s.http.headersTimeout, s.http.requestTimeout, s.http.idleTimeout, s.http.keepAliveTimeout, s.http.maxConnectionsPerAddress], [5, 0, 15, 2, 200])
})

test('a wrong limit is an error that names the key', async (t) => {
  for (const [http, pattern] of [
    [{ headersTimeout: 0 }, /http\.headersTimeout/],
    [{ idleTimeout: 'soon' }, /http\.idleTimeout/],
    [{ maxConnectionsPerAddress: 0 }, /http\.maxConnectionsPerAddress/],
    [{ headersTimeout: 30, requestTimeout: 10 }, /headersTimeout \(30 s\) is longer than http\.requestTimeout \(10 s\)/],
    [{ slowTimeout: 1 }, /slowTimeout/]
  ] as const) {
    await assert.rejects(loadSettings({ dataDir: 'd', configFile: await configFile(t, { http }) }), pattern, JSON.stringify(http))
  }
})
