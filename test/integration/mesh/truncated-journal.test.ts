/**
 * Tamper evidence of the newest log entries (issue 12 item 8), with real processes: a node's
 * newest journal entries are deleted straight from its level store while it is stopped, as an
 * attacker with the disk would.
 *
 * - Site A + backup, the high-water mark intact: the offline `log verify` fails, A restarts
 *   holding its writes, signs no seq again, gets the lost ops back from the backup, raises and
 *   audits a security alert (110113), `log verify` through the running node then passes and
 *   compares with the backup, and replication goes on (a new import reaches the backup).
 * - Site A + site B, the mark deleted too and A writing while offline (so it does sign the lost
 *   seqs again): when they reconnect the fork is found through the tips (the vectors alone
 *   would only say A is ahead, and B would wait forever for parents that never come), both
 *   sides show it in status, and B audits it (110113).
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { provider } from '../../../node/runtime.ts'
import { LevelKvStore } from '../../../node/store/kv-level.ts'
import { decodeOp } from '../../../protocol/log/index.ts'
import { parseRecords, runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { tempDir } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor, type MeshNode } from '../../helpers/mesh.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

/** Deletes the newest `n` journal entries of a stopped node; returns what they were. */
async function truncateJournal (data: string, n: number): Promise<Array<{ author: string, seq: number, type: string, id: string }>> {
  const kv = await LevelKvStore.open(join(data, 'index'))
  try {
    const entries: Array<{ key: readonly string[], bytes: Uint8Array }> = []
    for await (const [key, bytes] of kv.entries(['oplog'])) entries.push({ key, bytes: bytes.slice() })
    const newest = entries.slice(-n)
    await kv.batch(newest.map((e) => ({ type: 'del' as const, key: e.key })))
    return newest.map((e) => { const op = decodeOp(provider, e.bytes); return { author: op.authorId as string, seq: op.seq, type: op.type, id: op.idHex as string } })
  } finally {
    await kv.close()
  }
}

/** The ids of every op in a stopped node's journal. */
async function journalIds (data: string): Promise<Set<string>> {
  const kv = await LevelKvStore.open(join(data, 'index'))
  try {
    const out = new Set<string>()
    for await (const [, bytes] of kv.entries(['oplog'])) out.add(decodeOp(provider, bytes).idHex as string)
    return out
  } finally {
    await kv.close()
  }
}

/** How many of the newest entries of a stopped node's journal reach back to the newest op matching `keep`. */
async function entriesSince (data: string, match: (op: { author: string, id: string }) => boolean): Promise<number> {
  const kv = await LevelKvStore.open(join(data, 'index'))
  try {
    const ops: Array<{ author: string, id: string }> = []
    for await (const [, bytes] of kv.entries(['oplog'])) { const op = decodeOp(provider, bytes); ops.push({ author: op.authorId as string, id: op.idHex as string }) }
    const last = ops.findLastIndex(match)
    assert.ok(last >= 0, 'a matching op in the journal')
    return ops.length - last
  } finally {
    await kv.close()
  }
}

/** The highest seq of `author` in a stopped node's journal. */
async function journalHead (data: string, author: string): Promise<number> {
  const kv = await LevelKvStore.open(join(data, 'index'))
  try {
    let head = 0
    for await (const [, bytes] of kv.entries(['oplog'])) { const op = decodeOp(provider, bytes); if (op.authorId === author && op.seq > head) head = op.seq }
    return head
  } finally {
    await kv.close()
  }
}

/** Waits like waitFor; on a timeout, prints what each node's status and mesh log say (for the failure report). */
async function waitOrExplain<T> (what: string, nodes: MeshNode[], check: () => Promise<T | undefined | false>): Promise<T> {
  try {
    return await waitFor(what, check)
  } catch (error) {
    for (const node of nodes) {
      const s = await status(node).catch(() => undefined)
      console.log(`${node.name} status: ${JSON.stringify({ log: s?.mesh?.log, peers: s?.mesh?.peers })}`)
      console.log(node.process.logs().filter((l) => /^(mesh|log)\./.test(String(l.event))).map((l) => JSON.stringify(l).slice(0, 500)).join('\n'))
    }
    throw error
  }
}

