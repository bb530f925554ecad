/**
 * The namespace link (test/helpers/netns-link.ts) really limits the rate: a sink in nsB and a
 * sender in nsA, each its own node process, move 4 MiB over a 20 Mbit/s link, and the rate the
 * sink measures lies between half the limit and 1.2 times it. The namespaces are gone after
 * close(). Skipped, with the reason, where namespaces cannot be made.
 */
import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLimitedLink, netnsAvailable } from '../../helpers/netns-link.ts'

// Listens on argv[1], prints its port, then times one connection from first byte to end.
const SINK = `
import net from 'node:net'
const server = net.createServer((socket) => {
  let bytes = 0
  let first = 0
  socket.on('data', (d) => { if (bytes === 0) first = performance.now(); bytes += d.length })
  socket.on('end', () => {
    console.log(JSON.stringify({ bytes, seconds: (performance.now() - first) / 1000 }))
    socket.end()
    server.close()
  })
})
server.listen(0, process.argv[1], () => console.log(JSON.stringify({ port: server.address().port })))
`
// Sends argv[3] bytes to argv[1]:argv[2], then ends.
const SENDER = `
import net from 'node:net'
import { randomBytes } from 'node:crypto'
const socket = net.connect({ host: process.argv[1], port: Number(process.argv[2]) }, () => {
  socket.end(randomBytes(Number(process.argv[3])))
})
socket.resume()
`

/** The next stdout line of `child`, parsed as JSON. */
async function nextJson (out: AsyncIterator<string>, child: ChildProcess, what: string): Promise<any> {
  const { done, value } = await out.next()
  if (done === true) throw new Error(`${what} ended without output (exit ${child.exitCode})`)
  return JSON.parse(value as string)
}

test('a 20 Mbit/s namespace link carries 4 MiB at between half and 1.2 times its rate', async (t) => {
  const available = await netnsAvailable()
  if (!available.ok) { t.skip(available.reason); return }
  const rateMbit = 20
  const link = await createLimitedLink({ rateMbit })
  t.after(() => link.close())
  const node = process.execPath
  const bytes = 4 * 1024 * 1024

  const sink = link.exec(link.nsB, node, ['--input-type=module', '-e', SINK, link.addrB], { stdio: ['ignore', 'pipe', 'inherit'] })
  const out = createInterface({ input: sink.stdout! })[Symbol.asyncIterator]()
  const { port } = await nextJson(out, sink, 'sink') as { port: number }
  const sender = link.exec(link.nsA, node, ['--input-type=module', '-e', SENDER, link.addrB, String(port), String(bytes)], { stdio: ['ignore', 'ignore', 'inherit'] })
  const result = await nextJson(out, sink, 'sink') as { bytes: number, seconds: number }
  const [senderCode] = await once(sender, 'exit') as [number | null]
  assert.equal(senderCode, 0)

  assert.equal(result.bytes, bytes)
  const mbit = result.bytes * 8 / result.seconds / 1e6
  t.diagnostic(`4 MiB in ${result.seconds.toFixed(3)} s = ${mbit.toFixed(2)} Mbit/s over a ${rateMbit} Mbit/s link`)
  assert.ok(mbit <= 1.2 * rateMbit, `measured ${mbit.toFixed(2)} Mbit/s, above 1.2 × ${rateMbit}`)
  assert.ok(mbit >= 0.5 * rateMbit, `measured ${mbit.toFixed(2)} Mbit/s, below half of ${rateMbit}`)
})

test('close deletes both namespaces and kills what still runs in them', async (t) => {
  const available = await netnsAvailable()
  if (!available.ok) { t.skip(available.reason); return }
  const link = await createLimitedLink({ rateMbit: 5 })
  const names = (): string => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  assert.ok(names().includes(link.nsA) && names().includes(link.nsB), `both namespaces expected in:\n${names()}`)
  const sleeper = link.exec(link.nsA, 'sleep', ['60'])
  const exited = once(sleeper, 'exit')
  assert.throws(() => link.exec('elsewhere', 'true'), /namespace .* expected, got "elsewhere"/)
  await link.close()
  const [, signal] = await exited as [number | null, NodeJS.Signals | null]
  assert.equal(signal, 'SIGKILL')
  assert.ok(!names().includes(link.nsA) && !names().includes(link.nsB), `namespaces left behind:\n${names()}`)
  await link.close()
})

test('bad options are refused with what arrived', async () => {
  await assert.rejects(createLimitedLink({ rateMbit: 0 }), /rateMbit > 0 expected, got 0/)
  await assert.rejects(createLimitedLink({ rateMbit: 1, burstKb: 1 }), /burstKb >= 2 .* got 1/)
  await assert.rejects(createLimitedLink({ rateMbit: 1, latencyMs: -5 }), /latencyMs > 0 expected, got -5/)
})
