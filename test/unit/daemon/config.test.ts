/**
 * Node settings (node/config/config.ts): defaults, precedence (file < env/flags), and for each
 * kind of mistake an error that names the key and the file.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadSettings, parseAllowList } from '../../../node/config/config.ts'
import { tempDir } from '../node/helpers/temp.ts'

async function configFile (t: Parameters<typeof tempDir>[0], content: unknown): Promise<string> {
  const dir = await tempDir(t, 'peerpacs-config-')
  const path = join(dir, 'config.json')
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

test('defaults: loopback listeners, AE PEERPACS, no remotes, CORS off', async () => {
  const s = await loadSettings({ dataDir: 'd' })
  assert.deepEqual([s.dimse.host, s.dimse.port, s.dimse.aeTitle, s.http.host, s.http.port], ['127.0.0.1', 11112, 'PEERPACS', '127.0.0.1', 8080])
  assert.deepEqual(s.dimse.remotes, [])
  assert.equal(s.dimse.acceptUnknown, false)
  assert.deepEqual(s.http.corsOrigins, [])
  assert.equal(s.logLevel, 'info')
})

test('a config file is read, and flags override it', async (t) => {
  const path = await configFile(t, {
    dicom: { listen: '0.0.0.0:104', aeTitle: 'SITE_A', remotes: [{ aeTitle: 'CT1', host: '10.0.0.5', store: true, query: false, retrieve: false }, { aeTitle: 'WS', host: '*', port: 11113 }] },
    http: { listen: '127.0.0.1:9000', cors: ['https://viewer.example.org'], maxStowBytes: 1048576 },
    logLevel: 'warn'
  })
  const s = await loadSettings({ dataDir: 'd', configFile: path })
  assert.equal(s.dimse.port, 104)
  assert.equal(s.dimse.aeTitle, 'SITE_A')
  assert.deepEqual(s.dimse.remotes[0], { aeTitle: 'CT1', host: '10.0.0.5', store: true, query: false, retrieve: false })
  assert.deepEqual(s.dimse.remotes[1], { aeTitle: 'WS', host: '*', port: 11113, store: true, query: true, retrieve: true })
  assert.deepEqual(s.http.corsOrigins, ['https://viewer.example.org'])
  assert.equal(s.http.maxStowBytes, 1048576)
  const o = await loadSettings({ dataDir: 'd', configFile: path, dicom: '127.0.0.1:0', aeTitle: 'OTHER', allowAe: 'MOD@127.0.0.1', logLevel: 'debug' })
  assert.deepEqual([o.dimse.port, o.dimse.aeTitle, o.logLevel], [0, 'OTHER', 'debug'])
  assert.equal(o.dimse.remotes.length, 3)
})

test('each mistake is named with its key and file', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['{ not json', /not valid JSON/],
    [[], /must be an object/],
    [{ dicom: { aetitle: 'X' } }, /dicom\.aetitle: unknown key \(did you mean "aeTitle"\?\)/],
    [{ dicom: { listen: 'localhost' } }, /dicom\.listen: "localhost" is not HOST:PORT/],
    [{ dicom: { listen: '127.0.0.1:70000' } }, /out of range/],
    [{ dicom: { aeTitle: 'WAY_TOO_LONG_AE_TITLE' } }, /not a valid AE title/],
    [{ dicom: { remotes: [{ aeTitle: 'A', host: '10.0.0.1', port: 0 }] } }, /dicom\.remotes\[0\]\.port: must be a whole number from 1 to 65535/],
    [{ dicom: { remotes: [{ aeTitle: 'A' }] } }, /dicom\.remotes\[0\]\.host: must be a non-empty string/],
    [{ dicom: { remotes: { aeTitle: 'A' } } }, /dicom\.remotes: must be a list/],
    [{ http: { cors: ['https://x.org/path'] } }, /not an origin/],
    [{ http: { maxStowBytes: -1 } }, /http\.maxStowBytes/],
    [{ logLevel: 'loud' }, /not a log level/],
    [{ dicom: { remotes: [{ aeTitle: 'A', host: 'ct.example.org' }] } }, /dicom\.remotes\[0\]\.host: "ct\.example\.org" must be an IP address/],
    [{ extra: 1 }, /extra: unknown key/]
  ]
  for (const [content, pattern] of cases) {
    const path = await configFile(t, content)
    await assert.rejects(loadSettings({ dataDir: 'd', configFile: path }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CONFIG')
      assert.match(error.message, pattern)
      return true
    }, JSON.stringify(content))
  }
  await assert.rejects(loadSettings({ dataDir: 'd', configFile: '/nonexistent/peerpacs.json' }), /cannot read config file .*ENOENT/)
  await assert.rejects(loadSettings({ dataDir: 'd', dicom: 'nope' }), /--dicom: "nope" is not HOST:PORT/)
})

test('--allow-ae entries: AET@HOST[:PORT], full rights', () => {
  assert.deepEqual(parseAllowList('CT@10.0.0.1, WS@*:104', '--allow-ae'), [
    { aeTitle: 'CT', host: '10.0.0.1', store: true, query: true, retrieve: true },
    { aeTitle: 'WS', host: '*', port: 104, store: true, query: true, retrieve: true }
  ])
  assert.throws(() => parseAllowList('CT', '--allow-ae'), /not AET@HOST/)
  assert.throws(() => parseAllowList('A\\B@127.0.0.1', '--allow-ae'), /not a valid AE title/)
})