async function ownSeqs (node: MeshNode): Promise<Record<string, any>> { return (await status(node)).mesh.log.ownSeqs }

async function alerts (node: MeshNode): Promise<string> {
  const r = await runCli(['audit', '--event', '110113', '--json', '--data', node.data])
  assert.equal(r.code, 0, show(r))
  return JSON.stringify(parseRecords(r.stdout))
}

test('newest journal entries deleted while stopped: no seq signed twice, the ops come back from the backup, replication goes on', async (t) => {
  const root = await tempDir(t, 'peerpacs-truncated-')
  const a = await founder(t, 'A')
  const backup = await joinSite(t, a, 'backup', 'backup')
  const first = await writeStudies(join(root, 'in1'), [{ seed: 1201, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 2 }])
  assert.equal((await runCli(['import', first.dir, '--data', a.data])).code, 0)
  await waitFor('the backup to hold every op of A', async () => {
    const [sa, sb] = [await status(a), await status(backup)]
    return sa.mesh.log.ops === sb.mesh.log.ops && sb.mesh.studies.local === 1
  })
  const nodeA = (await status(a)).nodeId as string
  await a.process.stop('SIGTERM')
  const headBefore = await journalHead(a.data, nodeA)

  // The newest entries: what A wrote as it stopped (the backup may never have had it) and older ops the backup holds.
  const lost = await truncateJournal(a.data, 4)
  const lostOwn = lost.filter((op) => op.author === nodeA)
  assert.ok(lostOwn.length > 0, `the newest entries include A's own ops: ${JSON.stringify(lost)}`)
  const headAfter = await journalHead(a.data, nodeA)
  assert.ok(headAfter < headBefore)

  // Stopped: the journal has no hole, but it ends below the high-water mark.
  const offline = await runCli(['log', 'verify', '--data', a.data, '--json'])
  assert.equal(offline.code, 1, show(offline))
  const problem = offline.records.find((r) => r.type === 'problem' && r.kind === 'journal-truncated')
  assert.ok(problem, show(offline))
  assert.match(problem.message, new RegExp(`signed its own ops up to seq ${headBefore}, but the journal ends at ${headAfter}`))
  const auditOffline = await runCli(['audit', 'verify', '--keyless', '--data', a.data])
  assert.equal(auditOffline.code, 1, show(auditOffline))

  // Restart: A holds its writes until the backup gave the lost ops back. (The deleted entries may
  // hold the backup's published address, and a held A cannot publish its new port: it is told
  // where the backup is, as an operator's --peer would.)
  await a.restart(['--peer', backup.process.p2p[0]!])
  const back = await waitOrExplain('A to have its lost ops back and write again', [a, backup], async () => {
    const own = await ownSeqs(a)
    return own.hold === null && own.journalHead >= headBefore ? own : undefined
  })
  assert.deepEqual(back.lostAtStart, { journalHead: headAfter, mark: headBefore })
  const sa = await status(a)
  const sb = await status(backup)
  assert.deepEqual(sa.mesh.log.forks, [], 'A signed no seq twice')
  assert.deepEqual(sb.mesh.log.forks, [], 'the backup holds no fork of A')
  for (const op of lostOwn) assert.ok(a.process.logs().every((l) => l.event !== 'mesh.fork'), `no fork at seq ${op.seq}`)
  assert.ok(a.process.logs().some((l) => l.event === 'mesh.journal' && /high-water mark/.test(String(l.reason))), 'A raised the alert at start')

  // Audited once A could write again, at a fresh seq.
  const text = await waitFor('the security alert in A\'s audit trail', async () => { const s = await alerts(a); return /high-water mark says it signed up to seq/.test(s) ? s : undefined })
  assert.match(text, new RegExp(`${headBefore - headAfter} of its ops were deleted or lost`))

  // log verify through the running node compares with the backup, and passes.
  const verify = await runCli(['log', 'verify', '--data', a.data])
  assert.equal(verify.code, 0, show(verify))
  assert.match(verify.stdout, /backup \S+ \(connected\): holds seq \d+ of this node/)

  // Replication goes on: a new import at A reaches the backup; nothing refused either way.
  const second = await writeStudies(join(root, 'in2'), [{ seed: 1202, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 1 }])
  assert.equal((await runCli(['import', second.dir, '--data', a.data])).code, 0)
  await waitFor('the backup to hold the new study', async () => (await status(backup)).mesh.studies.local === 2)
  const final = await status(backup)
  assert.deepEqual(final.mesh.log.forks, [])
  const fromA = final.mesh.peers.find((p: { nodeId: string }) => p.nodeId === nodeA)
  assert.equal(fromA.refused, null, `the backup refused nothing from A: ${JSON.stringify(fromA)}`)

  // Every lost op the backup held is back in A's journal, the very same op: no seq was signed twice.
  await backup.process.stop('SIGTERM')
  await a.process.stop('SIGTERM')
  const atBackup = await journalIds(backup.data)
  const atA = await journalIds(a.data)
  const heldLost = lostOwn.filter((op) => atBackup.has(op.id))
  assert.ok(heldLost.length > 0, `some lost ops of A were held by the backup: ${JSON.stringify(lost)}`)
  for (const op of heldLost) assert.ok(atA.has(op.id), `A's journal has its lost op at seq ${op.seq} back`)
})

