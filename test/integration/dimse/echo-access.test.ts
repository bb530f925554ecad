/**
 * Who may associate: a configured AE from its configured address gets C-ECHO; an unknown calling
 * AE, or a wrong called AE, is rejected at association with the reason PS3.8 names; garbage and
 * oversized PDUs on the port end only that connection, and the node keeps answering.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { NODE_AE, remote, runTool, startDimseNode } from '../../helpers/dimse-node.ts'

test('C-ECHO from a configured AE succeeds', async (t) => {
  const node = await startDimseNode(t)
  const r = await runTool(t, 'echoscu', ['-v', '-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout + r.stderr, /Received Echo Response \(Success\)/)
})

test('an unknown calling AE is rejected with reason 3, a wrong called AE with reason 7', async (t) => {
  const node = await startDimseNode(t)
  const unknown = await runTool(t, 'echoscu', ['-v', '-aet', 'STRANGER', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.notEqual(unknown.code, 0)
  const out = unknown.stdout + unknown.stderr
  assert.match(out, /Association Rejected/i, out)
  assert.match(out, /Rejected Permanent/i, out)
  assert.match(out, /Source: Service User/i, out)
  assert.match(out, /calling AE title not recognized/i, out)

  const called = await runTool(t, 'echoscu', ['-v', '-aet', 'ECHOSCU', '-aec', 'SOMEONEELSE', '127.0.0.1', String(node.port)])
  assert.notEqual(called.code, 0)
  assert.match(called.stdout + called.stderr, /called AE title not recognized/i)

  const ok = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(ok.code, 0, 'the node still answers')
  assert.ok(!node.logs.some((l) => l.includes('STRANGER') && l.includes('"level":"error"')))
})

test('a remote is matched by address too, and acceptUnknown lets anyone in', async (t) => {
  const elsewhere = await startDimseNode(t, { remotes: [remote('ECHOSCU', { host: '10.9.9.9' })] })
  const r = await runTool(t, 'echoscu', ['-v', '-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(elsewhere.port)])
  assert.notEqual(r.code, 0)
  assert.match(r.stdout + r.stderr, /calling AE title not recognized/i)

  const open = await startDimseNode(t, { remotes: [], acceptUnknown: true })
  const ok = await runTool(t, 'echoscu', ['-aet', 'ANYONE', '-aec', NODE_AE, '127.0.0.1', String(open.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})

async function sendRaw (port: number, bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.write(bytes) })
    socket.on('error', () => resolve())
    socket.on('close', () => resolve())
    setTimeout(() => { socket.destroy(); resolve() }, 1000).unref()
  })
}

test('garbage bytes, a huge announced PDU and a truncated association request end only that connection', async (t) => {
  const node = await startDimseNode(t)
  const garbage = new Uint8Array(5000).map((_, i) => (i * 131 + 7) & 0xff)
  await sendRaw(node.port, garbage)
  await sendRaw(node.port, Uint8Array.of(0x01, 0x00, 0xff, 0xff, 0xff, 0xf0, 1, 2, 3))
  await sendRaw(node.port, Uint8Array.of(0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0, 0, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41))
  // A P-DATA-TF before any association.
  await sendRaw(node.port, Uint8Array.of(0x04, 0x00, 0x00, 0x00, 0x00, 0x08, 0, 0, 0, 4, 1, 3, 0xaa, 0xbb))
  const ok = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})

function closedSocket (port: number): { closed: Promise<void>, connected: Promise<void> } {
  let connected!: () => void
  const socket = connect(port, '127.0.0.1', () => connected())
  socket.on('error', () => {})
  return { connected: new Promise((resolve) => { connected = resolve }), closed: new Promise((resolve) => socket.on('close', () => resolve())) }
}

test('an idle connection is closed after the idle timeout; close() ends the rest and stops listening', async (t) => {
  const idle = await startDimseNode(t, { idleTimeout: 1 })
  const quiet = closedSocket(idle.port)
  await quiet.connected
  await quiet.closed
  assert.ok(idle.logs.some((l) => l.includes('dimse.association.idle')))

  const node = await startDimseNode(t)
  const held = closedSocket(node.port)
  await held.connected
  await node.server.close()
  await held.closed
  const after = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.notEqual(after.code, 0, 'no longer listening')
})
