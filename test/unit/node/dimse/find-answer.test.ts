/**
 * Sending a C-FIND answer over a real TCP connection on 127.0.0.1: every response arrives, in
 * order, as PDUs a receiver can read, in far fewer socket writes than PDUs; a peer that stops
 * reading holds the sender (bounded memory, no busy loop) until it reads again, or is given up on
 * once it has read nothing for the idle time; a cancel between batches ends the pending
 * responses with a final Cancel; a connection that closes ends the sending quietly.
 */
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeCommandSet } from '../../../../node/dimse/command-set.ts'
import { FindAnswer, socketSink, type ResponseSink } from '../../../../node/dimse/find-answer.ts'
import { STATUS } from '../../../../node/dimse/statuses.ts'
import { FIND } from '../../../../node/dimse/syntaxes.ts'

/** A connected pair: `server` writes, `client` reads. */
async function pair (t: TestContext): Promise<{ server: Socket, client: Socket }> {
  const listener: Server = createServer()
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve))
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1')
  const server = await accepted
  t.after(() => { client.destroy(); server.destroy(); listener.close() })
  return { server, client }
}

interface Message { command: Buffer, dataset?: Buffer }

/** Reads PDUs into DIMSE messages: a command, and the dataset that follows it if any. */
function messages (bytes: Buffer): Message[] {
  const out: Message[] = []
  let command: Buffer[] = []
  let dataset: Buffer[] = []
  let at = 0
  while (at + 6 <= bytes.length) {
    const length = bytes.readUInt32BE(at + 2)
    if (at + 6 + length > bytes.length) break
    const control = bytes[at + 11]!
    const value = bytes.subarray(at + 12, at + 6 + length)
    if ((control & 1) === 1) {
      command.push(value)
      if ((control & 2) === 2) { out.push({ command: Buffer.concat(command) }); command = [] }
    } else {
      dataset.push(value)
      if ((control & 2) === 2) { out.at(-1)!.dataset = Buffer.concat(dataset); dataset = [] }
    }
    at += 6 + length
  }
  return out
}

function statusOf (command: Buffer): number {
  const at = command.indexOf(Buffer.from('0000000902000000', 'hex'))
  return command.readUInt16LE(at + 8)
}

async function readAll (client: Socket): Promise<Buffer> {
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => chunks.push(c))
  await new Promise((resolve) => client.once('end', resolve))
  return Buffer.concat(chunks)
}

function identifiers (count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 256))
}

test('every response arrives in order, readable, in few socket writes', async (t) => {
  const { server, client } = await pair(t)
  const received = readAll(client)
  const ids = identifiers(5000, 120)
  const answer = new FindAnswer({ sopClassUid: FIND.studyRoot, messageId: 9, identifiers: ids, status: STATUS.success })
  const real = socketSink(server, 30_000)
  let writes = 0
  const counting: ResponseSink = { ...real, write: (bytes) => { writes++; return real.write(bytes) } }
  const result = await answer.send(counting, 3, 16384)
  server.end()
  const got = messages(await received)
  assert.deepEqual(result, { sent: 5000, cancelled: false, stalled: false })
  assert.equal(got.length, 5001)
  const pendingCommand = writeCommandSet({ CommandField: 0x8020, AffectedSOPClassUID: FIND.studyRoot, MessageIDBeingRespondedTo: 9, CommandDataSetType: 0x0202, Status: STATUS.pending })
  for (const [i, m] of got.slice(0, -1).entries()) {
    assert.deepEqual(m.command, pendingCommand)
    assert.deepEqual(m.dataset, ids[i])
  }
  assert.equal(statusOf(got.at(-1)!.command), STATUS.success)
  assert.equal(got.at(-1)!.dataset, undefined)
  // 10,001 PDUs, about 1.3 MB: batches of 64 KiB.
  assert.ok(writes <= 25, `${writes} socket writes for 10,001 PDUs`)
})

test('a peer that stops reading holds the sender, with little queued; reading again lets it finish', async (t) => {
  const { server, client } = await pair(t)
  client.pause()
  const answer = new FindAnswer({ sopClassUid: FIND.studyRoot, messageId: 1, identifiers: identifiers(20_000, 2000), status: STATUS.success })
  let done = false
  const sending = answer.send(socketSink(server, 30_000), 1, 0).then((r) => { done = true; return r })
  await sleep(500)
  assert.equal(done, false, 'the sender waits for the peer')
  assert.ok(server.writableLength <= 256 * 1024, `queued in the process: ${server.writableLength} bytes`)
  const received = readAll(client)
  client.resume()
  assert.deepEqual(await sending, { sent: 20_000, cancelled: false, stalled: false })
  server.end()
  assert.equal(messages(await received).length, 20_001)
})

test('a peer that reads nothing for the idle time is given up on: the sending ends, marked stalled', async (t) => {
  const { server, client } = await pair(t)
  client.pause()
  const answer = new FindAnswer({ sopClassUid: FIND.studyRoot, messageId: 1, identifiers: identifiers(20_000, 2000), status: STATUS.success })
  const started = Date.now()
  const result = await answer.send(socketSink(server, 300), 1, 0)
  assert.equal(result.stalled, true)
  assert.ok(result.sent < 20_000, `sent ${result.sent}`)
  assert.ok(Date.now() - started < 30_000, 'given up on, not waited for')
})

test('a cancel seen between batches ends the pending responses with a final Cancel', async (t) => {
  const { server, client } = await pair(t)
  const received = readAll(client)
  const answer = new FindAnswer({ sopClassUid: FIND.studyRoot, messageId: 4, identifiers: identifiers(3000, 200), status: STATUS.success })
  let asked = 0
  const result = await answer.send(socketSink(server, 30_000), 1, 16384, () => ++asked > 2)
  server.end()
  const got = messages(await received)
  assert.equal(result.cancelled, true)
  assert.ok(result.sent > 0 && result.sent < 3000, `sent ${result.sent}`)
  assert.equal(got.length, result.sent + 1)
  assert.equal(statusOf(got.at(-1)!.command), STATUS.cancel)
})

test('a connection that closes mid-answer ends the sending without an error', async (t) => {
  const { server, client } = await pair(t)
  client.once('data', () => client.destroy())
  const answer = new FindAnswer({ sopClassUid: FIND.studyRoot, messageId: 4, identifiers: identifiers(50_000, 1000), status: STATUS.success })
  server.on('error', () => undefined)
  const result = await answer.send(socketSink(server, 30_000), 1, 0)
  assert.ok(result.sent < 50_000, `sent ${result.sent}`)
})

test('a SOP class that is not a UID is not echoed; the final response carries the failure and its comment', () => {
  const answer = new FindAnswer({ sopClassUid: 'not\na uid', messageId: 2, identifiers: [], status: STATUS.sopClassNotSupported, comment: 'unsupported query model' })
  const final = answer.command(STATUS.sopClassNotSupported, false, 'unsupported query model')
  assert.deepEqual(final, writeCommandSet({ CommandField: 0x8020, MessageIDBeingRespondedTo: 2, CommandDataSetType: 0x0101, Status: STATUS.sopClassNotSupported, ErrorComment: 'unsupported query model' }))
})
