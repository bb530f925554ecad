/**
 * Enrollment in one process, over real libp2p TCP connections (node/mesh/enroll.ts, invites.ts):
 * a founder data dir made by `peerpacs init`'s code, its archive, an InviteStore and a host whose
 * gate admits an unused invite's PeerId or an active member. A joiner enrolls with the code: it
 * gets the org's genesis, the founder's log holds member.add + epoch.start whose history hands the
 * joiner the genesis epoch key (it reads a study sealed before it joined). A used code is refused
 * at the connection (the enroll handler never runs), so is an expired one; an altered code fails
 * locally; a request not signed by the key it names is refused and nothing is written; malformed,
 * oversized and missing requests get a typed refusal and leave the node working.
 * `init --join` end to end: a data dir that opens; damaged or unreachable codes leave nothing.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { PeerId, StreamHandler } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeCanonical } from '../../protocol/canonical.ts'
import { decodeEnrollAnswer, encodeEnrollRequest, signEnrollRequest, type EnrollAnswer } from '../../protocol/wire/enroll.ts'
import { utf8Decode } from '../../protocol/bytes.ts'
import { generateNodeKey, nodeIdFromPublicKey, x25519SecretKey, type NodeKeyPair } from '../../protocol/identity.ts'
import { decodeInvite, encodeInvite, InviteDamagedError, InviteExpiredError, type InviteCode } from '../../protocol/invite.ts'
import { isActiveMember, openEpoch, openEpochHistory, type EpochBody } from '../../protocol/log/index.ts'
import { secretboxOpen } from '../../protocol/secretbox.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { Archive } from '../../node/archive/archive.ts'
import { decodeStudyAttributes } from '../../node/archive/index-layout.ts'
import { recordKeyOf, studyKeyAad, studyManifestAad, unwrapStudyKey } from '../../node/archive/study-keys.ts'
import type { CommandSpec, NodeHandle } from '../../node/cli/command.ts'
import { init } from '../../node/cli/commands/init.ts'
import { invite } from '../../node/cli/commands/invite.ts'
import { BOOTSTRAP_KEY } from '../../node/cli/run/init-join.ts'
import { COMMANDS } from '../../node/cli/commands/index.ts'
import { execute } from '../../node/cli/execute.ts'
import { Output } from '../../node/cli/output.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { createJoinedKeyring } from '../../node/keys/keyring.ts'
import { ENROLL_PROTOCOL, EnrollRefusedError, enrollWithInvite, handleEnroll, InviterUnreachableError, InviteRefusedError } from '../../node/mesh/enroll.ts'
import { createHost, nodeIdOfPeer, type Host } from '../../node/mesh/host.ts'
import { InviteStore } from '../../node/mesh/invites.ts'
import { provider, random } from '../../node/runtime.ts'
import type { OrgId } from '../../protocol/genesis.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { tempDir } from '../helpers/files.ts'
import { build } from '../unit/node/helpers/dicom.ts'
import { ingest } from '../unit/node/helpers/archive.ts'

const TIMEOUT = 5000

/** Runs a CLI command in this process; returns its exit code and JSON records. */
async function cli (spec: CommandSpec, argv: string[], node?: NodeHandle & { dataDir: string }): Promise<{ exit: number, records: Array<Record<string, any>>, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const sink = (append: (t: string) => void) => ({ write: (text: string) => { append(text); return true }, isTTY: false, columns: 0 }) as unknown as NodeJS.WriteStream
  const out = new Output({ json: argv.includes('--json'), stdout: sink((t) => { stdout += t }), stderr: sink((t) => { stderr += t }) })
  const exit = await execute(spec, argv, { out, env: {}, commands: COMMANDS, writeHelp: () => {}, ...(node === undefined ? {} : { node }) })
  out.done()
  return { exit, records: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)), stdout, stderr }
}

interface Inviter {
  archive: Archive
  invites: InviteStore
  host: Host
  addrs: string[]
  /** How many enroll streams reached the handler. */
  handled: () => number
  clock: { now: number }
  studyId: StudyId
}

