/**
 * The PDU guard on its own: a valid association (request, P-DATA with commands and datasets,
 * release) goes through byte for byte however it is split into reads; each malformed field is
 * stopped with the PS3.8 answer and nothing of the bad PDU is handed on.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PduGuard } from '../../../../node/dimse/pdu-guard.ts'
import { ABORT_REASON, REJECT, type PduProblem } from '../../../../node/dimse/ul-replies.ts'
import { associateRq, cEchoRq, cStoreRq, EXPLICIT_LE, IMPLICIT_LE, item, pData, pdu, RELEASE_RQ, userInformation, VERIFICATION, type ContextSpec } from '../../../helpers/pdu-builder.ts'
import { Prng } from '../../../synthetic/prng.ts'

const CT = '1.2.840.10008.5.1.4.1.1.2'
const CONTEXTS: ContextSpec[] = [{ id: 1, abstract: VERIFICATION, transfer: [IMPLICIT_LE] }, { id: 3, abstract: CT, transfer: [EXPLICIT_LE, IMPLICIT_LE] }]

/** Runs chunks through a guard whose association accepts every proposed context once the RQ went by. */
function run (chunks: Buffer[], accepted: number[] = [1, 3]): { forwarded: Buffer, problem: PduProblem | undefined, pdus: number[] } {
  let rqSeen = false
  const out: Buffer[] = []
  const pdus: number[] = []
  const guard = new PduGuard(1 << 20, { acceptedContexts: () => rqSeen ? new Set(accepted) : undefined, onPdu: (t) => pdus.push(t) })
  let problem: PduProblem | undefined
  for (const chunk of chunks) {
    problem = guard.push(chunk, (bytes) => {
      out.push(Buffer.from(bytes))
      if (Buffer.concat(out)[0] === 0x01) rqSeen = true
    })
    if (problem !== undefined) break
  }
  return { forwarded: Buffer.concat(out), problem, pdus }
}

function validStream (): Buffer[] {
  const dataset = Buffer.alloc(3000, 0x42)
  return [
    associateRq({ contexts: CONTEXTS }),
    pData([{ context: 1, command: true, last: true, value: cEchoRq(1) }]),
    pData([{ context: 3, command: true, last: false, value: cStoreRq(2, CT, '1.2.3').subarray(0, 20) }, { context: 3, command: true, last: true, value: cStoreRq(2, CT, '1.2.3').subarray(20) }]),
    pData([{ context: 3, command: false, last: false, value: dataset.subarray(0, 1000) }]),
    pData([{ context: 3, command: false, last: false, value: Buffer.alloc(0) }, { context: 3, command: false, last: true, value: dataset.subarray(1000) }]),
    RELEASE_RQ
  ]
}

test('a valid association goes through unchanged, whole, byte by byte and in random splits', () => {
  const pdus = validStream()
  const all = Buffer.concat(pdus)
  const whole = run([all])
  assert.equal(whole.problem, undefined)
  assert.deepEqual(whole.forwarded, all)
  assert.deepEqual(whole.pdus, [1, 4, 4, 4, 4, 5])
  const bytewise = run([...all].map((b) => Buffer.of(b)))
  assert.equal(bytewise.problem, undefined)
  assert.deepEqual(bytewise.forwarded, all)
  const seed = 1207
  const prng = new Prng(seed)
  for (let round = 0; round < 200; round++) {
    const chunks: Buffer[] = []
    for (let at = 0; at < all.length;) {
      const n = 1 + prng.nextU32() % 700
      chunks.push(all.subarray(at, at + n))
      at += n
    }
    const r = run(chunks)
    assert.equal(r.problem, undefined, `seed ${seed} round ${round}`)
    assert.deepEqual(r.forwarded, all, `seed ${seed} round ${round}`)
  }
})

function expectAbort (chunks: Buffer[], reason: number, detail: RegExp, accepted?: number[]): Buffer {
  const r = run(chunks, accepted)
  assert.ok(r.problem !== undefined, 'a problem is found')
  assert.equal(r.problem.kind, 'abort', JSON.stringify(r.problem))
  assert.equal(r.problem.kind === 'abort' && r.problem.reason, reason, r.problem.detail)
  assert.match(r.problem.detail, detail)
  return r.forwarded
}

