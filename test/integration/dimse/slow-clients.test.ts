/**
 * Slow and greedy clients over real sockets, with the limits shortened: a connection that sends
 * half an A-ASSOCIATE-RQ, or trickles one byte at a time, is cut when ARTIM expires; an
 * established association that trickles a P-DATA-TF without ever completing a PDU is cut by the
 * idle timeout; connections beyond the per-address limit are answered A-ASSOCIATE-RJ (transient,
 * local limit exceeded) and closed, and once the others close, echoscu works again.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { NODE_AE, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { associateRq, IMPLICIT_LE, pData, cEchoRq, RELEASE_RQ, VERIFICATION } from '../../helpers/pdu-builder.ts'

interface Client { socket: Socket, received: () => Buffer, closed: Promise<number> }

/** `allowHalfOpen`: this side does not close when the node ends its side (it then closes only when told to). */
async function open (port: number, allowHalfOpen = false): Promise<Client> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen })
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  socket.on('error', () => {})
  const started = Date.now()
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)))
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  return { socket, received: () => Buffer.concat(chunks), closed }
}

/** Writes `bytes` one at a time, every `ms`, until the socket closes or the bytes run out. */
function trickle (socket: Socket, bytes: Buffer, ms: number): void {
  let at = 0
  const timer = setInterval(() => {
    if (socket.destroyed || at >= bytes.length) { clearInterval(timer); return }
    socket.write(bytes.subarray(at, at + 1))
    at++
  }, ms)
  socket.once('close', () => clearInterval(timer))
}

const ECHO_RQ = associateRq({ calling: 'ECHOSCU', contexts: [{ id: 1, abstract: VERIFICATION, transfer: [IMPLICIT_LE] }] })

test('half an association request, or one trickled byte by byte, is cut when ARTIM expires', { timeout: 30_000 }, async (t) => {
  const node = await startDimseNode(t, { artimTimeout: 1, idleTimeout: 60 })
  const half = await open(node.port)
  half.socket.write(ECHO_RQ.subarray(0, ECHO_RQ.length >> 1))
  const slow = await open(node.port)
  trickle(slow.socket, ECHO_RQ, 100)
  const [halfMs, slowMs] = await Promise.all([half.closed, slow.closed])
  t.diagnostic(`closed after ${halfMs} ms and ${slowMs} ms (ARTIM 1 s)`)
  assert.ok(halfMs < 10_000 && slowMs < 10_000, 'both cut (generous bound)')
  assert.equal(slow.received().length, 0, 'the trickled request never completed, so nothing was answered')
  assert.ok(node.logs.filter((l) => l.includes('dimse.connection.artim-expired')).length >= 2)
  const ok = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})

test('an association that trickles a P-DATA-TF and never completes a PDU is cut by the idle timeout', { timeout: 30_000 }, async (t) => {
  const node = await startDimseNode(t, { artimTimeout: 30, idleTimeout: 1 })
  const client = await open(node.port)
  client.socket.write(ECHO_RQ)
  for (let i = 0; i < 100 && client.received().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(client.received()[0], 0x02, 'A-ASSOCIATE-AC')
  // One byte every 100 ms: the socket is never silent for a second, but no PDU ever completes.
  trickle(client.socket, pData([{ context: 1, command: true, last: true, value: cEchoRq(1) }]), 100)
  const ms = await client.closed
  t.diagnostic(`closed after ${ms} ms (idle 1 s)`)
  assert.ok(ms < 15_000)
  assert.ok(node.logs.some((l) => l.includes('dimse.association.idle')))
})

test('connections beyond the per-address limit are rejected (transient, local limit exceeded) until others close', { timeout: 30_000 }, async (t) => {
  const node = await startDimseNode(t, { maxConnectionsPerAddress: 4 })
  const held = await Promise.all([1, 2, 3, 4].map(async () => await open(node.port)))
  // The node counts a connection when it accepts it: make sure all four are in.
  await new Promise((resolve) => setTimeout(resolve, 200))
  const fifth = await open(node.port)
  await fifth.closed
  assert.deepEqual([...fifth.received()], [0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2], 'A-ASSOCIATE-RJ: transient, service provider (presentation), local limit exceeded')
  const refused = await runTool(t, 'echoscu', ['-v', '-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.notEqual(refused.code, 0)
  assert.match(refused.stdout + refused.stderr, /Association Rejected/i)
  assert.match(refused.stdout + refused.stderr, /Local limit exceeded/i)
  assert.equal(node.logs.filter((l) => l.includes('dimse.connection.limit')).length, 1, 'logged once per address and window')
  for (const c of held) c.socket.destroy()
  await Promise.all(held.map(async (c) => await c.closed))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const ok = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})

async function until (what: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !what(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
}

test('a peer that does not close after A-ASSOCIATE-RJ or A-RELEASE-RP is closed on when ARTIM expires', { timeout: 30_000 }, async (t) => {
  const node = await startDimseNode(t, { artimTimeout: 1, idleTimeout: 60 })
  const closedByNode = (): number => node.logs.filter((l) => l.includes('"event":"dimse.association.closed"')).length
  const rejected = await open(node.port, true)
  rejected.socket.write(associateRq({ calling: 'NOBODY', contexts: [{ id: 1, abstract: VERIFICATION, transfer: [IMPLICIT_LE] }] }))
  const released = await open(node.port, true)
  released.socket.write(ECHO_RQ)
  await until(() => released.received().length > 0)
  released.socket.write(RELEASE_RQ)
  const RP = Buffer.from([0x06, 0, 0, 0, 0, 4])
  await until(() => rejected.received().length > 0 && released.received().includes(RP))
  assert.equal(rejected.received()[0], 0x03, 'A-ASSOCIATE-RJ')
  assert.ok(released.received().includes(RP), 'A-RELEASE-RP')
  // Neither peer closes its side: the node does, once ARTIM expires.
  const started = Date.now()
  await until(() => closedByNode() === 2)
  t.diagnostic(`both connections closed by the node ${Date.now() - started} ms after the answers (ARTIM 1 s)`)
  assert.equal(closedByNode(), 2, 'the node closed both')
  rejected.socket.destroy()
  released.socket.destroy()
})
