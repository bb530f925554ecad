/**
 * Several mesh nodes of one org in this process (the in-process harness of issue 13): each a real
 * data dir (LevelDB index, file blob store, keys) and a real Mesh (node/mesh/mesh.ts) with its
 * block layer and enrollment, over libp2p TCP on 127.0.0.1 with ephemeral ports. No DIMSE, HTTP
 * or CLI process: a founder is made as `peerpacs init` makes it, a member joins through the real
 * enrollment protocol with an invite from a running node, ingests go through the Ingester, a
 * removal writes the op `members remove` writes. Start-up is a fraction of a second per node, so
 * most mesh behaviour is tested in seconds; the multi-process tests (test/helpers/mesh.ts) keep
 * what needs real processes (kill -9, the CLI, netns links).
 *
 * Everything a helper starts is stopped in t.after. Conditions are awaited by polling, never by
 * sleeping a fixed time.
 */
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { decodeInvite } from '../../protocol/invite.ts'
import { generateNodeKey, nodeIdFromPublicKey, publicKeyFromNodeId, type NodeId } from '../../protocol/identity.ts'
import { createEpoch, type Role } from '../../protocol/log/index.ts'
import { Archive } from '../../node/archive/archive.ts'
import { keys } from '../../node/archive/index-layout.ts'
import { Ingester, type IngestResult } from '../../node/archive/ingest.ts'
import { createLogger, silentLogger, type Logger } from '../../node/logging/logger.ts'
import { createKeyring } from '../../node/keys/keyring.ts'
import { siteKeys, writeSteps } from '../../node/members/change.ts'
import { enrollWithInvite } from '../../node/mesh/enroll.ts'
import { Mesh } from '../../node/mesh/mesh.ts'
import { meshParts, type MeshParts } from '../../node/mesh/parts.ts'
import { provider, random } from '../../node/runtime.ts'
import { DATA_DIR_FORMAT, DATA_DIR_VERSION, dataDirLayout, prepareNewDataDir, writeDataDirMeta } from '../../node/store/data-dir.ts'
import { writeJoinedDataDir } from '../../node/store/joined-data-dir.ts'
import { LevelKvStore } from '../../node/store/kv-level.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import { tempDir } from './files.ts'

type Ctx = Pick<TestContext, 'after'>

export interface HarnessNode {
  readonly name: string
  readonly data: string
  readonly nodeId: NodeId
  /** Undefined while stopped. */
  archive: Archive | undefined
  mesh: Mesh | undefined
  parts: MeshParts | undefined
  /** Starts (or restarts) the node on its data dir; `peers` are bootstrap addresses. */
  start (peers?: string[]): Promise<Mesh>
  /** Stops the mesh and closes the archive (the data dir stays). */
  stop (): Promise<void>
}

function logger (name: string): Logger {
  return process.env.PEERPACS_TEST_LOG === '1' ? createLogger({ level: 'debug' }, { node: name }) : silentLogger
}

function node (t: Ctx, name: string, data: string, nodeId: NodeId, bootstrap: string[]): HarnessNode {
  const n: HarnessNode = {
    name,
    data,
    nodeId,
    archive: undefined,
    mesh: undefined,
    parts: undefined,
    start: async (peers = bootstrap) => {
      if (n.mesh !== undefined) return n.mesh
      const log = logger(name)
      const archive = await Archive.open(data, { keys: 'required', passphrase: undefined, provider, random, command: 'test' })
      n.archive = archive
      const parts = await meshParts(archive, log, () => n.mesh?.addresses() ?? [])
      n.parts = parts
      n.mesh = await Mesh.start({ archive, settings: { listen: ['/ip4/127.0.0.1/tcp/0'], peers, mdns: false }, logger: log, blocks: parts.blocks, extras: parts.extras })
      return n.mesh
    },
    stop: async () => {
      const { mesh, archive } = n
      n.mesh = undefined
      n.archive = undefined
      n.parts = undefined
      await mesh?.stop()
      await archive?.close()
    }
  }
  t.after(async () => { await n.stop() })
  return n
}