/** A founder node: init, a study ingested under the genesis epoch, invites, a listening host. */
async function inviter (t: TestContext): Promise<Inviter> {
  const dir = join(await tempDir(t, 'peerpacs-enroll-founder-'), 'data')
  const made = await cli(init, ['--data', dir, '--name', 'Praxis Nord', '--json'])
  assert.equal(made.exit, 0, made.stderr)
  const archive = await Archive.open(dir, { keys: 'required', passphrase: undefined, provider, random, command: 'test' })
  t.after(async () => { await archive.close() })
  const stored = await ingest(archive, build())
  const studyId = stored.studyId
  // Its study.instances op now, not 250 ms later in the middle of a test counting ops.
  await archive.unlogged.flushAll()
  const clock = { now: Date.now() }
  const invites = await InviteStore.open(archive, { now: () => clock.now })
  const log = await archive.log()
  const gate = (peer: PeerId): boolean => {
    if (invites.admits(peer)) return true
    const id = nodeIdOfPeer(peer)
    return id !== undefined && isActiveMember(log.oplog.state, id)
  }
  const host = await createHost({ seed: archive.keyring.nodeKey.secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate })
  t.after(async () => { await host.stop() })
  let count = 0
  const handler = handleEnroll({ archive, invites, addresses: () => host.getMultiaddrs().map(String), log: silentLogger, readTimeoutMs: 500 })
  const counted: StreamHandler = async (stream, connection) => { count++; await handler(stream, connection) }
  await host.handle(ENROLL_PROTOCOL, counted)
  return { archive, invites, host, addrs: host.getMultiaddrs().map(String), handled: () => count, clock, studyId }
}

async function newInvite (i: Inviter, role: 'site' | 'backup' | 'specialist' = 'site', expiresMs = 3600_000): Promise<{ text: string, code: InviteCode }> {
  const level = role === 'backup' ? 'relay' : role === 'site' ? 'write' : 'read'
  const { code: text } = await i.invites.create({ role, level, scope: 'org', expiresMs, addrs: i.addrs })
  return { text, code: decodeInvite(provider, text, i.clock.now) }
}

