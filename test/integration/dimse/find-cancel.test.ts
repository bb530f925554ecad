/**
 * C-CANCEL of a C-FIND over a real association (PS3.4 C.4.1.3.1): a C-CANCEL-FIND-RQ that
 * arrives with its request (before any response went out) stops the answer: no pending
 * response, a final Cancel (FE00). The next C-FIND with the same Message ID on the same
 * association, and one after a C-CANCEL that came too late for its answer, are not cancelled:
 * every match comes back, then Success. Every response is on the presentation context the
 * request came on, answering its Message ID.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { readFile } from 'node:fs/promises'
import { writeCommandSet } from '../../../node/dimse/command-set.ts'
import { writeIdentifier } from '../../../node/dimse/identifier.ts'
import { STATUS } from '../../../node/dimse/statuses.ts'
import { FIND, IMPLICIT_LE } from '../../../node/dimse/syntaxes.ts'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { NODE_AE, startDimseNode } from '../../helpers/dimse-node.ts'
import { commandElement, PduReader } from '../../helpers/dimse-wire.ts'
import { tempDir } from '../../helpers/files.ts'
import { associateRq, pData, RELEASE_RQ } from '../../helpers/pdu-builder.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const CONTEXT = 3

function findRq (messageId: number): Buffer {
  const command = writeCommandSet({ CommandField: 0x0020, AffectedSOPClassUID: FIND.studyRoot, MessageID: messageId, Priority: 0, CommandDataSetType: 0x0000 })
  const identifier = writeIdentifier([
    { keyword: 'QueryRetrieveLevel', tag: 0x00080052, vr: 'CS', value: 'STUDY' },
    { keyword: 'StudyInstanceUID', tag: 0x0020000d, vr: 'UI', value: '' }
  ], IMPLICIT_LE).bytes
  return Buffer.concat([pData([{ context: CONTEXT, command: true, last: true, value: command }]), pData([{ context: CONTEXT, command: false, last: true, value: identifier }])])
}

function cancelRq (messageId: number): Buffer {
  return pData([{ context: CONTEXT, command: true, last: true, value: writeCommandSet({ CommandField: 0x0fff, MessageIDBeingRespondedTo: messageId, CommandDataSetType: 0x0101 }) }])
}

const us = (command: Buffer, element: number): number | undefined => commandElement(command, element)?.readUInt16LE(0)

test('a C-CANCEL with its C-FIND ends the answer with Cancel; the next C-FIND with the same Message ID is answered in full', { timeout: 120_000 }, async (t) => {
  const root = await tempDir(t, 'peerpacs-find-cancel-')
  const set = await writeStudies(root, [0, 1, 2].map((i) => ({ seed: 401 + i, patient: KNOWN_PATIENTS[i], profile: 'ct' as const, slices: 1 })))
  const node = await startDimseNode(t)
  for (const i of set.instances) {
    const bytes = await readFile(i.path)
    const meta = parseFileMeta(bytes, bytes.length)!
    async function * dataset (): AsyncIterable<Uint8Array> { yield bytes.subarray(meta.metaEnd) }
    await node.pacs.ingestDataset(dataset(), { transferSyntaxUid: meta.transferSyntaxUid, sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })
  }

  const socket = connect(node.port, '127.0.0.1')
  t.after(() => { socket.destroy() })
  const reader = new PduReader()
  let received = Buffer.alloc(0)
  // (The reader keeps the P-DATA-TF PDUs and skips the others: A-ASSOCIATE-AC, A-RELEASE-RP.)
  socket.on('data', (chunk: Buffer) => { received = Buffer.concat([received, chunk]); reader.push(chunk) })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const until = async (done: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !done(); i++) await sleep(20)
    assert.ok(done(), 'timed out waiting for the node')
  }
  socket.write(associateRq({ calling: 'FINDSCU', called: NODE_AE, contexts: [{ id: CONTEXT, abstract: FIND.studyRoot, transfer: [IMPLICIT_LE] }] }))
  await until(() => received.length > 0)
  assert.equal(received[0], 0x02, 'A-ASSOCIATE-AC')

  // The request and its cancel in one write: the node reads both before its query returns.
  socket.write(Buffer.concat([findRq(7), cancelRq(7)]))
  await until(() => reader.messages.length >= 1)
  const cancelled = reader.messages.splice(0)
  assert.equal(cancelled.length, 1, 'no pending response, only the final one')
  assert.equal(us(cancelled[0]!.command, 0x0900), STATUS.cancel)
  assert.equal(us(cancelled[0]!.command, 0x0120), 7)
  assert.equal(cancelled[0]!.pcId, CONTEXT)

  const answerTo = async (messageId: number): Promise<Array<number | undefined>> => {
    socket.write(findRq(messageId))
    await until(() => reader.messages.some((m) => us(m.command, 0x0900) !== STATUS.pending))
    const answer = reader.messages.splice(0)
    assert.ok(answer.every((m) => m.pcId === CONTEXT && us(m.command, 0x0120) === messageId))
    assert.ok(answer.slice(0, -1).every((m) => m.dataset !== undefined && m.dataset.length > 0), 'each pending response carries its identifier')
    return answer.map((m) => us(m.command, 0x0900))
  }
  const full = [STATUS.pending, STATUS.pending, STATUS.pending, STATUS.success]
  assert.deepEqual(await answerTo(7), full)
  // A C-CANCEL that comes after its answer is complete is left over; the next request with that id is not cancelled by it.
  socket.write(cancelRq(7))
  await sleep(200)
  assert.deepEqual(await answerTo(7), full)

  socket.write(RELEASE_RQ)
  await until(() => socket.destroyed || received.includes(Buffer.from([0x06, 0x00, 0x00, 0x00, 0x00, 0x04])))
  assert.ok(!node.logs.some((l) => l.includes('"level":"error"')), 'no error logged')
})