/** A founder, as `peerpacs init` makes it, started. */
export async function founder (t: Ctx, name = 'A'): Promise<HarnessNode> {
  const data = join(await tempDir(t, `peerpacs-harness-${name}-`), 'data')
  const layout = dataDirLayout(data)
  await prepareNewDataDir(layout)
  const { keyring } = await createKeyring(layout.keysDir, { passphrase: undefined, orgName: 'Harness Practice', provider, random, now: Date.now() })
  const index = await LevelKvStore.open(layout.indexDir, { create: true })
  await index.batch([{ type: 'put', key: keys.owner, value: utf8Encode(keyring.nodeId) }])
  await index.close()
  await writeDataDirMeta(layout, { format: DATA_DIR_FORMAT, version: DATA_DIR_VERSION, nodeId: keyring.nodeId, orgId: keyring.orgId, orgName: 'Harness Practice', created: new Date().toISOString() })
  const n = node(t, name, data, keyring.nodeId, [])
  await n.start()
  return n
}

/** A node that joins with an invite from the running `inviter` (the real enrollment), started. */
export async function join_ (t: Ctx, inviter: HarnessNode, name: string, role: Role = 'site'): Promise<HarnessNode> {
  const mesh = inviter.mesh
  if (mesh === undefined || inviter.parts === undefined) throw new Error(`${inviter.name} is not running: it cannot invite`)
  const level = role === 'backup' ? 'relay' : role === 'site' ? 'write' : 'read'
  const created = await inviter.parts.invites.create({ role, level, scope: 'org', expiresMs: 600_000, addrs: mesh.addresses() })
  const code = decodeInvite(provider, created.code, Date.now())
  const data = join(await tempDir(t, `peerpacs-harness-${name}-`), 'data')
  const layout = dataDirLayout(data)
  await prepareNewDataDir(layout)
  const nodeKey = generateNodeKey(random)
  const enrolled = await enrollWithInvite(code, nodeKey, { provider, timeoutMs: 15_000 })
  const bootstrap = [...new Set([...enrolled.addrs, ...code.addrs])]
  await writeJoinedDataDir(layout, { genesisBytes: enrolled.genesisBytes, nodeKey, passphrase: undefined, bootstrap })
  const n = node(t, name, data, nodeIdFromPublicKey(nodeKey.publicKey), [])
  await n.start()
  return n
}

/** Removes `target` from the org at `by` (the op `peerpacs members remove` writes). */
export async function removeMember (by: HarnessNode, target: HarnessNode): Promise<void> {
  const archive = by.archive
  if (archive === undefined) throw new Error(`${by.name} is not running`)
  const log = await archive.log()
  const state = log.oplog.state
  const member = state.members.get(target.nodeId)
  if (member === undefined) throw new Error(`${target.name} is not a member at ${by.name}`)
  const rotates = member.role === 'site'
  const key = publicKeyFromNodeId(target.nodeId)
  const body = rotates
    ? { member: key, scope: 'org' as const, epoch: createEpoch(archive.provider, archive.random, { org: state.orgId, members: siteKeys(state, target.nodeId), recoveryPublicKey: state.recovery }).body }
    : { member: key, scope: 'org' as const }
  await writeSteps(archive, log, [{ type: 'member.remove', body }], `removing ${target.name}`)
}

export async function ingest (n: HarnessNode, file: Uint8Array): Promise<IngestResult> {
  if (n.archive === undefined) throw new Error(`${n.name} is not running`)
  async function * once (): AsyncIterable<Uint8Array> { yield file }
  return await new Ingester(n.archive).ingest(once(), file.length)
}

/** Ops in the node's log. */
export async function opCount (n: HarnessNode): Promise<number> {
  if (n.archive === undefined) throw new Error(`${n.name} is not running`)
  return (await n.archive.log()).oplog.size
}

export function connectedTo (n: HarnessNode, other: HarnessNode): boolean {
  return n.mesh?.peers().find((p) => p.nodeId === other.nodeId)?.connected === true
}

export function localStudies (n: HarnessNode): number {
  return n.mesh?.studies().filter((s) => s.holding === 'local').length ?? 0
}

export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
