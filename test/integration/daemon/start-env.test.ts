/**
 * Every switch of `peerpacs start` has an environment variable too (issue 20 item 7), and a
 * variable with a value that is neither on nor off is refused by name, not read as either.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { once } from 'node:events'
import { childEnv, runCli, show, spawnCli } from '../../helpers/cli.ts'
import { tempDir } from '../../helpers/files.ts'

const run = promisify(execFile)

test('PEERPACS_NO_MDNS, PEERPACS_ACCEPT_UNKNOWN_AE and PEERPACS_ORG_NAME act like their flags; an unclear value is refused', async (t) => {
  const data = join(await tempDir(t, 'peerpacs-start-env-'), 'data')
  const bad = await runCli(['start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0'], { PEERPACS_NO_MDNS: 'maybe' })
  assert.equal(bad.code, 2, show(bad))
  assert.match(bad.stderr, /\$PEERPACS_NO_MDNS is "maybe"; expected 1 or 0/)

  // Not startNode(): it always adds --no-mdns, and here the variable alone must turn it off.
  const child = spawnCli(['start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--p2p', '/ip4/127.0.0.1/tcp/0'], { PEERPACS_ACCEPT_UNKNOWN_AE: '1', PEERPACS_NO_MDNS: 'yes', PEERPACS_ORG_NAME: 'Clinic From The Environment' })
  const exited = once(child, 'exit')
  t.after(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  let stderr = ''
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      const line = stderr.split('\n').find((l) => l.includes('"event":"node.ready"'))
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, any>)
    })
    void exited.then(() => reject(new Error(stderr)))
  })
  assert.equal(ready.mdns, false, 'mDNS is off')
  assert.match(stderr, /"event":"dimse.accept_unknown"/, 'the allow-list is off, and the node says so')
  await run('echoscu', ['-aet', 'NOT_LISTED', '-aec', 'PEERPACS', '127.0.0.1', String(ready.dicomPort)], { env: childEnv() })
  child.kill('SIGTERM')
  assert.deepEqual(await exited, [0, null])
  const members = await runCli(['members', 'list', '--data', data])
  assert.match(members.stdout, /Clinic From The Environment/, 'the org was named from PEERPACS_ORG_NAME')
})
