/**
 * When the node serves HTTPS (issue 19), from the settings: the auto rule (loopback stays plain
 * HTTP, any other address gets HTTPS, a given certificate turns it on), --tls on/off, and the
 * http.tls config with errors that name what is wrong.
 */
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError, loadSettings } from '../../../node/config/config.ts'
import { isLoopbackHost, tlsEnabled } from '../../../node/daemon/tls.ts'
import { tempDir } from '../node/helpers/temp.ts'

test('auto: plain HTTP on loopback, HTTPS on any other address; a certificate or --tls on turns it on, --tls off turns it off', () => {
  const table: Array<[string, { mode: 'auto' | 'on' | 'off', cert?: string, key?: string } | undefined, boolean]> = [
    ['127.0.0.1', undefined, false],
    ['127.0.0.2', { mode: 'auto' }, false],
    ['localhost', { mode: 'auto' }, false],
    ['::1', { mode: 'auto' }, false],
    ['0.0.0.0', undefined, true],
    ['::', { mode: 'auto' }, true],
    ['10.0.0.5', { mode: 'auto' }, true],
    ['pacs.clinic.example', { mode: 'auto' }, true],
    ['127.0.0.1', { mode: 'auto', cert: '/c.pem', key: '/k.pem' }, true],
    ['127.0.0.1', { mode: 'on' }, true],
    ['0.0.0.0', { mode: 'off' }, false]
  ]
  for (const [host, tls, expected] of table) {
    assert.equal(tlsEnabled({ host, ...(tls === undefined ? {} : { tls }) }), expected, `${host} ${JSON.stringify(tls)}`)
  }
  assert.equal(isLoopbackHost('[::1]'), true)
  assert.equal(isLoopbackHost('1270.0.0.1'), false)
  assert.equal(isLoopbackHost('127.example.org'), false)
})

test('defaults: mode auto, no files; the default address (loopback) keeps plain HTTP', async () => {
  const s = await loadSettings({ dataDir: 'd' })
  assert.deepEqual(s.http.tls, { mode: 'auto' })
  assert.equal(tlsEnabled(s.http), false)
  const lan = await loadSettings({ dataDir: 'd', http: '0.0.0.0:8443' })
  assert.equal(tlsEnabled(lan.http), true)
})

test('flags: --tls MODE, --tls-cert and --tls-key resolved from the working directory', async () => {
  const s = await loadSettings({ dataDir: 'd', tls: 'on', tlsCert: 'certs/c.pem', tlsKey: 'certs/k.pem' })
  assert.deepEqual(s.http.tls, { mode: 'on', cert: join(process.cwd(), 'certs/c.pem'), key: join(process.cwd(), 'certs/k.pem') })
  await assert.rejects(loadSettings({ dataDir: 'd', tls: 'yes' }), (e: unknown) => e instanceof ConfigError && /--tls: "yes" is not a TLS mode \(auto, on, off\)/.test(e.message))
})

test('config file: http.tls paths are relative to the config file; flags win over it', async (t) => {
  const dir = join(await tempDir(t, 'peerpacs-tls-config-'), 'etc')
  await mkdir(dir)
  const path = join(dir, 'config.json')
  await writeFile(path, JSON.stringify({ http: { listen: '0.0.0.0:8443', tls: { mode: 'auto', cert: 'tls/fullchain.pem', key: '/abs/privkey.pem' } } }))
  const s = await loadSettings({ dataDir: 'd', configFile: path })
  assert.deepEqual(s.http.tls, { mode: 'auto', cert: join(dir, 'tls/fullchain.pem'), key: '/abs/privkey.pem' })
  const flagged = await loadSettings({ dataDir: 'd', configFile: path, tls: 'on', tlsCert: '/x/c.pem', tlsKey: '/x/k.pem' })
  assert.deepEqual(flagged.http.tls, { mode: 'on', cert: '/x/c.pem', key: '/x/k.pem' })
})

test('a certificate without its key (or the other way round), a certificate with mode off, a wrong mode or key: errors that say what to do', async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-config-')
  const cases: Array<[unknown, RegExp]> = [
    [{ tls: { cert: 'c.pem' } }, /a TLS certificate was given \(.*c\.pem\) without its key/],
    [{ tls: { key: 'k.pem' } }, /a TLS key was given \(.*k\.pem\) without its certificate/],
    [{ tls: { mode: 'off', cert: 'c.pem', key: 'k.pem' } }, /TLS is off, but a certificate was given/],
    [{ tls: { mode: 'always' } }, /http\.tls\.mode: "always" is not a TLS mode/],
    [{ tls: { certificate: 'c.pem' } }, /http\.tls\.certificate: unknown key; known keys: mode, cert, key/],
    [{ tls: 'on' }, /http\.tls: must be an object/]
  ]
  for (const [i, [http, pattern]] of cases.entries()) {
    const path = join(dir, `config-${i}.json`)
    await writeFile(path, JSON.stringify({ http }))
    await assert.rejects(loadSettings({ dataDir: 'd', configFile: path }), (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && e.code === 'CONFIG', JSON.stringify(http))
  }
  await assert.rejects(loadSettings({ dataDir: 'd', tlsCert: 'c.pem' }), /without its key[^]*/)
  await assert.rejects(loadSettings({ dataDir: 'd', tls: 'off', tlsCert: 'c.pem', tlsKey: 'k.pem' }), /TLS is off, but a certificate was given/)
})