test('malformed association requests are aborted with the PS3.8 reason, before the library sees them', () => {
  const ctx = (id: number): ContextSpec => ({ id, abstract: VERIFICATION, transfer: [IMPLICIT_LE] })
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['two contexts with one id', associateRq({ contexts: [ctx(1), ctx(1)] }), ABORT_REASON.invalidPduParameterValue, /proposed twice/],
    ['129 contexts', associateRq({ contexts: Array.from({ length: 129 }, (_, i) => ctx((2 * i + 1) & 0xff)) }), ABORT_REASON.invalidPduParameterValue, /twice|more than 128/],
    ['an even context id', associateRq({ contexts: [ctx(2)] }), ABORT_REASON.invalidPduParameterValue, /even/],
    ['no context', associateRq({ contexts: [] }), ABORT_REASON.invalidPduParameterValue, /no presentation context/],
    ['a context without transfer syntax', associateRq({ contexts: [{ id: 1, abstract: VERIFICATION, transfer: [] }] }), ABORT_REASON.invalidPduParameterValue, /transfer syntax/],
    ['a max length sub-item of 2 bytes', associateRq({ contexts: [ctx(1)], userInformation: item(0x50, item(0x51, Buffer.alloc(2))) }), ABORT_REASON.invalidPduParameterValue, /0x51 of 2 bytes/],
    ['a role selection whose UID length overruns', associateRq({ contexts: [ctx(1)], userInformation: userInformation(16384, [item(0x54, Buffer.from([0, 200, 0x31, 0x32, 1, 1]))]) }), ABORT_REASON.invalidPduParameterValue, /0x54/],
    ['a maximum length of 6 bytes (the library would loop forever cutting a dataset into PDVs)', associateRq({ contexts: [ctx(1)], userInformation: userInformation(6) }), ABORT_REASON.invalidPduParameterValue, /maximum length 6/],
    ['two user information items', associateRq({ contexts: [ctx(1)], extraItems: [userInformation()] }), ABORT_REASON.unexpectedPduParameter, /second user information/],
    ['a fixed part cut short', pdu(0x01, Buffer.alloc(40)), ABORT_REASON.invalidPduParameterValue, /fixed part/]
  ]
  for (const [name, bytes, reason, detail] of cases) {
    const forwarded = expectAbort([bytes], reason, detail)
    assert.equal(forwarded.length, 0, `${name}: nothing handed on`)
  }
  // An item whose length runs past the PDU.
  const rq = associateRq({ contexts: [ctx(1)] })
  const overrun = Buffer.from(rq)
  overrun.writeUInt16BE(0xfff0, 6 + 68 + 2)
  expectAbort([overrun], ABORT_REASON.invalidPduParameterValue, /overruns the PDU/)
  // A sub-item whose length runs past its item.
  const sub = Buffer.from(rq)
  const contextAt = 6 + 68 + 4 + APPLICATION_CONTEXT_LENGTH
  sub.writeUInt16BE(0x00ff, contextAt + 8 + 2)
  expectAbort([sub], ABORT_REASON.invalidPduParameterValue, /overruns its item/)
})
const APPLICATION_CONTEXT_LENGTH = '1.2.840.10008.3.1.1.1'.length

test('a protocol version or application context it cannot serve is rejected (A-ASSOCIATE-RJ), not aborted', () => {
  const version = run([associateRq({ version: 2, contexts: CONTEXTS })]).problem
  assert.deepEqual(version && { ...version, detail: '' }, { kind: 'reject', result: REJECT.permanent, source: REJECT.serviceProviderAcse, reason: REJECT.protocolVersionNotSupported, detail: '' })
  const context = run([associateRq({ applicationContext: '1.2.3.4', contexts: CONTEXTS })]).problem
  assert.deepEqual(context && { ...context, detail: '' }, { kind: 'reject', result: REJECT.permanent, source: REJECT.serviceUser, reason: REJECT.applicationContextNotSupported, detail: '' })
  const ae = run([associateRq({ calling: 'BAD\\AE', contexts: CONTEXTS })]).problem
  assert.equal(ae?.kind === 'reject' && ae.reason, REJECT.callingAeNotRecognized)
})

