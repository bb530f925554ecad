/**
 * A misbehaving member, run as its own process by the mesh tests: it opens a (stopped) member's
 * data dir, so it holds a real member key and passes the victim's gater, then breaks the
 * protocol in one way and reports, as one JSON line on stdout, whether the victim hung up.
 *
 *   node test/helpers/rogue-peer.ts --data DIR --target MULTIADDR --kind KIND
 *
 * KIND:
 *   garbage    a log-sync frame of random bytes
 *   oversized  a log-sync frame announcing 100 MiB
 *   forged-op  a push of a well-formed op of its own whose signature byte is flipped
 *   bad-block  signs a study whose one blob it claims, serves the log honestly, and answers
 *              the victim's block requests with bytes that do not match the block hashes
 *   stranger   no data dir: a fresh key that is no member; it dials and tries to open a
 *              log-sync stream, and reports whether it could
 */
import { parseArgs } from 'node:util'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Archive } from '../../node/archive/archive.ts'
import { createHost } from '../../node/mesh/host.ts'
import { handleLogSync } from '../../node/mesh/log-sync.ts'
import { BLOCKS_PROTOCOL, decodeRequest, encodeBlock, MAX_REQUEST_FRAME } from '../../protocol/wire/blocks.ts'
import { frameStream } from '../../node/mesh/blocks/frame-stream.ts'
import { provider, random } from '../../node/runtime.ts'
import { blobIdOf, BLOCK_SIZE } from '../../protocol/blob-id.ts'
import { createOp } from '../../protocol/log/index.ts'
import { encodeLogSync, LOG_PROTOCOL } from '../../protocol/wire/log-sync.ts'
import { newStudyId } from '../../protocol/study-id.ts'
import { fromHex } from '../../protocol/encoding.ts'

const { values } = parseArgs({ options: { data: { type: 'string' }, target: { type: 'string' }, kind: { type: 'string' } } })
const kind = values.kind!
const target = multiaddr(values.target!)

if (kind === 'stranger') {
  const host = await createHost({ seed: random(32), listen: [], gate: () => true })
  const report: Record<string, unknown> = { kind, peerId: host.peerId.toString() }
  try {
    const stream = await host.dialProtocol(target, LOG_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    report.streamOpened = true
    stream.abort(new Error('done'))
  } catch (error) {
    report.streamOpened = false
    report.error = `${(error as Error).name}: ${(error as Error).message}`
  }
  process.stdout.write(JSON.stringify(report) + '\n')
  await host.stop()
  process.exit(0)
}

const archive = await Archive.open(values.data!, { keys: 'required', passphrase: undefined, provider, random, command: 'rogue' })
const log = await archive.log()

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return new Uint8Array(out)
}
function frame (body: Uint8Array): Uint8Array {
  const prefix = varint(body.length)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix)
  out.set(body, prefix.length)
  return out
}

const host = await createHost({ seed: archive.keyring.nodeKey.secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate: () => true })
const hooks = {
  log,
  orgId: log.oplog.orgId,
  mayRead: () => true,
  received: () => {},
  violation: () => {},
  synced: () => {}
}
await host.handle(LOG_PROTOCOL, handleLogSync(hooks))
let blockRequests = 0
if (kind === 'bad-block') {
  // Two blocks' worth of a blob nobody holds: the victim can only ask this peer for it.
  const blocks = [random(BLOCK_SIZE), random(1000)]
  const hashes = new Uint8Array(64)
  hashes.set(provider.sha256(blocks[0]!), 0)
  hashes.set(provider.sha256(blocks[1]!), 32)
  const size = BLOCK_SIZE + 1000
  const blob = { id: blobIdOf(provider, size, BLOCK_SIZE, hashes), size, blockSize: BLOCK_SIZE, blockHashes: hashes }
  const study = newStudyId(random)
  const epoch = archive.keyring.org.orgId
  await log.append('study.register', { study, epoch: fromHex(epoch), wrappedKey: random(72), sealed: random(100) })
  await log.append('study.instance', { study, blob, sealed: random(100) })
  await host.handle(BLOCKS_PROTOCOL, async (stream: Stream) => {
    const frames = frameStream(stream, { maxFrameBytes: MAX_REQUEST_FRAME, maxUnreadBytes: 64 * 1024 })
    for (;;) {
      const next = await frames.read(30_000)
      if (next === undefined) return
      const request = decodeRequest(next)
      for (const index of request.indexes) {
        blockRequests++
        await frames.write([encodeBlock(index, random(index === 0 ? BLOCK_SIZE : 1000))], 30_000)
      }
    }
  })
}

const connection = await host.dial(target, { signal: AbortSignal.timeout(10_000) })
const victim = connection.remotePeer
let closed = false
host.addEventListener('peer:disconnect', (event) => { if (event.detail.equals(victim)) closed = true })

async function sendRaw (bytes: Uint8Array): Promise<void> {
  const stream = await host.dialProtocol(victim, LOG_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  stream.send(bytes)
}

if (kind === 'garbage') await sendRaw(frame(random(200)))
else if (kind === 'oversized') {
  const body = new Uint8Array(4096)
  const prefix = varint(100 * 1024 * 1024)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix)
  out.set(body, prefix.length)
  await sendRaw(out)
} else if (kind === 'forged-op') {
  const op = createOp(provider, archive.keyring.nodeKey, {
    org: log.oplog.orgId, seq: log.oplog.nextSeq(archive.keyring.nodeKey.publicKey), parents: log.oplog.heads(), type: 'audit.event',
    body: { epoch: fromHex(archive.keyring.org.orgId), sealed: random(64) }, time: Date.now()
  } as never)
  const forged = new Uint8Array(op.bytes)
  forged[forged.length - 1] = forged[forged.length - 1]! ^ 0x01
  await sendRaw(frame(encodeLogSync({ t: 'push', ops: [forged] })))
} else if (kind !== 'bad-block') throw new Error(`unknown --kind ${kind}`)

const until = Date.now() + 30_000
while (!closed && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100))
process.stdout.write(JSON.stringify({ kind, peerId: host.peerId.toString(), disconnected: closed, blockRequests }) + '\n')
await host.stop()
await archive.close()
process.exit(0)
