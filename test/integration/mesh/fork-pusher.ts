/**
 * A member that forks, run as its own process by fork-alert.test.ts: it opens a (stopped)
 * member's data dir, so it holds a real member key, signs two different ops at its next seq
 * (both on the same parents) and pushes both to the target in one push stream. Prints one JSON
 * line: the member's node id, the seq and the two op ids.
 *
 *   node test/integration/mesh/fork-pusher.ts --data DIR --target MULTIADDR
 */
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { Archive } from '../../../node/archive/archive.ts'
import { createHost } from '../../../node/mesh/host.ts'
import { pushOverStream } from '../../../node/mesh/log-sync.ts'
import { provider, random } from '../../../node/runtime.ts'
import { createOp, type SignedOp } from '../../../protocol/log/index.ts'
import { LOG_PROTOCOL } from '../../../protocol/wire/log-sync.ts'

const { values } = parseArgs({ options: { data: { type: 'string' }, target: { type: 'string' } } })
const archive = await Archive.open(values.data!, { keys: 'required', passphrase: undefined, provider, random, command: 'fork-pusher' })
const log = await archive.log()
const key = archive.keyring.nodeKey
const seq = log.oplog.nextSeq(key.publicKey)
const parents = log.oplog.heads()
const ops = ['/ip4/10.9.9.1/tcp/1', '/ip4/10.9.9.2/tcp/1'].map((address) => createOp(provider, key, {
  org: log.oplog.orgId, seq, parents, type: 'member.addresses', body: { addresses: [address] }, time: Date.now()
} as never) as unknown as SignedOp)

const host = await createHost({ seed: key.secretKey, listen: [], gate: () => true })
const connection = await host.dial(multiaddr(values.target!), { signal: AbortSignal.timeout(10_000) })
await pushOverStream(await host.dialProtocol(connection.remotePeer, LOG_PROTOCOL, { signal: AbortSignal.timeout(10_000) }), ops.map((op) => op.bytes))
process.stdout.write(JSON.stringify({ nodeId: archive.keyring.nodeId, seq, ops: ops.map((op) => op.idHex) }) + '\n')
await new Promise((resolve) => setTimeout(resolve, 500))
await host.stop()
await archive.close()
process.exit(0)
