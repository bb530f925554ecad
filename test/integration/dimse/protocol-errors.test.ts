/**
 * Upper layer protocol errors from an allowed AE, over a real socket: each is answered as PS3.8
 * says (A-ABORT from the service provider with its reason, or A-ASSOCIATE-RJ), ends only that
 * connection, and the node keeps answering. An exception thrown inside a handler ends only its
 * association too. (Before, two contexts sharing an id, or more than 128 contexts, threw a
 * RangeError out of dcmjs-dimse that killed the process.)
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { NODE_AE, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { associateRq, cEchoRq, EXPLICIT_LE, IMPLICIT_LE, item, pData, userInformation, VERIFICATION, type ContextSpec } from '../../helpers/pdu-builder.ts'

/** Sends `bytes`, returns what came back before the node closed the connection (or 5 s passed). */
async function exchange (port: number, bytes: Buffer, after?: (reply: Buffer) => Buffer | undefined): Promise<Buffer> {
  return await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = []
    let followed = false
    const socket = connect(port, '127.0.0.1', () => { socket.write(bytes) })
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      if (after !== undefined && !followed) {
        followed = true
        const next = after(Buffer.concat(chunks))
        if (next !== undefined) socket.write(next)
      }
    })
    socket.on('error', () => {})
    const timer = setTimeout(() => { socket.destroy() }, 5000)
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks)) })
  })
}

const ABORT_INVALID = [0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6]
const ctx = (id: number): ContextSpec => ({ id, abstract: VERIFICATION, transfer: [IMPLICIT_LE] })

test('duplicate or too many presentation contexts and bad lengths are aborted (invalid PDU parameter), the node serves on', { timeout: 60_000 }, async (t) => {
  const node = await startDimseNode(t)
  const cases: Array<[string, Buffer]> = [
    ['two contexts with id 1', associateRq({ calling: 'ECHOSCU', contexts: [ctx(1), ctx(1)] })],
    ['130 contexts', associateRq({ calling: 'ECHOSCU', contexts: Array.from({ length: 130 }, (_, i) => ctx((2 * i + 1) & 0xff)) })],
    ['context id 0', associateRq({ calling: 'ECHOSCU', contexts: [ctx(0)] })],
    ['a maximum PDU length of 6', associateRq({ calling: 'ECHOSCU', contexts: [ctx(1)], userInformation: userInformation(6) })],
    ['a user identity sub-item whose lengths do not add up', associateRq({ calling: 'ECHOSCU', contexts: [ctx(1)], userInformation: userInformation(16384, [item(0x58, Buffer.from([1, 0, 0, 9, 0x41, 0, 0]))]) })]
  ]
  for (const [name, bytes] of cases) {
    const reply = await exchange(node.port, bytes)
    assert.deepEqual([...reply], ABORT_INVALID, name)
  }
  // A P-DATA-TF on a context the association did not accept.
  const rq = associateRq({ calling: 'ECHOSCU', contexts: [ctx(1)] })
  const reply = await exchange(node.port, rq, () => pData([{ context: 3, command: true, last: true, value: cEchoRq(1) }]))
  assert.equal(reply[0], 0x02, 'A-ASSOCIATE-AC first')
  assert.deepEqual([...reply.subarray(reply.length - 10)], ABORT_INVALID, 'then A-ABORT')
  assert.ok(node.logs.some((l) => l.includes('dimse.association.protocol-error') && l.includes('proposed twice')))
  const ok = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})

test('a protocol version it does not speak is rejected: A-ASSOCIATE-RJ (permanent, ACSE, protocol version not supported)', async (t) => {
  const node = await startDimseNode(t)
  const reply = await exchange(node.port, associateRq({ calling: 'ECHOSCU', version: 2, contexts: [ctx(1)] }))
  assert.deepEqual([...reply], [0x03, 0, 0, 0, 0, 4, 0, 1, 2, 2])
})

test('an exception thrown inside a handler aborts that association only', { timeout: 60_000 }, async (t) => {
  const node = await startDimseNode(t)
  // Negotiating a storage context with the SCP role (for C-GET) consults the catalogue: make that throw, once.
  const original = node.pacs.storedSyntaxCounts.bind(node.pacs)
  let armed = true
  Object.defineProperty(node.pacs, 'storedSyntaxCounts', {
    configurable: true,
    value: (sopClassUid: string) => {
      if (armed) { armed = false; throw new Error('injected failure') }
      return original(sopClassUid)
    }
  })
  const ct = '1.2.840.10008.5.1.4.1.1.2'
  const role = Buffer.concat([Buffer.from([0, ct.length]), Buffer.from(ct), Buffer.from([1, 1])])
  const rq = associateRq({ calling: 'GETSCU', contexts: [ctx(1), { id: 3, abstract: ct, transfer: [EXPLICIT_LE] }], userInformation: userInformation(16384, [item(0x54, role)]) })
  const reply = await exchange(node.port, rq)
  assert.equal(reply[0], 0x07, `A-ABORT, got ${reply.subarray(0, 10).toString('hex')}`)
  assert.ok(!armed, 'the injected failure happened')
  assert.ok(node.logs.some((l) => l.includes('dimse.association.handler-failed') && l.includes('injected failure')))
  const ok = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})