async function rejectsWith (promise: Promise<unknown>, cls: abstract new (...a: never[]) => PeerpacsError, pattern: RegExp): Promise<PeerpacsError> {
  let caught: unknown
  try { await promise } catch (error) { caught = error }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${(caught as Error)?.name}: ${(caught as Error)?.message}`)
  assert.match(caught.message, pattern)
  return caught
}

test('a site joins: genesis matches, member.add + epoch.start written, the history yields the genesis key (an old study opens)', async (t) => {
  const i = await inviter(t)
  const log = await i.archive.log()
  const before = log.oplog.size
  const { code } = await newInvite(i, 'site')
  const nodeKey = generateNodeKey(random)
  const enrolled = await enrollWithInvite(code, nodeKey, { provider, timeoutMs: TIMEOUT })
  assert.equal(i.handled(), 1)
  const joined = await createJoinedKeyring(await tempDir(t, 'peerpacs-enroll-joiner-'), { genesisBytes: enrolled.genesisBytes, nodeKey, passphrase: undefined, provider, random })
  assert.equal(joined.orgId, i.archive.keyring.orgId, 'the genesis is the org the code names')
  assert.ok(enrolled.addrs.length > 0 && enrolled.addrs.every((a) => a.endsWith(`/p2p/${i.archive.keyring.nodeId}`)), enrolled.addrs.join(' '))

  // The founder's log: member.add for the joiner's node key, then an epoch wrapped to it.
  const added = log.ops().slice(before).filter((op) => op.type !== 'audit.event')
  assert.deepEqual(added.map((op) => op.type), ['member.add', 'epoch.start'])
  const member = log.oplog.state.members.get(nodeIdFromPublicKey(nodeKey.publicKey))
  assert.equal(member?.role, 'site')
  assert.equal(member?.levels.get('org'), 'write')
  assert.ok(isActiveMember(log.oplog.state, nodeIdFromPublicKey(nodeKey.publicKey)))
  assert.ok(log.ops().slice(before).some((op) => op.type === 'audit.event'), 'the admission is audited')
  const epoch = added[1]!.body as EpochBody
  const epochKey = openEpoch(provider, epoch, i.archive.keyring.orgId, { member: nodeKey.publicKey, secretKey: x25519SecretKey(nodeKey.secretKey) })
  const history = openEpochHistory(provider, epoch, i.archive.keyring.orgId, epochKey)
  assert.deepEqual(history.map((e) => e.id), [i.archive.keyring.orgId])
  assert.deepEqual(history[0]!.key, i.archive.keyring.epochKey(i.archive.keyring.orgId))

  // The joiner's keyring learns both from the log, and opens the study sealed under the first epoch.
  joined.learnEpochs(log.oplog.state)
  assert.equal(joined.currentEpoch, added[1]!.idHex)
  const register = log.ops().find((op) => op.type === 'study.register')!
  const body = register.body as { study: StudyId, epoch: Uint8Array, wrappedKey: Uint8Array, sealed: Uint8Array }
  const epochId = Buffer.from(body.epoch).toString('hex')
  assert.equal(epochId, i.archive.keyring.orgId, 'the study was sealed under the genesis epoch')
  const orgId = joined.orgId as OrgId
  const dataKey = unwrapStudyKey(provider, joined.epochKey(epochId), body.wrappedKey, studyKeyAad(orgId, body.study, epochId))
  const attributes = decodeStudyAttributes(secretboxOpen(provider, recordKeyOf(dataKey), body.sealed, studyManifestAad(orgId, body.study)))
  assert.equal(attributes.studyInstanceUid, (await i.archive.study(i.studyId)).attributes.studyInstanceUid)

  // The invite is used: listed so, and the same code is refused at the connection (no handler run).
  const record = i.invites.list().find((r) => r.used !== undefined)
  assert.equal(record?.usedBy, nodeIdFromPublicKey(nodeKey.publicKey))
  const size = log.oplog.size
  await rejectsWith(enrollWithInvite(code, generateNodeKey(random), { provider, timeoutMs: TIMEOUT }), InviteRefusedError, /refused the connection: the invite was already used/)
  assert.equal(i.handled(), 1, 'the enroll handler never ran for the used invite')
  assert.equal(log.oplog.size, size, 'nothing written')
})

test('a backup joins: member.add only (no epoch key for it)', async (t) => {
  const i = await inviter(t)
  const log = await i.archive.log()
  const before = log.oplog.size
  const { code } = await newInvite(i, 'backup')
  const nodeKey = generateNodeKey(random)
  await enrollWithInvite(code, nodeKey, { provider, timeoutMs: TIMEOUT })
  assert.deepEqual(log.ops().slice(before).filter((op) => op.type !== 'audit.event').map((op) => op.type), ['member.add'])
  assert.equal(log.oplog.state.members.get(nodeIdFromPublicKey(nodeKey.publicKey))?.role, 'backup')
})

test('an expired invite is refused at the connection; locally, the code says it expired', async (t) => {
  const i = await inviter(t)
  const { text, code } = await newInvite(i, 'site', 60_000)
  i.clock.now += 61_000 // the inviter's clock passes the expiry
  await rejectsWith(enrollWithInvite(code, generateNodeKey(random), { provider, timeoutMs: TIMEOUT }), InviteRefusedError, /refused the connection/)
  assert.equal(i.handled(), 0)
  assert.throws(() => decodeInvite(provider, text, code.expires + 1), InviteExpiredError)
})

test('an altered code is INVITE_DAMAGED locally, before anything is dialled', async (t) => {
  const i = await inviter(t)
  const { text } = await newInvite(i)
  const at = 40
  const altered = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
  assert.throws(() => decodeInvite(provider, altered, i.clock.now), (e: unknown) => e instanceof InviteDamagedError && e.code === 'INVITE_DAMAGED')
  assert.equal(i.handled(), 0)
})

test('a request not signed by the node key it names is refused; no member op, the invite still unused', async (t) => {
  const i = await inviter(t)
  const log = await i.archive.log()
  const size = log.oplog.size
  const { code } = await newInvite(i)
  const claimed = generateNodeKey(random)
  const forged: NodeKeyPair = { secretKey: generateNodeKey(random).secretKey, publicKey: claimed.publicKey }
  const error = await rejectsWith(enrollWithInvite(code, forged, { provider, timeoutMs: TIMEOUT }), EnrollRefusedError, /not signed by the node key it names/)
  assert.equal((error as EnrollRefusedError).remoteCode, 'ENROLL_BAD_SIGNATURE')
  assert.equal(i.handled(), 1)
  assert.equal(log.oplog.size, size, 'no op written')
  assert.equal(log.oplog.state.members.get(nodeIdFromPublicKey(claimed.publicKey)), undefined)
  assert.ok(i.invites.list().every((r) => r.used === undefined), 'a bad request does not use the invite up')
  // The holder of the code can still join properly.
  await enrollWithInvite(code, generateNodeKey(random), { provider, timeoutMs: TIMEOUT })
})

test('init --join: a data dir that opens, with the inviter as bootstrap; bad codes and unreachable inviters leave nothing', async (t) => {
  const i = await inviter(t)
  const root = await tempDir(t, 'peerpacs-enroll-join-')
  const { text } = await newInvite(i)
  const dir = join(root, 'joined')
  const r = await cli(init, ['--join', text, '--data', dir, '--json'])
  assert.equal(r.exit, 0, r.stderr)
  const record = r.records.find((x) => x.type === 'init')!
  assert.equal(record.joined, true)
  assert.equal(record.orgId, i.archive.keyring.orgId)
  assert.equal(record.orgName, 'Praxis Nord')
  assert.equal(record.recoveryKey, undefined, 'no recovery key on join')
  const meta = JSON.parse(await readFile(join(dir, 'peerpacs.json'), 'utf8'))
  assert.deepEqual([meta.nodeId, meta.orgId, meta.orgName], [record.nodeId, i.archive.keyring.orgId, 'Praxis Nord'])
  const joined = await Archive.open(dir, { keys: 'required', passphrase: undefined, provider, random, command: 'test' })
  try {
    const bootstrap = JSON.parse(utf8Decode((await joined.kv.get([...BOOTSTRAP_KEY]))!)) as string[]
    assert.ok(bootstrap.includes(i.addrs[0]!), bootstrap.join(' '))
    assert.equal(joined.keyring.hasEpochKey, false, 'keys come with the log')
    // Given the founder's log, it learns its epochs (what the mesh will do at start).
    const received = await (await joined.log()).receive((await i.archive.log()).ops().filter((op) => op.type !== 'org.genesis').map((op) => op.bytes))
    assert.equal(received.damaged.length, 0)
    joined.keyring.learnEpochs((await joined.log()).oplog.state)
    assert.deepEqual(joined.keyring.epochKey(i.archive.keyring.orgId), i.archive.keyring.epochKey(i.archive.keyring.orgId))
  } finally {
    await joined.close()
  }

  // A damaged code: exit 2, nothing written (the folder is not even made).
  const damagedDir = join(root, 'damaged')
  const damaged = await cli(init, ['--join', text.slice(0, -3), '--data', damagedDir, '--json'])
  assert.equal(damaged.exit, 2, damaged.stderr)
  assert.equal(damaged.records.find((x) => x.type === 'error')?.code, 'INVITE_DAMAGED')
  await assert.rejects(stat(damagedDir), /ENOENT/)
  // A used code: refused; the data dir (which existed, empty) is left as it was.
  const usedDir = join(root, 'used')
  const { mkdir } = await import('node:fs/promises')
  await mkdir(usedDir)
  const used = await cli(init, ['--join', text, '--data', usedDir, '--json'])
  assert.equal(used.records.find((x) => x.type === 'error')?.code, 'INVITE_REFUSED', used.stderr)
  assert.deepEqual(await readdir(usedDir), [])
  // An inviter that cannot be reached: says which addresses were tried.
  const nowhere = encodeInvite(provider, { ...decodeInvite(provider, (await newInvite(i)).text, i.clock.now), addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${i.archive.keyring.nodeId}`] })
  const lostDir = join(root, 'lost')
  const lost = await cli(init, ['--join', nowhere, '--data', lostDir, '--json'])
  const error = lost.records.find((x) => x.type === 'error')
  assert.equal(error?.code, InviterUnreachableError.code, lost.stderr)
  assert.match(error?.message, /cannot reach the inviting node .*127\.0\.0\.1\/tcp\/1\/p2p\/.*connection refused/)
  await assert.rejects(stat(lostDir), /ENOENT/)
})

