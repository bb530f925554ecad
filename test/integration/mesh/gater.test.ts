/**
 * Only members talk (invariant 6). A node of another org, and a member removed by the admin,
 * dial site A: A refuses both at the connection gater, after the Noise handshake and before any
 * protocol stream, so no handler of A ever runs for them (A counts inbound streams per peer and
 * they have none); each refusal is audited as a security alert. A removed member still connected
 * is hung up on as soon as A applies the removal.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { childEnv, runCli, show, parseRecords } from '../../helpers/cli.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'
import { tempDir } from '../../helpers/files.ts'
import { join } from 'node:path'

const ROGUE = fileURLToPath(new URL('../../helpers/rogue-peer.ts', import.meta.url))

test('a non-member and a removed member are refused before any stream; the removal disconnects', async (t) => {
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  await waitFor('B connected to A', async () => (await status(b)).mesh.peers.some((p: { connected: boolean }) => p.connected))
  assert.ok(((await status(a)).mesh.streamsFrom[b.process.peerId] ?? 0) > 0, 'a member opens streams')

  // A key that is no member of the org dials A and asks for the log.
  const { stdout } = await promisify(execFile)(process.execPath, [ROGUE, '--target', a.process.p2p[0]!, '--kind', 'stranger'], { env: childEnv() })
  const stranger = JSON.parse(stdout.trim()) as { peerId: string, streamOpened: boolean, error?: string }
  assert.equal(stranger.streamOpened, false, 'the stranger could not open a stream')
  await waitFor('A to log the refusal', async () => a.process.logs().some((l) => l.event === 'mesh.refused' && l.peer === stranger.peerId))

  // B removed at A while connected: hung up on, then refused when it redials.
  const removed = await runCli(['members', 'remove', (await status(b)).nodeId, '--data', a.data])
  assert.equal(removed.code, 0, show(removed))
  await waitFor('B disconnected from A', async () => !(await status(a)).mesh.peers.some((p: { connected: boolean, peer: string }) => p.peer === b.process.peerId && p.connected))
  const streamsBefore = (await status(a)).mesh.streamsFrom[b.process.peerId] ?? 0
  await waitFor('A to refuse the removed B when it redials', async () => a.process.logs().some((l) => l.event === 'mesh.refused' && l.peer === b.process.peerId), 90_000)

  // An invite used once, presented again by another machine: refused at the connection.
  const issued = await runCli(['invite', '--role', 'site', '--json', '--data', a.data])
  assert.equal(issued.code, 0, show(issued))
  const invite = parseRecords(issued.stdout).find((r) => typeof r.code === 'string')!
  const root = await tempDir(t, 'peerpacs-reuse-')
  const first = await runCli(['init', '--join', invite.code as string, '--data', join(root, 'first')])
  assert.equal(first.code, 0, show(first))
  const again = await runCli(['init', '--join', invite.code as string, '--data', join(root, 'second')])
  assert.notEqual(again.code, 0, 'a used invite is refused')
  assert.match(again.stderr, /refused|used/i, show(again))

  // An admin lists invites and withdraws an unused one: its code is then refused.
  const second = parseRecords((await runCli(['invite', '--role', 'site', '--json', '--data', a.data])).stdout).find((r) => typeof r.code === 'string')!
  const withdrawn = await runCli(['invite', 'withdraw', second.invite as string, '--data', a.data])
  assert.equal(withdrawn.code, 0, show(withdrawn))
  const late = await runCli(['init', '--join', second.code as string, '--data', join(root, 'late')])
  assert.notEqual(late.code, 0, 'a withdrawn invite is refused')
  const listed = parseRecords((await runCli(['invite', 'list', '--json', '--data', a.data])).stdout).filter((r) => r.type === 'invite')
  assert.match(String(listed.find((r) => r.id === invite.invite)?.state), /^used .* by /)
  assert.match(String(listed.find((r) => r.id === second.invite)?.state), /^withdrawn /)

  const s = await status(a)
  assert.equal(s.mesh.streamsFrom[invite.invite as string], 1, 'the invite key opened one stream (its enrollment), none when reused')
  assert.equal(s.mesh.streamsFrom[stranger.peerId], undefined, 'no handler of A ran for the stranger')
  assert.equal(s.mesh.streamsFrom[b.process.peerId] ?? 0, streamsBefore, 'no handler of A ran for B after its removal')
  const audit = await runCli(['audit', '--event', '110113', '--json', '--data', a.data])
  assert.equal(audit.code, 0, show(audit))
  const alerts = parseRecords(audit.stdout).filter((r) => r.type === 'audit' || r.eventId !== undefined)
  const text = JSON.stringify(alerts)
  assert.ok(text.includes(stranger.peerId), 'the stranger\'s refusal is audited')
  assert.ok(text.includes(b.process.peerId), 'the removed member\'s refusal is audited')
})
