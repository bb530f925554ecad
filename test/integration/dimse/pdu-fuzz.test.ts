/**
 * Malformed-PDU fuzzing of a real `peerpacs start` node (issue 12, item 1): a few thousand seeded
 * mutations of valid association requests and P-DATA-TF streams (echo, find, store), from an
 * allowed AE, several connections at a time. Afterwards the process is still running, answers
 * echoscu and a storescu, the study imported before the storm exports byte-identical, and fsck
 * finds nothing wrong. The seed is printed; PEERPACS_FUZZ_SEED and PEERPACS_FUZZ_CASES replay
 * or lengthen a run.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import { childEnv, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { listFiles, tempDir } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'
import { fuzzBases, mutate, type FuzzCase } from '../../helpers/pdu-fuzz.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import { Prng } from '../../synthetic/prng.ts'

const run = promisify(execFile)
const SEED = Number(process.env.PEERPACS_FUZZ_SEED ?? Date.now() % 1_000_000)
const CASES = Number(process.env.PEERPACS_FUZZ_CASES ?? 3000)
const PARALLEL = 8

/** Sends one case: each read written as its own chunk, then our side closes; resolves when the connection is gone. */
async function send (port: number, c: FuzzCase): Promise<{ replied: number }> {
  return await new Promise((resolve) => {
    let replied = 0
    const socket = connect(port, '127.0.0.1', () => {
      for (const chunk of c.chunks) socket.write(chunk)
      socket.end()
    })
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => { replied += d.length })
    socket.on('error', () => {})
    const timer = setTimeout(() => { socket.destroy() }, 2000)
    socket.on('close', () => { clearTimeout(timer); resolve({ replied }) })
  })
}

test(`malformed PDUs (seed ${SEED}, ${CASES} cases) never take the node down nor touch stored data`, { timeout: 180_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (replay: PEERPACS_FUZZ_SEED=${SEED})`)
  console.log(`pdu-fuzz seed ${SEED}`)
  const root = await tempDir(t, 'peerpacs-fuzz-')
  const data = join(root, 'data')
  const kept = await writeStudies(join(root, 'kept'), [{ seed: 501, profile: 'ct', slices: 2 }])
  const later = await writeStudies(join(root, 'later'), [{ seed: 502, profile: 'ct', slices: 1 }])
  const node = await startNode(t, data, ['--allow-ae', 'FUZZSCU@127.0.0.1,STORESCU@127.0.0.1,ECHOSCU@127.0.0.1'])
  const imported = await runCli(['import', '--data', data, '--json', kept.dir])
  assert.equal(imported.code, 0, show(imported))

  const mr = syntheticStudy({ seed: 503 }).find((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.1' && i.modality === 'MR')!
  const meta = parseFileMeta(mr.bytes, mr.bytes.length)!
  const bases = fuzzBases('FUZZSCU', 'PEERPACS', { sopClassUid: mr.sopClassUid, sopInstanceUid: mr.sopInstanceUid, dataset: mr.bytes.subarray(meta.metaEnd) })
  const prng = new Prng(SEED)
  const cases = Array.from({ length: CASES }, () => mutate(prng, bases, 'FUZZSCU', 'PEERPACS'))
  const started = Date.now()
  let next = 0
  let answered = 0
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < cases.length) {
      const c = cases[next++]!
      const { replied } = await send(node.dicomPort, c)
      if (replied > 0) answered++
      const exit = await Promise.race([node.exited, Promise.resolve(undefined)])
      assert.equal(exit, undefined, `the node exited during case ${next} (${c.name}), seed ${SEED}:\n${node.stderr().slice(-3000)}`)
    }
  }))
  const seconds = (Date.now() - started) / 1000
  t.diagnostic(`${CASES} cases in ${seconds.toFixed(1)} s (${Math.round(CASES / seconds)}/s); ${answered} got a reply before the close`)
  const protocolErrors = node.logs().filter((r) => r.event === 'dimse.association.protocol-error').length
  const events = new Map<string, number>()
  for (const r of node.logs()) if (r.level === 'warn' || r.level === 'error') events.set(r.event as string, (events.get(r.event as string) ?? 0) + 1)
  t.diagnostic(`${protocolErrors} answered as protocol errors (A-ABORT / A-ASSOCIATE-RJ); warnings and errors: ${JSON.stringify(Object.fromEntries(events))}`)
  for (const r of node.logs().filter((x) => x.event === 'dimse.association.handler-failed')) t.diagnostic(`handler failure (contained): ${r.where as string}: ${r.error as string}`)
  assert.ok(protocolErrors > CASES / 10, 'the mutations did reach the guard')
  assert.deepEqual(node.logs().filter((r) => r.level === 'error' && r.event !== 'dimse.association.handler-failed').map((r) => r.event), [], 'nothing unexpected went wrong')

  // Still serving: C-ECHO, and a C-STORE of a study.
  const echo = await run('echoscu', ['-aet', 'ECHOSCU', '-aec', 'PEERPACS', '127.0.0.1', String(node.dicomPort)]).then(() => 0, (e: { code?: number }) => e.code ?? 1)
  assert.equal(echo, 0, 'echoscu')
  await run('storescu', ['-aet', 'STORESCU', '-aec', 'PEERPACS', '+sd', '+r', '127.0.0.1', String(node.dicomPort), later.dir], { env: childEnv({ TCP_NODELAY: '1' }) })
  const studies = await runCli(['studies', '--data', data, '--json'])
  const uids = new Set(studies.records.filter((r) => r.type === 'study').map((r) => r.studyInstanceUid as string))
  assert.ok(uids.has(later.instances[0]!.studyInstanceUid), 'the study sent after the storm is there')

  // The study imported before the storm is intact: byte-identical export, fsck clean.
  const [studyUid] = [...kept.studies.keys()]
  const out = join(root, 'out')
  const exported = await runCli(['export', '--data', data, '--json', studyUid!, out])
  assert.equal(exported.code, 0, show(exported))
  const files = await listFiles(out)
  assert.equal(files.length, kept.instances.length)
  for (const file of files) {
    const sop = file.split('/').pop()!.replace(/\.dcm$/, '')
    assert.deepEqual(new Uint8Array(await readFile(file)), kept.bySop.get(sop)!.bytes, `${sop} exports byte-identical`)
  }
  const fsck = await runCli(['fsck', '--data', data, '--json'])
  assert.equal(fsck.code, 0, show(fsck))
  assert.equal(fsck.records.find((r) => r.type === 'summary')!.errors, 0)
  assert.equal(await node.stop('SIGTERM'), 0, 'a clean stop')
})