type LengthPrefixed = ReturnType<typeof lpStream>

/** Opens an enroll stream to the inviter as `seed`'s key, sends what `send` writes, returns the answer (or the read error). */
async function rawExchange (i: Inviter, seed: Uint8Array, send: (lp: LengthPrefixed) => Promise<void>): Promise<EnrollAnswer | Error> {
  const host = await createHost({ seed, listen: [], gate: () => true })
  try {
    const stream = await host.dialProtocol(multiaddr(i.addrs[0]!), ENROLL_PROTOCOL, { signal: AbortSignal.timeout(TIMEOUT) })
    const lp = lpStream(stream, { maxDataLength: 1 << 20 })
    await send(lp)
    try {
      return decodeEnrollAnswer((await lp.read({ signal: AbortSignal.timeout(TIMEOUT) })).subarray())
    } catch (error) {
      return error as Error
    }
  } finally {
    await host.stop()
  }
}

test('malformed, oversized or missing requests get a typed refusal; a member that is no invite is refused; the node carries on', async (t) => {
  const i = await inviter(t)
  const log = await i.archive.log()
  const size = log.oplog.size
  const { code } = await newInvite(i)
  const cases: Array<[string, (lp: LengthPrefixed) => Promise<void>, string]> = [
    ['not the request', async (lp) => { await lp.write(encodeCanonical({ t: 'hello', org: 'x' })) }, 'ENROLL_PROTOCOL'],
    ['not CBOR', async (lp) => { await lp.write(new Uint8Array([0xff, 0xfe, 0xfd])) }, 'ENROLL_PROTOCOL'],
    ['short node key', async (lp) => { await lp.write(encodeCanonical({ t: 'enroll', node: new Uint8Array(31), sig: new Uint8Array(64) })) }, 'ENROLL_PROTOCOL'],
    ['a frame over the limit', async (lp) => { await lp.write(new Uint8Array(10_000)) }, 'MESH_FRAME'],
    ['nothing sent (read timeout)', async () => {}, 'MESH_FRAME']
  ]
  for (const [what, send, expected] of cases) {
    const reply = await rawExchange(i, code.secret, send)
    assert.ok(!(reply instanceof Error), `${what}: ${String(reply)}`)
    assert.equal(reply.t, 'refused', what)
    assert.equal((reply as { code: string }).code, expected, what)
  }
  assert.equal(log.oplog.size, size, 'nothing written')
  assert.ok(i.invites.list().every((r) => r.used === undefined), 'the invite is not used up by bad requests')
  // The node carries on: the same code still enrolls a node, which is then a member. (After a
  // pause: libp2p refuses more than 5 inbound connections a second from one host.)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const nodeKey = generateNodeKey(random)
  await enrollWithInvite(code, nodeKey, { provider, timeoutMs: TIMEOUT })
  // That member may connect (the gate admits members), but the enroll protocol is for invites only.
  const reply = await rawExchange(i, nodeKey.secretKey, async (lp) => { await lp.write(encodeEnrollRequest(signEnrollRequest(provider, nodeKey, i.archive.keyring.orgId, nodeKey.publicKey))) })
  assert.ok(!(reply instanceof Error), String(reply))
  assert.deepEqual([reply.t, (reply as { code: string }).code], ['refused', 'ENROLL_NOT_INVITE'])
})

