/**
 * The ceiling of the mandated transport stack, for `bench:replicate`: how fast libp2p (TCP +
 * Noise + Yamux, as peerpacs configures it in node/mesh/host.ts) moves N bytes between two
 * processes on this machine over `streams` parallel streams, with nothing of peerpacs on top (no
 * disk, no verification, no index). Whatever the mesh does, it cannot go faster than this.
 *
 *   node bench/libp2p-copy.ts [--bytes 1GB] [--streams 4] [--json]
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../node/mesh/host.ts'
import { parseSize } from '../test/synthetic/cli.ts'

const SELF = fileURLToPath(import.meta.url)
const PROTOCOL = '/peerpacs-bench/copy/1.0.0'
const CHUNK = 64 * 1024

export interface Libp2pCopyResult { bytes: number, streams: number, seconds: number, mbPerSecond: number, peakRssBytes: number }

const maxRss = (): number => process.resourceUsage().maxRSS * 1024

async function receive (total: number): Promise<void> {
  const host = await createHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], gate: () => true })
  let bytes = 0
  let start: bigint | undefined
  await host.handle(PROTOCOL, async (stream) => {
    start ??= process.hrtime.bigint()
    for await (const chunk of stream) {
      bytes += chunk.byteLength
      if (bytes >= total) {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9
        console.log(JSON.stringify({ bytes, seconds, maxRssBytes: maxRss() }))
        setTimeout(() => { void Promise.resolve(host.stop()).then(() => process.exit(0)) }, 100)
      }
    }
  }, { maxInboundStreams: 64 })
  console.log(JSON.stringify({ addr: host.getMultiaddrs()[0]!.toString() }))
}

async function send (addr: string, total: number, streams: number): Promise<void> {
  const host = await createHost({ seed: randomBytes(32), listen: [], gate: () => true })
  const chunk = randomBytes(CHUNK)
  const per = Math.ceil(total / streams)
  await Promise.all(Array.from({ length: streams }, async () => {
    const stream = await host.dialProtocol(multiaddr(addr), PROTOCOL)
    for (let sent = 0; sent < per; sent += CHUNK) {
      if (!stream.send(chunk)) await stream.onDrain()
    }
    await stream.close()
  }))
  console.log(JSON.stringify({ maxRssBytes: maxRss() }))
  await new Promise((resolve) => setTimeout(resolve, 500))
  await host.stop()
}

export async function libp2pCopy ({ bytes, streams = 4 }: { bytes: number, streams?: number }): Promise<Libp2pCopyResult> {
  const per = Math.ceil(bytes / streams / CHUNK) * CHUNK
  const total = per * streams
  const receiver = spawn(process.execPath, [SELF, '--role', 'receive', '--bytes', String(total)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: receiver.stdout! })[Symbol.asyncIterator]()
  const { addr } = JSON.parse((await lines.next()).value as string) as { addr: string }
  const sender = spawn(process.execPath, [SELF, '--role', 'send', '--addr', addr, '--bytes', String(total), '--streams', String(streams)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let senderOut = ''
  sender.stdout!.setEncoding('utf8').on('data', (d: string) => { senderOut += d })
  const done = JSON.parse((await lines.next()).value as string) as { bytes: number, seconds: number, maxRssBytes: number }
  await Promise.all([once(receiver, 'exit'), once(sender, 'exit')])
  const senderRss = (JSON.parse(senderOut.trim().split('\n').pop() ?? '{}') as { maxRssBytes?: number }).maxRssBytes ?? 0
  return { bytes: done.bytes, streams, seconds: done.seconds, mbPerSecond: done.bytes / 1e6 / done.seconds, peakRssBytes: Math.max(done.maxRssBytes, senderRss) }
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({ options: { role: { type: 'string' }, addr: { type: 'string' }, bytes: { type: 'string', default: '1GB' }, streams: { type: 'string', default: '4' }, json: { type: 'boolean' } } })
  const bytes = /^\d+$/.test(values.bytes!) ? Number(values.bytes) : parseSize(values.bytes!)
  if (values.role === 'receive') await receive(bytes)
  else if (values.role === 'send') await send(values.addr!, bytes, Number(values.streams))
  else {
    const r = await libp2pCopy({ bytes, streams: Number(values.streams) })
    console.log(values.json === true ? JSON.stringify(r) : `libp2p (TCP+Noise+Yamux), ${r.streams} streams: ${r.mbPerSecond.toFixed(1)} MB/s, ${r.seconds.toFixed(2)} s, peak RSS ${(r.peakRssBytes / 1e6).toFixed(0)} MB`)
  }
}
