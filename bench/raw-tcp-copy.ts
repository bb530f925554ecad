/**
 * The reference for `bench:replicate`: how fast plain TCP moves N bytes from one node process to
 * another on this machine, with nothing on top (no libp2p, no encryption, no disk). Two child
 * processes, as two peerpacs nodes would be; this process only starts them and reads their
 * reports. The data is random bytes (a 1 MiB block of them, sent again and again).
 *
 *   node bench/raw-tcp-copy.ts [--bytes 1GB] [--host 127.0.0.1] [--json]
 *
 * Time runs in the receiver from accepting the connection to the sender's end of stream. Peak RSS
 * is each child's own process.resourceUsage().maxRSS, reported when it is done.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseSize } from '../test/synthetic/cli.ts'

export interface RawTcpCopyResult {
  bytes: number
  seconds: number
  /** 10^6 bytes per second. */
  mbPerSecond: number
  /** The larger of the two children's peak RSS. */
  peakRssBytes: number
  senderRssBytes: number
  receiverRssBytes: number
}

const SELF = fileURLToPath(import.meta.url)
const BLOCK = 1 << 20

const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024

/** Child role: accepts one connection, counts it to the end, prints the figures. */
async function receive (host: string): Promise<void> {
  const server = net.createServer((socket) => {
    const start = process.hrtime.bigint()
    let bytes = 0
    socket.on('data', (d: Buffer) => { bytes += d.length })
    socket.on('end', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      console.log(JSON.stringify({ bytes, seconds, maxRssBytes: maxRssBytes() }))
      socket.end()
      server.close()
    })
  })
  server.listen(0, host)
  await once(server, 'listening')
  console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port }))
}

/** Child role: connects and writes `bytes` random bytes as fast as the socket takes them. */
async function send (host: string, port: number, bytes: number): Promise<void> {
  const block = randomBytes(BLOCK)
  const socket = net.connect({ host, port })
  await once(socket, 'connect')
  let sent = 0
  const pump = (): void => {
    while (sent < bytes) {
      const n = Math.min(BLOCK, bytes - sent)
      sent += n
      if (!socket.write(n === BLOCK ? block : block.subarray(0, n))) { socket.once('drain', pump); return }
    }
    socket.end()
  }
  pump()
  socket.resume()
  await once(socket, 'close')
  console.log(JSON.stringify({ maxRssBytes: maxRssBytes() }))
}

function child (args: string[]): { process: ChildProcess, next: () => Promise<Record<string, number>> } {
  const proc = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]()
  return {
    process: proc,
    next: async () => {
      const { done, value } = await lines.next()
      if (done === true) {
        if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'exit')
        throw new Error(`raw tcp copy: child ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) without a report`)
      }
      return JSON.parse(value as string) as Record<string, number>
    }
  }
}

export async function rawTcpCopy ({ bytes, host = '127.0.0.1' }: { bytes: number, host?: string }): Promise<RawTcpCopyResult> {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`raw tcp copy: a positive whole number of bytes expected, got ${bytes}`)
  const receiver = child(['--role', 'receiver', '--host', host])
  let sender: ReturnType<typeof child> | undefined
  try {
    const { port } = await receiver.next()
    sender = child(['--role', 'sender', '--host', host, '--port', String(port), '--bytes', String(bytes)])
    const received = await receiver.next()
    const sent = await sender.next()
    if (received.bytes !== bytes) throw new Error(`raw tcp copy: ${bytes} bytes sent, the receiver counted ${received.bytes}`)
    const seconds = received.seconds!
    return {
      bytes,
      seconds,
      mbPerSecond: bytes / 1e6 / seconds,
      peakRssBytes: Math.max(sent.maxRssBytes!, received.maxRssBytes!),
      senderRssBytes: sent.maxRssBytes!,
      receiverRssBytes: received.maxRssBytes!
    }
  } catch (error) {
    // A child that failed to report may still run: end both, as they are ours.
    for (const c of [receiver, sender]) c?.process.kill('SIGKILL')
    throw error
  } finally {
    for (const c of [receiver, sender]) {
      if (c !== undefined && c.process.exitCode === null && c.process.signalCode === null) await once(c.process, 'exit')
    }
  }
}

if (import.meta.main && !process.env['NODE_TEST_CONTEXT']) {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' },
      bytes: { type: 'string', default: '1GB' }, json: { type: 'boolean' }
    }
  })
  const host = values.host!
  if (values.role === 'receiver') await receive(host)
  else if (values.role === 'sender') await send(host, Number(values.port), Number(values.bytes))
  else {
    let bytes: number
    try { bytes = parseSize(values.bytes!) } catch { throw new Error(`--bytes: a number of bytes or e.g. 100MB, 1GB expected, got ${JSON.stringify(values.bytes)}`) }
    const r = await rawTcpCopy({ bytes, host })
    if (values.json === true) console.log(JSON.stringify(r))
    else {
      console.log(`raw TCP copy, process to process over ${host}: ${(r.bytes / 1e6).toFixed(0)} MB in ${r.seconds.toFixed(2)} s, ` +
        `${r.mbPerSecond.toFixed(0)} MB/s, peak RSS sender ${(r.senderRssBytes / 1e6).toFixed(0)} MB, receiver ${(r.receiverRssBytes / 1e6).toFixed(0)} MB`)
    }
  }
}