test('peerpacs invite: inside the running node it prints a code that enrolls, and audits it; without the node it says it needs it', async (t) => {
  const i = await inviter(t)
  const node = { archive: i.archive, pacs: undefined as never, dataDir: i.archive.layout.root, mesh: { invites: i.invites, addresses: () => i.addrs } }
  const log = await i.archive.log()
  const audits = log.ops().filter((op) => op.type === 'audit.event').length
  const json = await cli(invite, ['--role', 'specialist', '--expires', '2h', '--json'], node)
  assert.equal(json.exit, 0, json.stderr)
  const record = json.records.find((r) => r.type === 'invite')!
  assert.deepEqual([record.role, record.level, record.scope], ['specialist', 'read', 'org'])
  const code = decodeInvite(provider, record.code, Date.now())
  assert.equal(code.expires, Date.parse(record.expires))
  assert.ok(Math.abs(code.expires - Date.now() - 2 * 3600_000) < 60_000)
  assert.ok(log.ops().filter((op) => op.type === 'audit.event').length > audits, 'the invite is audited')
  const nodeKey = generateNodeKey(random)
  await enrollWithInvite(code, nodeKey, { provider, timeoutMs: TIMEOUT })
  assert.equal(log.oplog.state.members.get(nodeIdFromPublicKey(nodeKey.publicKey))?.role, 'specialist')

  const text = await cli(invite, ['--role', 'site'], node)
  assert.equal(text.exit, 0, text.stderr)
  assert.match(text.stdout, /Invite for a site node \(level write in the org\), valid until \d{4}-/)
  assert.match(text.stdout, /peerpacs init --join ppi1_[A-Za-z0-9_-]+/)

  for (const [argv, pattern] of [[['--role', 'king'], /not a role/], [['--role', 'site', '--expires', '3 weeks'], /not a validity/], [['--role', 'backup', '--level', 'write'], /backup is invited at org scope with level relay/]] as const) {
    const bad = await cli(invite, [...argv, '--json'], node)
    assert.equal(bad.exit, 2, bad.stderr)
    assert.match(bad.records.find((r) => r.type === 'error')!.message, pattern)
  }
  const stopped = await cli(invite, ['--role', 'site', '--json'])
  assert.equal(stopped.exit, 3)
  const error = stopped.records.find((r) => r.type === 'error')!
  assert.equal(error.code, 'NODE_NOT_RUNNING')
  assert.match(error.message, /invite needs the running node \(`peerpacs start`\): the new node connects to it/)
})
