/**
 * Command sets written by peerpacs are byte for byte the ones dcmjs-dimse writes through dcmjs's
 * denaturalizer, for every response kind the edge sends; what is not a command element, a US out
 * of range or text that is not printable ASCII is refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { writeCommandSet } from '../../../../node/dimse/command-set.ts'
import { Dataset, requests, responses } from '../../../../node/dimse/library.ts'
import { STATUS } from '../../../../node/dimse/statuses.ts'
import { FIND, GET, MOVE } from '../../../../node/dimse/syntaxes.ts'

type AnyResponse = InstanceType<typeof responses.Response>

function findRequest (messageId: number): InstanceType<typeof requests.CFindRequest> {
  const rq = new requests.CFindRequest()
  rq.setMessageId(messageId)
  rq.setAffectedSopClassUid(FIND.studyRoot)
  return rq
}

function withId<T extends InstanceType<typeof requests.Request>> (request: T, messageId: number): T {
  request.setMessageId(messageId)
  return request
}

function cases (): Array<[string, AnyResponse]> {
  const find = findRequest(7)
  const pending = responses.CFindResponse.fromRequest(find)
  pending.setAffectedSopClassUid(FIND.studyRoot)
  pending.setStatus(STATUS.pending)
  pending.setDataset(new Dataset({}))
  const refused = responses.CFindResponse.fromRequest(findRequest(65535))
  refused.setAffectedSopClassUid(FIND.patientRoot)
  refused.setStatus(STATUS.outOfResources)
  refused.setErrorComment('more than 10000 matches; narrow the query')
  const success = responses.CFindResponse.fromRequest(findRequest(1))
  success.setAffectedSopClassUid(FIND.studyRoot)
  success.setStatus(STATUS.success)
  const odd = responses.CFindResponse.fromRequest(findRequest(2))
  odd.setAffectedSopClassUid(FIND.studyRoot)
  odd.setStatus(STATUS.cannotUnderstand)
  odd.setErrorComment('odd')
  // (The typings ask constructors for an error comment; fromRequest leaves it out, as a response without one has none.)
  const echo = responses.CEchoResponse.fromRequest(withId(new requests.CEchoRequest(), 3))
  echo.setStatus(STATUS.success)
  const store = responses.CStoreResponse.fromRequest(withId(new requests.CStoreRequest(new Dataset({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', SOPInstanceUID: '1.2.3.4.5' })), 4))
  store.setAffectedSopClassUid('1.2.840.10008.5.1.4.1.1.2')
  store.setAffectedSopInstanceUid('1.2.3.4.5')
  store.setStatus(STATUS.duplicateInstance)
  const move = responses.CMoveResponse.fromRequest(withId(new requests.CMoveRequest(), 5))
  move.setAffectedSopClassUid(MOVE.studyRoot)
  move.setStatus(STATUS.pending)
  move.setRemaining(12)
  move.setCompleted(3)
  move.setFailures(1)
  move.setWarnings(0)
  const get = responses.CGetResponse.fromRequest(withId(new requests.CGetRequest(), 6))
  get.setAffectedSopClassUid(GET.patientRoot)
  get.setStatus(STATUS.someFailed)
  get.setCompleted(9)
  get.setFailures(2)
  get.setWarnings(1)
  return [['C-FIND pending', pending], ['C-FIND refused with a comment', refused], ['C-FIND success', success], ['odd-length comment', odd],
    ['C-ECHO', echo], ['C-STORE', store], ['C-MOVE pending with counts', move], ['C-GET final with counts', get]]
}

test('the bytes are dcmjs-dimse\'s own, for every response kind', () => {
  for (const [name, response] of cases()) {
    const command = response.getCommandDataset()
    assert.deepEqual(writeCommandSet(command.getElements()), command.getDenaturalizedCommandDataset(), name)
  }
})

test('the layout: group length first, then elements in tag order, UIDs padded with 00H and text with a space', () => {
  const bytes = writeCommandSet({ Status: 0xff00, AffectedSOPClassUID: '1.2.3', CommandField: 0x8020, ErrorComment: 'abc' })
  const hex = bytes.toString('hex')
  // (0000,0000) UL 4: 8+6 + 8+2 + 8+2 + 8+4 = 46
  assert.equal(hex.slice(0, 24), '00000000' + '04000000' + '2e000000')
  assert.equal(bytes.length, 12 + 46)
  assert.equal(bytes.subarray(12).toString('latin1'),
    '\x00\x00\x02\x00\x06\x00\x00\x001.2.3\x00' + '\x00\x00\x00\x01\x02\x00\x00\x00\x20\x80' + '\x00\x00\x00\x09\x02\x00\x00\x00\x00\xff' + '\x00\x00\x02\x09\x04\x00\x00\x00abc ')
  assert.deepEqual(writeCommandSet({ Status: 0, ErrorComment: undefined }), writeCommandSet({ Status: 0 }), 'undefined is left out')
})

test('what is not a command element, a US out of range, or text that is not printable ASCII is refused', () => {
  const wrong: Array<Record<string, unknown>> = [
    { PatientName: 'X' }, { Status: 0x10000 }, { Status: -1 }, { Status: 1.5 }, { Status: '0' },
    { ErrorComment: 'é' }, { ErrorComment: 'a\nb' }, { AffectedSOPClassUID: 12 }
  ]
  for (const elements of wrong) assert.throws(() => writeCommandSet(elements), { code: 'INVALID_ARGUMENT' }, JSON.stringify(elements))
})
