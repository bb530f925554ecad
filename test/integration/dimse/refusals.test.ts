/**
 * Refused associations do not flood the signed log: many refusals of one unknown AE from one
 * address in a window leave a couple of 110113 Security Alert records whose counts add up to
 * the refusals; an address rotating AE titles folds into a bounded number of records. The log
 * says once per (AE, address) exactly which setting lets the AE in, and that setting works.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { EVENT_ID, type AuditRecord } from '../../../protocol/audit/index.ts'
import { readAuditTrail } from '../../../node/audit/audit-trail.ts'
import { parseAllowList } from '../../../node/config/config.ts'
import { NODE_AE, runTool, startDimseNode, type DimseNode } from '../../helpers/dimse-node.ts'
import { associateRq, IMPLICIT_LE, VERIFICATION } from '../../helpers/pdu-builder.ts'

async function alerts (node: DimseNode): Promise<AuditRecord[]> {
  await node.server.close()
  await node.pacs.archive.auditor.flush()
  const trail = await readAuditTrail(node.pacs.archive)
  return trail.map((e) => e.record!).filter((r) => r.eventId === EVENT_ID.securityAlert)
}

/** The refusals a record stands for (its subject's Alert Description). */
function countOf (r: AuditRecord): number {
  const detail = r.objects[0]?.detail?.[0]?.value
  const match = /^(\d+) refused association/.exec(detail === undefined ? '' : new TextDecoder().decode(detail))
  assert.ok(match !== null, `a count in ${JSON.stringify(r.objects[0])}`)
  return Number(match[1])
}

const by = (r: AuditRecord, ae: string): boolean => r.participants.some((p) => p.userId === ae)

async function refusedRq (port: number, calling: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.write(associateRq({ calling, contexts: [{ id: 1, abstract: VERIFICATION, transfer: [IMPLICIT_LE] }] })) })
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => resolve())
  })
}

test('60 refused associations of one AE leave at most two audit records, carrying the count', { timeout: 120_000 }, async (t) => {
  const node = await startDimseNode(t)
  const N = 60
  for (let batch = 0; batch < N / 10; batch++) {
    const runs = await Promise.all(Array.from({ length: 10 }, async () => await runTool(t, 'echoscu', ['-aet', 'STRANGER', '-aec', NODE_AE, '127.0.0.1', String(node.port)])))
    assert.ok(runs.every((r) => r.code !== 0 && /Association Rejected/i.test(r.stdout + r.stderr)))
  }
  const records = (await alerts(node)).filter((r) => by(r, 'STRANGER'))
  t.diagnostic(`${N} refusals -> ${records.length} audit records: ${records.map((r) => r.outcomeDescription).join(' | ')}`)
  assert.ok(records.length >= 1 && records.length <= 2, `${records.length} records`)
  assert.equal(records.reduce((sum, r) => sum + countOf(r), 0), N, 'the counts add up to every refusal')
  assert.match(records[0]!.outcomeDescription ?? '', /calling AE not recognized/)
})

test('an address rotating calling AE titles gets a bounded number of records, counts preserved', { timeout: 60_000 }, async (t) => {
  const node = await startDimseNode(t)
  const N = 100
  for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: 20 }, async (_, j) => { await refusedRq(node.port, `ROT${i + j}`) }))
  const records = (await alerts(node)).filter((r) => r.participants.some((p) => p.userId.startsWith('ROT') || p.userId === '*'))
  t.diagnostic(`${N} refusals under ${N} AE titles -> ${records.length} audit records`)
  assert.ok(records.length <= 10, `${records.length} records`)
  assert.equal(records.reduce((sum, r) => sum + countOf(r), 0), N)
})

test('a refused AE is told once in the log which setting lets it in, and that setting works', { timeout: 60_000 }, async (t) => {
  const node = await startDimseNode(t)
  for (let i = 0; i < 3; i++) await runTool(t, 'echoscu', ['-aet', 'NEWMODALITY', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  const hints = node.logs.filter((l) => l.includes('"hint"') && l.includes('NEWMODALITY')).map((l) => JSON.parse(l) as Record<string, string>)
  assert.equal(hints.length, 1, 'once per AE and address')
  assert.equal(hints[0]!.level, 'warn')
  assert.equal(hints[0]!.setting, '--allow-ae NEWMODALITY@127.0.0.1')
  assert.match(hints[0]!.hint!, /PEERPACS_ALLOW_AE=NEWMODALITY@127\.0\.0\.1/)
  assert.match(hints[0]!.hint!, /"remotes": \[ \{"aeTitle":"NEWMODALITY","host":"127.0.0.1"\} \]/)
  // A wrong called AE gets its own hint, naming this node's AE title.
  await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', 'WRONGNAME', '127.0.0.1', String(node.port)])
  assert.ok(node.logs.some((l) => l.includes('"hint"') && l.includes('WRONGNAME') && l.includes(`-aec ${NODE_AE}`)))

  // Exactly that setting, through the parser --allow-ae uses, lets the AE in.
  const remotes = parseAllowList(hints[0]!.setting!.replace(/^--allow-ae /, ''), '--allow-ae')
  const allowed = await startDimseNode(t, { remotes })
  const ok = await runTool(t, 'echoscu', ['-aet', 'NEWMODALITY', '-aec', NODE_AE, '127.0.0.1', String(allowed.port)])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
})