test('mark deleted too and A writes while offline: the fork the vectors hide is found, shown at both ends and audited', async (t) => {
  const root = await tempDir(t, 'peerpacs-truncated-fork-')
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  const first = await writeStudies(join(root, 'in1'), [{ seed: 1211, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 2 }])
  assert.equal((await runCli(['import', first.dir, '--data', a.data])).code, 0)
  await waitFor('B to hold every op of A', async () => (await status(a)).mesh.log.ops === (await status(b)).mesh.log.ops && (await status(b)).mesh.studies.local === 1)
  const nodeA = (await status(a)).nodeId as string
  await b.process.stop('SIGTERM')
  await a.process.stop('SIGTERM')
  // Deleted back to A's newest op that B holds, so B holds what A then signs again.
  const heldByB = await journalIds(b.data)
  const lost = await truncateJournal(a.data, await entriesSince(a.data, (op) => op.author === nodeA && heldByB.has(op.id)))
  assert.ok(lost.some((op) => op.author === nodeA && heldByB.has(op.id)), JSON.stringify(lost))
  await rm(join(a.data, 'log-mark.json'))

  // Offline, A cannot know: it signs the lost seqs again with other content.
  await a.restart()
  const second = await writeStudies(join(root, 'in2'), [{ seed: 1212, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 1 }])
  assert.equal((await runCli(['import', second.dir, '--data', a.data])).code, 0)

  // Both restarted on new ports: B is told where A is now.
  await b.restart(['--peer', a.process.p2p[0]!])
  const [forkA, forkB] = await waitOrExplain('the fork of A in status at both ends', [a, b], async () => {
    const [fa, fb] = [(await status(a)).mesh.log.forks, (await status(b)).mesh.log.forks]
    return fa.length > 0 && fb.length > 0 ? [fa, fb] : undefined
  })
  assert.equal(forkA[0].author, nodeA)
  assert.equal(forkB[0].author, nodeA)
  assert.deepEqual(forkA[0].evidence, forkB[0].evidence, 'both hold the same two ops as evidence')
  const text = await waitFor('B to audit the fork', async () => { const s = await alerts(b); return s.includes('fork') || s.includes('two ops') ? s : undefined })
  assert.ok(text.includes(nodeA), 'the alert names the forked author')
  const statusB = await runCli(['status', '--data', b.data])
  assert.match(statusB.stdout, new RegExp(`FORK: ${nodeA} signed two different ops at seq ${forkA[0].seq as number}`))
})
