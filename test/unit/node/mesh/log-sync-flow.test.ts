/**
 * Log sync flow control (/peerpacs/log/1.2.0, docs/protocol.md "Log sync 1.2.0"): a site that
 * was away comes back to ~38 MiB of ops and verifies them slowly. Its peer may have at most
 * WINDOW_FRAMES frames unacknowledged, so it waits for the slow site instead of filling the
 * site's read buffer; the catch-up completes with nothing refused. Over 1.1.0 the same catch-up
 * overflowed the 20 MiB read bound ("Read buffer overflow", taken for a violation).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fromHex } from '../../../../protocol/encoding.ts'
import { writeSteps } from '../../../../node/members/change.ts'
import { NodeLog } from '../../../../node/log/node-log.ts'
import { random } from '../../../../node/runtime.ts'
import { connectedTo, founder, join_, opCount, waitFor } from '../../../helpers/mesh-harness.ts'

const OPS = 160
const SEALED = 240 * 1024

test('a slow site catches up on ~38 MiB of ops: its peer waits for acks instead of overflowing it', async (t) => {
  const a = await founder(t, 'A')
  const b = await join_(t, a, 'B')
  await waitFor('A and B connected', () => connectedTo(a, b))
  await b.stop()
  const archive = a.archive!
  const log = await archive.log()
  const epoch = fromHex(archive.keyring.currentEpoch)
  for (let done = 0; done < OPS; done += 20) {
    await writeSteps(archive, log, Array.from({ length: 20 }, () => ({ type: 'audit.event' as const, body: { epoch, sealed: random(SEALED) } })), 'large ops')
  }
  const written = await opCount(a)

  // B verifies slowly: each frame of ops (~750 KiB) takes it 150 ms more than usual.
  const receive = NodeLog.prototype.receive
  NodeLog.prototype.receive = async function (this: NodeLog, inputs) {
    if (this.nodeId === b.nodeId) await new Promise((resolve) => setTimeout(resolve, 150))
    return await receive.call(this, inputs)
  }
  t.after(() => { NodeLog.prototype.receive = receive })
  await b.start()
  await waitFor('B holds every op A wrote', async () => b.archive !== undefined && await opCount(b) >= written, 180_000)
  for (const p of b.mesh!.peers()) assert.equal(p.refused, null, `B refused nothing from ${p.nodeId}`)
  for (const p of a.mesh!.peers()) assert.equal(p.refused, null, `A refused nothing from ${p.nodeId}`)
})