test('items of unknown types are cut out of the request (PS3.8 9.3.1), the rest goes on', () => {
  const rq = associateRq({ contexts: CONTEXTS, extraItems: [item(0x77, Buffer.from('whatever'))] })
  const r = run([rq])
  assert.equal(r.problem, undefined)
  assert.equal(r.forwarded.length, rq.length - 12)
  assert.equal(r.forwarded.readUInt32BE(2), rq.length - 12 - 6, 'the header announces the new length')
  assert.deepEqual(r.forwarded, associateRq({ contexts: CONTEXTS }))
})

test('PDUs out of place, and bad PDVs, are aborted with the PS3.8 reason; what came before them went on', () => {
  const rq = associateRq({ contexts: CONTEXTS })
  const echo = pData([{ context: 1, command: true, last: true, value: cEchoRq(1) }])
  expectAbort([Buffer.from([0x09, 0, 0, 0, 0, 0])], ABORT_REASON.unrecognizedPdu, /unknown PDU type 0x09/)
  expectAbort([echo], ABORT_REASON.unexpectedPdu, /before an A-ASSOCIATE-RQ/)
  expectAbort([rq, pdu(0x02, Buffer.alloc(4))], ABORT_REASON.unexpectedPdu, /0x02/)
  expectAbort([rq, rq], ABORT_REASON.unexpectedPdu, /0x01 is not expected on an established/)
  expectAbort([rq, RELEASE_RQ, echo], ABORT_REASON.unexpectedPdu, /after an A-RELEASE-RQ/)
  expectAbort([rq, pdu(0x05, Buffer.alloc(5))], ABORT_REASON.invalidPduParameterValue, /4 expected/)
  expectAbort([rq, pdu(0x04, Buffer.alloc(5 << 20))], ABORT_REASON.invalidPduParameterValue, /exceeds the limit/)
  expectAbort([rq, pdu(0x04, Buffer.alloc(3))], ABORT_REASON.invalidPduParameterValue, /shorter than one PDV/)
  const onFive = pData([{ context: 5, command: true, last: true, value: cEchoRq(1) }])
  const forwarded = expectAbort([Buffer.concat([rq, echo, onFive])], ABORT_REASON.invalidPduParameterValue, /context 5, which was not accepted/)
  assert.deepEqual(forwarded, Buffer.concat([rq, echo]), 'the request and the valid P-DATA went on, the bad one did not')
  const reserved = Buffer.from(echo)
  reserved[11] = 0x07
  expectAbort([rq, reserved], ABORT_REASON.invalidPduParameterValue, /reserved bits/)
  const short = Buffer.from(echo)
  short.writeUInt32BE(1, 6)
  expectAbort([rq, short], ABORT_REASON.invalidPduParameterValue, /at least 2/)
  const long = Buffer.from(echo)
  long.writeUInt32BE(echo.length, 6)
  expectAbort([rq, long], ABORT_REASON.invalidPduParameterValue, /overruns its P-DATA-TF/)
  const dataset = pData([{ context: 3, command: false, last: true, value: Buffer.alloc(10) }])
  expectAbort([rq, dataset], ABORT_REASON.unexpectedPduParameter, /no command before it/)
  const half = pData([{ context: 3, command: true, last: false, value: Buffer.alloc(10) }])
  expectAbort([rq, half, dataset], ABORT_REASON.unexpectedPduParameter, /inside a command/)
  const otherContext = pData([{ context: 1, command: true, last: true, value: Buffer.alloc(10) }])
  expectAbort([rq, half, otherContext], ABORT_REASON.unexpectedPduParameter, /continued on presentation context 1/)
})

test('a P-DATA-TF that is accepted before the association is: unexpected', () => {
  // The association never accepted anything (e.g. it rejected the request): any P-DATA is unexpected.
  let accepted: Set<number> | undefined
  const guard = new PduGuard(1 << 20, { acceptedContexts: () => accepted })
  assert.equal(guard.push(associateRq({ contexts: CONTEXTS }), () => {}), undefined)
  const problem = guard.push(pData([{ context: 1, command: true, last: true, value: cEchoRq(1) }]), () => {})
  assert.equal(problem?.kind === 'abort' && problem.reason, ABORT_REASON.unexpectedPdu)
  assert.ok(guard.done)
  assert.equal(guard.push(Buffer.alloc(10), () => { throw new Error('nothing more is handed on') }), undefined)
  accepted = new Set()
})
