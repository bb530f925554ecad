/**
 * `peerpacs start` as a process: a fresh data dir initialises itself; a second start is refused;
 * every data-dir command works through the running node and again once it stopped; tokens guard
 * every HTTP route; SIGTERM stops it cleanly; its logs never carry patient data.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { runCli, show } from '../../helpers/cli.ts'
import { mixedStudies, writeStudies, type WrittenSet } from '../../helpers/dataset.ts'
import { listFiles, suiteDir } from '../../helpers/files.ts'
import { startNode, type NodeProcess } from '../../helpers/node-process.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const run = promisify(execFile)

describe('peerpacs start', () => {
  let root: { path: string, remove: () => Promise<void> }
  let data: string
  let set: WrittenSet
  let node: NodeProcess
  let token: string
  // node:test does not take after() registered from inside a hook; the suite's after() stops the node.
  const t = { after: () => {} }

  before(async () => {
    root = await suiteDir('peerpacs-start-')
    data = join(root.path, 'data')
    set = await writeStudies(join(root.path, 'in'), mixedStudies(21))
    node = await startNode(t, data)
  })
  after(async () => { await node?.stop('SIGKILL'); await root?.remove() })

  test('a fresh data dir is initialised by start, and the recovery key is shown once', async () => {
    assert.match(node.stdout(), /RECOVERY KEY/)
    assert.ok(existsSync(join(data, 'peerpacs.json')))
    const control = JSON.parse(await readFile(join(data, 'control.json'), 'utf8')) as { pid: number }
    assert.equal(control.pid, node.pid)
  })

  test('a second start on the same data dir is refused, naming the running node', async () => {
    const second = await runCli(['start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0'])
    assert.equal(second.code, 3, show(second))
    assert.match(second.stderr, new RegExp(`in use by another peerpacs process \\(pid ${node.pid}, \`peerpacs start\``))
  })

  test('import, studies and token work through the running node', async () => {
    const imported = await runCli(['import', '--data', data, '--json', set.dir])
    assert.equal(imported.code, 0, show(imported))
    const summary = imported.records.find((r) => r.type === 'summary')
    assert.equal(summary?.imported, set.instances.length)
    const studies = await runCli(['studies', '--data', data, '--json'])
    assert.equal(studies.code, 0, show(studies))
    assert.equal(studies.records.filter((r) => r.type === 'study').length, set.studies.size)
    const created = await runCli(['token', 'create', '--name', 'test-viewer', '--data', data, '--json'])
    assert.equal(created.code, 0, show(created))
    token = created.records[0]!.token as string
    assert.match(token, /^ppt_/)
    const status = await fetch(`${node.url}/api/status`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(status.status, 200)
    assert.equal((await status.json() as { instances: number }).instances, set.instances.length)
  })

  test('the node answers DICOM: echoscu succeeds against its AE', async () => {
    const { stderr } = await run('echoscu', ['-aec', 'PEERPACS', '-aet', 'TESTSCU', '127.0.0.1', String(node.dicomPort)]).catch((e: { stderr: string }) => ({ stderr: e.stderr }))
    assert.doesNotMatch(stderr, /E:/)
  })

  test('every HTTP route refuses a missing, wrong or revoked token with 401', async () => {
    const routes = ['/dicomweb/studies', '/dicomweb/series', '/dicomweb/instances', `/dicomweb/studies/${set.instances[0]!.studyInstanceUid}`,
      `/dicomweb/studies/${set.instances[0]!.studyInstanceUid}/metadata`, '/wado?requestType=WADO', '/api/status', '/api/cli/run', '/nonexistent', '/']
    for (const route of routes) {
      for (const headers of [{}, { authorization: 'Bearer ppt_0000000000000000_' + '0'.repeat(64) }, { authorization: 'Basic abc' }, { authorization: `Bearer ${token}x` }]) {
        // The viewer's page is public (sign-in starts there); a bad bearer is refused even there.
        if (route === '/' && Object.keys(headers).length === 0) continue
        const response = await fetch(node.url + route, { headers })
        assert.equal(response.status, 401, `${route} ${JSON.stringify(headers)}`)
        assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/)
      }
    }
    const page = await fetch(node.url + '/')
    assert.ok(page.status === 200 || page.status === 503, `the viewer's page is public (200, or 503 when the viewer is not built): ${page.status}`)
    assert.match(page.headers.get('content-type') ?? '', page.status === 200 ? /text\/html/ : /./)
    const post = await fetch(`${node.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=x' }, body: '--x--' })
    assert.equal(post.status, 401)
    const ok = await fetch(`${node.url}/dicomweb/studies`, { headers: { authorization: `Bearer ${token}`, accept: 'application/dicom+json' } })
    assert.equal(ok.status, 200)
    const revoked = await runCli(['token', 'revoke', 'test-viewer', '--data', data])
    assert.equal(revoked.code, 0, show(revoked))
    const after = await fetch(`${node.url}/dicomweb/studies`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(after.status, 401)
  })

  test('an API token cannot use the CLI channel', async () => {
    const created = await runCli(['token', 'create', '--name', 'second', '--data', data, '--json'])
    const apiToken = created.records[0]!.token as string
    const response = await fetch(`${node.url}/api/cli/run`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'studies', argv: [] }) })
    assert.equal(response.status, 403)
  })

  test('fsck through the running node is clean', async () => {
    const fsck = await runCli(['fsck', '--data', data])
    assert.equal(fsck.code, 0, show(fsck))
  })

  test('SIGTERM stops the node cleanly; commands then open the data dir themselves', async () => {
    const code = await node.stop('SIGTERM')
    assert.equal(code, 0, node.stderr())
    const events = node.logs().map((r) => r.event)
    assert.ok(events.includes('node.stopping') && events.includes('node.stopped'), events.join(' '))
    assert.ok(!existsSync(join(data, 'control.json')))
    const studies = await runCli(['studies', '--data', data, '--json'])
    assert.equal(studies.code, 0, show(studies))
    assert.equal(studies.records.filter((r) => r.type === 'study').length, set.studies.size)
    const exportDir = join(root.path, 'out')
    const exported = await runCli(['export', '--data', data, set.instances[0]!.studyInstanceUid, exportDir])
    assert.equal(exported.code, 0, show(exported))
    assert.ok((await listFiles(exportDir)).length > 0)
  })

  test('the logs carry no patient names, patient IDs or UIDs', () => {
    const logs = node.stderr()
    assert.ok(logs.length > 0)
    for (const p of KNOWN_PATIENTS) {
      assert.ok(!logs.includes(p.name) && !logs.includes(p.name.split('^')[0]!), `patient name ${p.name} in logs`)
      assert.ok(!logs.includes(p.id), `patient id in logs`)
    }
    for (const i of set.instances) {
      assert.ok(!logs.includes(i.sopInstanceUid) && !logs.includes(i.studyInstanceUid) && !logs.includes(i.seriesInstanceUid), 'a UID in logs')
    }
  })
})

describe('peerpacs start: bad configuration', () => {
  test('a bad config file stops start with a message naming the key; nothing is created', async (t) => {
    const root = await suiteDir('peerpacs-start-config-')
    t.after(async () => { await root.remove() })
    const config = join(root.path, 'config.json')
    await writeFile(config, JSON.stringify({ dicom: { remotes: [{ aeTitle: 'CT', host: '10.0.0.1', port: 'x' }] } }))
    const r = await runCli(['start', '--data', join(root.path, 'data'), '--config', config])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /dicom\.remotes\[0\]\.port: must be a whole number/)
    assert.ok(!existsSync(join(root.path, 'data')))
    const flag = await runCli(['start', '--data', join(root.path, 'data'), '--dicom', 'localhost'])
    assert.equal(flag.code, 2, show(flag))
    assert.match(flag.stderr, /--dicom: "localhost" is not HOST:PORT/)
  })

  test('start --help documents every setting', async () => {
    const r = await runCli(['start', '--help'])
    assert.equal(r.code, 0)
    for (const word of ['--dicom', '--http', '--ae-title', '--allow-ae', '--cors', '--config', 'PEERPACS_DICOM', 'remotes', 'token create']) assert.ok(r.stdout.includes(word), word)
  })
})
