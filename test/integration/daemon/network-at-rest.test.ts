/**
 * What arrives over the network lands encrypted: studies sent with dcmtk's storescu and with
 * STOW-RS to a running `peerpacs start` leave no patient name, patient ID, UID or pixel bytes
 * in clear anywhere under the data dir. Also: the CLI channel refuses malformed requests.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { childEnv, runCli, show } from '../../helpers/cli.ts'
import { controlPost } from '../../helpers/control.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { findNeedles, tempDir, type Needle } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'
import { KNOWN_PATIENTS, KNOWN_PIXEL_PATTERN } from '../../synthetic/study.ts'

const run = promisify(execFile)

test('studies received by C-STORE and STOW-RS are stored with nothing in clear', async (t) => {
  const root = await tempDir(t, 'peerpacs-net-at-rest-')
  const data = join(root, 'data')
  const viaDimse = await writeStudies(join(root, 'dimse'), [{ seed: 301, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 4, studyDescription: 'NET AT REST' }])
  const viaStow = await writeStudies(join(root, 'stow'), [{ seed: 302, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 3, studyDescription: 'NET AT REST' }])
  const node = await startNode(t, data, ['--allow-ae', 'STORESCU@127.0.0.1'])

  await run('storescu', ['-aet', 'STORESCU', '-aec', 'PEERPACS', '+sd', '+r', '127.0.0.1', String(node.dicomPort), viaDimse.dir], { env: childEnv({ TCP_NODELAY: '1' }) })

  const token = (await runCli(['token', 'create', '--name', 'stow', '--data', data, '--json'])).records[0]!.token as string
  const boundary = 'peerpacs-test-boundary'
  const parts: Uint8Array[] = []
  for (const i of viaStow.instances) {
    parts.push(utf8Encode(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), i.bytes, utf8Encode('\r\n'))
  }
  parts.push(utf8Encode(`--${boundary}--\r\n`))
  const stow = await fetch(`${node.url}/dicomweb/studies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
    body: Buffer.concat(parts)
  })
  assert.equal(stow.status, 200, await stow.clone().text())

  const studies = await runCli(['studies', '--data', data, '--json'])
  assert.equal(studies.code, 0, show(studies))
  const counts = studies.records.filter((r) => r.type === 'study').map((r) => r.instances as number).sort()
  assert.deepEqual(counts, [viaStow.instances.length, viaDimse.instances.length].sort())
  assert.equal(await node.stop('SIGTERM'), 0)

  const needles: Needle[] = []
  const text = (label: string, value: string): void => { needles.push({ label, bytes: utf8Encode(value) }) }
  for (const p of KNOWN_PATIENTS.slice(0, 2)) {
    text(`patient name ${p.name}`, p.name)
    text(`patient id ${p.id}`, p.id)
  }
  text('study description', 'NET AT REST')
  for (const i of [...viaDimse.instances, ...viaStow.instances]) {
    text('SOPInstanceUID', i.sopInstanceUid)
    text('StudyInstanceUID', i.studyInstanceUid)
  }
  needles.push({ label: 'known pixel pattern', bytes: KNOWN_PIXEL_PATTERN })
  assert.ok((await findNeedles(root, needles.slice(0, 1))).length > 0, 'the scan finds a needle in the source files')
  const hits = await findNeedles(data, needles)
  assert.deepEqual(hits, [], `plaintext found at rest:\n${hits.map((h) => `${h.file}: ${h.label}`).join('\n')}`)
  // The node's log and control file are part of the scan above; the log went to the test.
  assert.ok(!node.stderr().includes(KNOWN_PATIENTS[0]!.name))
})

test('the CLI channel refuses malformed requests and commands that cannot run inside a node', async (t) => {
  const root = await tempDir(t, 'peerpacs-cli-channel-')
  const data = join(root, 'data')
  const node = await startNode(t, data)
  const post = async (body: string): Promise<Response> => await controlPost(join(data, 'control.sock'), body)
  assert.equal((await post('{not json')).status, 400)
  assert.equal((await post(JSON.stringify({ command: 'rm', argv: [] }))).status, 400)
  assert.equal((await post(JSON.stringify({ command: 'studies', argv: 'x' }))).status, 400)
  assert.equal((await post(JSON.stringify({ command: 'studies', argv: [1] }))).status, 400)
  assert.equal((await post(JSON.stringify({ command: 'init', argv: [] }))).status, 409)
  assert.equal((await post(JSON.stringify({ command: 'start', argv: [] }))).status, 409)
  const usage = await post(JSON.stringify({ command: 'studies', argv: ['--bogus'] }))
  assert.equal(usage.status, 200)
  const events = (await usage.text()).trim().split('\n').map((l) => JSON.parse(l) as { exit?: number, text?: string })
  assert.equal(events.at(-1)!.exit, 2)
  assert.ok(events.some((e) => e.text?.includes('--bogus')))
  const ok = await runCli(['studies', '--data', data])
  assert.equal(ok.code, 0, 'the node still answers')
})
