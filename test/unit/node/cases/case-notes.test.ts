/**
 * The CaseNotes service (node/cases/case-notes.ts) on two real sites of one org (the in-process
 * mesh harness: real data dirs, real enrollment, the log synced over libp2p): each site writes a
 * note as its own signed case.update op, and both read the same two entries, each with its
 * person and site. An update B signs whose Yjs structs carry A's client id is accepted by the log
 * (B may write) and skipped by both sites' documents, logged, while the rest still reads.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import { caseClientId, sealCaseUpdate } from '../../../../protocol/case-doc/index.ts'
import { toHex } from '../../../../protocol/encoding.ts'
import type { StudyId } from '../../../../protocol/study-id.ts'
import { studyKeyAad, unwrapStudyKey } from '../../../../node/archive/study-keys.ts'
import { CaseNotes } from '../../../../node/cases/case-notes.ts'
import { createLogger } from '../../../../node/logging/logger.ts'
import { provider, random } from '../../../../node/runtime.ts'
import { connectedTo, founder, ingest, join_, waitFor, type HarnessNode } from '../../../helpers/mesh-harness.ts'
import { build } from '../helpers/dicom.ts'

async function serviceOf (n: HarnessNode, lines: string[]): Promise<CaseNotes> {
  const archive = n.archive!
  return new CaseNotes({ provider, random, keyring: archive.keyring, log: await archive.log(), logger: createLogger({ write: (line) => { lines.push(line) } }) })
}

async function caseOps (n: HarnessNode, study: StudyId): Promise<number> {
  return (await n.archive!.log()).oplog.state.caseUpdates.get(study)?.length ?? 0
}

test('two sites write a note each as signed case.update ops and read the same entries; a forged-client update is skipped and logged at both', async (t) => {
  const a = await founder(t, 'A')
  const b = await join_(t, a, 'B')
  await waitFor('A and B connected', () => connectedTo(a, b))
  await ingest(a, build())
  const logA = await a.archive!.log()
  await waitFor('A registered the study', () => logA.oplog.state.studies.size === 1)
  const study = [...logA.oplog.state.studies.keys()][0]!
  await waitFor('B holds the study registration', async () => (await b.archive!.log()).oplog.state.studies.has(study))

  const linesA: string[] = []
  const linesB: string[] = []
  const notesA = await serviceOf(a, linesA)
  const notesB = await serviceOf(b, linesB)
  t.after(() => { notesA.close(); notesB.close() })
  const fromA = await notesA.add(study, { id: 'a'.repeat(32), displayName: 'Dr Ada' }, { kind: 'note', text: 'nodule in the right upper lobe' })
  const fromB = await notesB.add(study, { id: 'b'.repeat(32), displayName: 'Dr Bea' }, {
    kind: 'measurement', measurement: { tool: 'length', sopInstanceUid: '1.2.3', frame: 1, points: [[1, 2], [11, 2]], value: 5, unit: 'mm' }
  })
  assert.equal(fromA.name, 'Dr Ada')
  assert.equal(fromA.site, toHex(a.archive!.keyring.nodeKey.publicKey))
  assert.equal(fromB.kind, 'measurement')
  await waitFor('both sites hold both case.update ops', async () => await caseOps(a, study) === 2 && await caseOps(b, study) === 2)

  const readA = notesA.entries(study)
  const readB = notesB.entries(study)
  assert.deepEqual(readA, readB, 'both sites read the same document')
  assert.deepEqual(readA.map((e) => e.name).sort(), ['Dr Ada', 'Dr Bea'])
  assert.deepEqual(readA.find((e) => e.kind === 'measurement')?.measurement?.points, [[1, 2], [11, 2]])

  // B signs an update whose structs carry A's client id: the log takes it, the documents do not.
  const archiveB = b.archive!
  const logB = await archiveB.log()
  const registered = logB.oplog.state.studies.get(study)!
  const dataKey = unwrapStudyKey(provider, archiveB.keyring.epochKey(registered.epoch), registered.wrappedKey, studyKeyAad(archiveB.keyring.orgId, study, registered.epoch))
  const forger = new Y.Doc()
  forger.clientID = caseClientId(provider, a.archive!.keyring.nodeKey.publicKey, study)
  forger.getArray('notes').push([{ author: toHex(a.archive!.keyring.nodeKey.publicKey), time: 1, text: 'written as A' }])
  const sealed = sealCaseUpdate(provider, random, dataKey, { org: archiveB.keyring.orgId, study, author: archiveB.keyring.nodeKey.publicKey }, Y.encodeStateAsUpdate(forger))
  await logB.append('case.update', { study, sealed })
  await waitFor('A holds the forged op too', async () => await caseOps(a, study) === 3)

  for (const [service, lines] of [[notesA, linesA], [notesB, linesB]] as const) {
    const entries = service.entries(study)
    assert.equal(entries.length, 2, 'the forged note is not read')
    assert.ok(!entries.some((e) => e.text === 'written as A'))
    const skipped = lines.map((l) => JSON.parse(l) as { event: string, reason?: string }).filter((l) => l.event === 'case.update.skipped')
    assert.equal(skipped.length, 1, 'the forged update is logged once')
    assert.equal(skipped[0]!.reason, 'foreign-struct')
  }

  // A site still writes after the skipped update, and deleting is the writer's own, at its own site.
  const second = await notesA.add(study, { id: 'a'.repeat(32), displayName: 'Dr Ada' }, { kind: 'note', text: 'follow-up in 3 months' })
  await assert.rejects(notesB.remove(study, { id: 'b'.repeat(32), displayName: 'Dr Bea' }, fromA.id), { code: 'FORBIDDEN' })
  await assert.rejects(notesA.remove(study, { id: 'b'.repeat(32), displayName: 'Dr Bea' }, fromA.id), { code: 'FORBIDDEN' })
  await assert.rejects(notesA.remove(study, { id: 'a'.repeat(32), displayName: 'Dr Ada' }, '1:999'), { code: 'NOT_FOUND' })
  await notesA.remove(study, { id: 'a'.repeat(32), displayName: 'Dr Ada' }, fromA.id)
  assert.deepEqual(notesA.entries(study).map((e) => e.id).sort(), [fromB.id, second.id].sort())
  await waitFor('B reads the deletion', () => notesB.entries(study).length === 2 && !notesB.entries(study).some((e) => e.id === fromA.id))
})
