/**
 * The signed log through the CLI: `log verify`, `audit` (search, export, verify) and `members`
 * (list, add, set-level, remove), on a real data dir with keys sealed by a passphrase; then the
 * same checks on copies of it where one stored op had a byte flipped, or was deleted.
 */
import assert from 'node:assert/strict'
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Archive } from '../../node/archive/archive.ts'
import { provider, random } from '../../node/runtime.ts'
import { LevelKvStore } from '../../node/store/kv-level.ts'
import { generateNodeKey, nodeIdFromPublicKey, x25519SecretKey, type NodeKeyPair } from '../../protocol/identity.ts'
import { decodeOp, openEpoch } from '../../protocol/log/index.ts'
import { runCli, show, type CliResult } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { suiteDir } from '../helpers/files.ts'
import { startNode } from '../helpers/node-process.ts'
import { KNOWN_PATIENTS } from '../synthetic/study.ts'
import { childrenNamed, parseXml } from '../unit/protocol/audit/xml-check.ts'

const PASSPHRASE = 'correct horse battery staple, log cli'
const ENV = { PEERPACS_PASSPHRASE: PASSPHRASE }
const PATIENT = KNOWN_PATIENTS[1]!

async function cli (args: string[]): Promise<CliResult> {
  return await runCli(args, ENV)
}

function summaryOf (r: CliResult): Record<string, any> {
  const s = r.records.find((x) => x.type === 'summary')
  assert.ok(s, `a summary record\n${show(r)}`)
  return s
}

/** Every journal entry of a stopped data dir: position key and decoded op. */
async function journal (data: string): Promise<Array<{ key: readonly string[], bytes: Uint8Array, type: string, seq: number }>> {
  const kv = await LevelKvStore.open(join(data, 'index'))
  try {
    const out = []
    for await (const [key, bytes] of kv.entries(['oplog'])) {
      const op = decodeOp(provider, bytes)
      out.push({ key, bytes: bytes.slice(), type: op.type, seq: op.seq })
    }
    return out
  } finally {
    await kv.close()
  }
}

describe('log and audit through the CLI', () => {
  let root: { path: string, remove: () => Promise<void> }
  let data: string
  let studyUid: string
  let site: NodeKeyPair
  let siteId: string
  let self: string

  before(async () => {
    root = await suiteDir()
    data = join(root.path, 'data')
    const set = await writeStudies(join(root.path, 'in'), [{ seed: 41, patient: PATIENT, profile: 'ct', slices: 2 }])
    studyUid = [...set.studies.keys()][0]!
    const init = await cli(['init', '--data', data, '--name', 'Log Clinic', '--json'])
    assert.equal(init.code, 0, show(init))
    self = init.records.find((r) => r.type === 'init')!.nodeId
    const imp = await cli(['import', '--data', data, set.dir])
    assert.equal(imp.code, 0, show(imp))
    site = generateNodeKey(random)
    siteId = nodeIdFromPublicKey(site.publicKey)
  })
  after(async () => { await root.remove() })

  async function opCount (): Promise<number> {
    const r = await cli(['log', 'verify', '--data', data, '--json'])
    assert.equal(r.code, 0, show(r))
    return summaryOf(r).ops
  }

  it('log verify passes and counts the registered study', async () => {
    const r = await cli(['log', 'verify', '--data', data, '--json'])
    assert.equal(r.code, 0, show(r))
    const s = summaryOf(r)
    assert.equal(s.ok, true)
    assert.equal(s.studies, 1)
    assert.equal(s.indexedStudies, 1)
    assert.equal(s.instances, 2)
    assert.equal(s.members, 1)
    assert.equal(s.forks, 0)
    assert.equal(s.problems, 0)
    assert.ok(s.auditEvents >= 1)
    assert.equal(r.records.filter((x) => x.type === 'problem').length, 0)
    const human = await cli(['log', 'verify', '--data', data])
    assert.equal(human.code, 0, show(human))
    assert.match(human.stdout, /1 studies registered \(1 in the index\), 2 instances/)
    assert.match(human.stdout, /equals a replay from scratch/)
  })

  it('audit lists the import with its patient, and reading the trail is itself audited (110101)', async () => {
    const r = await cli(['audit', '--data', data, '--json'])
    assert.equal(r.code, 0, show(r))
    const events = r.records.filter((x) => x.type === 'audit')
    const imports = events.filter((e) => e.eventId.code === '110107')
    assert.equal(imports.length, 1, show(r))
    assert.equal(imports[0]!.action, 'C')
    assert.ok(imports[0]!.objects.some((o: any) => o.roleCode === 1 && o.id === PATIENT.id), 'the import names the patient')
    assert.ok(imports[0]!.objects.some((o: any) => o.id === studyUid), 'the import names the study')

    const again = await cli(['audit', '--data', data, '--json', '--event', '110101'])
    assert.equal(again.code, 0, show(again))
    const used = again.records.filter((x) => x.type === 'audit')
    assert.ok(used.length >= 1, show(again))
    assert.ok(used.every((e) => e.eventId.code === '110101' && e.action === 'R'))

    // Filters: by patient, by study, by time; and the human table.
    const byPatient = await cli(['audit', '--data', data, '--json', '--patient', PATIENT.id])
    assert.deepEqual(byPatient.records.filter((x) => x.type === 'audit').map((e) => e.eventId.code), ['110107'])
    const other = await cli(['audit', '--data', data, '--json', '--patient', 'NOBODY'])
    assert.equal(other.records.filter((x) => x.type === 'audit').length, 0)
    const future = await cli(['audit', '--data', data, '--json', '--since', '2999-01-01'])
    assert.equal(future.records.filter((x) => x.type === 'audit').length, 0)
    const table = await cli(['audit', '--data', data, '--study', studyUid])
    assert.equal(table.code, 0, show(table))
    assert.match(table.stdout, /TIME\s+EVENT\s+ACTION\s+OUTCOME\s+USER\s+PATIENT\s+STUDY/)
    assert.ok(table.stdout.includes('110107 Import') && table.stdout.includes(PATIENT.id) && table.stdout.includes(studyUid), show(table))

    const bad = await cli(['audit', '--data', data, '--since', 'yesterday'])
    assert.equal(bad.code, 2, show(bad))
    assert.match(bad.stderr, /--since "yesterday" is not an ISO 8601/)
    const badEvent = await cli(['audit', '--data', data, '--event', '999'])
    assert.equal(badEvent.code, 2, show(badEvent))
  })

  it('audit export writes well-formed DICOM audit messages and JSON lines', async () => {
    const file = join(root.path, 'audit.xml')
    const r = await cli(['audit', 'export', '--data', data, '--format', 'dicom-xml', '--out', file, '--json'])
    assert.equal(r.code, 0, show(r))
    assert.equal(summaryOf(r).format, 'dicom-xml')
    const text = await readFile(file, 'utf8')
    const lines = text.trimEnd().split('\n')
    assert.equal(lines[0], '<?xml version="1.0" encoding="UTF-8"?>')
    const doc = parseXml(lines.slice(1).join('\n'))
    assert.equal(doc.name, 'AuditMessages')
    const messages = childrenNamed(doc, 'AuditMessage')
    assert.equal(messages.length, summaryOf(r).exported)
    // One message per line, each well-formed alone.
    for (const line of lines.slice(2, -1)) assert.equal(parseXml(line).name, 'AuditMessage')
    const codes = messages.map((m) => childrenNamed(childrenNamed(m, 'EventIdentification')[0]!, 'EventID')[0]!.attributes.get('csd-code'))
    assert.ok(codes.includes('110107'), `${codes.join(',')}`)
    assert.ok(codes.includes('110101'), `${codes.join(',')}`)

    const exists = await cli(['audit', 'export', '--data', data, '--format', 'dicom-xml', '--out', file])
    assert.equal(exists.code, 2, show(exists))
    assert.match(exists.stderr, /exists; it is not overwritten/)

    const jsonl = await cli(['audit', 'export', '--data', data])
    assert.equal(jsonl.code, 0, show(jsonl))
    const records = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>)
    assert.ok(records.some((x) => x.eventId.code === '110107'))
    assert.ok(records.every((x) => typeof x.opId === 'string' && typeof x.seq === 'number'))
    // Exports are audited too.
    const after = await cli(['audit', '--data', data, '--json', '--event', '110101'])
    assert.ok(after.records.filter((x) => x.type === 'audit').length >= 4, show(after))
  })

  it('members: add a site member, list it, remove it; the new epoch is not wrapped to it', async () => {
    const before = await opCount()
    const add = await cli(['members', 'add', siteId, '--role', 'site', '--level', 'write', '--data', data, '--json'])
    assert.equal(add.code, 0, show(add))
    const added = add.records.find((x) => x.type === 'member-added')!
    assert.equal(added.role, 'site')
    assert.match(added.epoch, /^[0-9a-f]{64}$/, 'adding a site member starts an epoch wrapped to it')
    // member.add + epoch.start + the audit record.
    assert.equal(await opCount(), before + 3)

    const list = await cli(['members', 'list', '--data', data, '--json'])
    assert.equal(list.code, 0, show(list))
    const members = list.records.filter((x) => x.type === 'member')
    assert.equal(members.length, 2)
    const m = members.find((x) => x.id === siteId)!
    assert.deepEqual([m.role, m.levels, m.status, m.addedBy, m.self], ['site', { org: 'write' }, 'active', self, false])
    assert.equal(members.find((x) => x.id === self)!.self, true)
    const human = await cli(['members', 'list', '--data', data])
    assert.match(human.stdout, new RegExp(`^\\*\\s+${self}\\s+site\\s+admin@org\\s+active`, 'm'))
    assert.match(human.stdout, new RegExp(`^\\s+${siteId}\\s+site\\s+write@org\\s+active`, 'm'))

    const set = await cli(['members', 'set-level', siteId, '--level', 'read', '--data', data, '--json'])
    assert.equal(set.code, 0, show(set))

    const remove = await cli(['members', 'remove', siteId, '--data', data, '--json'])
    assert.equal(remove.code, 0, show(remove))
    const removed = remove.records.find((x) => x.type === 'member-removed')!
    assert.equal(removed.epoch, removed.op, 'the removal carries the new epoch')
    const list2 = await cli(['members', 'list', '--data', data, '--json'])
    const m2 = list2.records.find((x) => x.type === 'member' && x.id === siteId)!
    assert.equal(m2.status, 'removed')
    assert.deepEqual(m2.levels, {})

    // The epochs as the log holds them: the one started on adding opens with the site's key, the removal's does not.
    const archive = await Archive.open(data, { keys: 'required', passphrase: PASSPHRASE, provider, random, command: 'test' })
    try {
      const state = (await archive.log()).oplog.state
      const opener = { member: site.publicKey, secretKey: x25519SecretKey(site.secretKey) }
      const startedForIt = state.epochs.find((e) => e.id === added.epoch)!
      assert.equal(openEpoch(provider, startedForIt.body, state.orgId, opener).length, 32)
      const current = state.epochs[state.epochs.length - 1]!
      assert.equal(current.id, removed.op)
      assert.throws(() => openEpoch(provider, current.body, state.orgId, opener), /not wrapped to this member/)
      assert.equal(archive.keyring.currentEpoch, current.id, 'this node uses the new epoch')
    } finally {
      await archive.close()
    }

    // A study added after the removal is registered under the new epoch: the removed site holds no
    // key that opens its study key; this node does (it exports byte-identical).
    const later = await writeStudies(join(root.path, 'later'), [{ seed: 42, patient: PATIENT, profile: 'ct', slices: 2 }])
    assert.equal((await cli(['import', '--data', data, later.dir])).code, 0)
    const again = await Archive.open(data, { keys: 'required', passphrase: PASSPHRASE, provider, random, command: 'test' })
    try {
      const state = (await again.log()).oplog.state
      const newest = [...state.studies.values()].at(-1)!
      assert.equal(newest.epoch, removed.op, 'the new study uses the epoch the removal started')
      const epoch = state.epochs.find((e) => e.id === newest.epoch)!
      assert.throws(() => openEpoch(provider, epoch.body, state.orgId, { member: site.publicKey, secretKey: x25519SecretKey(site.secretKey) }), /not wrapped to this member/)
      const study = await again.study(newest.id)
      assert.equal(study.attributes.studyInstanceUid, [...later.studies.keys()][0])
    } finally {
      await again.close()
    }

    // Every change is audited as a security alert about the member node.
    const audit = await cli(['audit', '--data', data, '--json', '--event', '110113'])
    const alerts = audit.records.filter((x) => x.type === 'audit')
    assert.equal(alerts.length, 3, show(audit))
    for (const a of alerts) {
      assert.ok(a.eventTypeCodes.some((t: any) => t.code === '110137'))
      assert.ok(a.objects.some((o: any) => o.id === siteId && o.idTypeCode.code === '110182'))
    }
    assert.deepEqual(alerts.map((a) => a.eventTypeCodes.map((t: any) => t.code).join('+')), ['110137+110129', '110137', '110137+110129'])

    const readd = await cli(['members', 'add', siteId, '--role', 'site', '--level', 'read', '--data', data])
    assert.equal(readd.code, 2, show(readd))
    assert.match(readd.stderr, /removed key is never a member again/)
  })

  it('a refused or malformed change is a clear error and writes nothing', async () => {
    const before = await opCount()
    const other = nodeIdFromPublicKey(generateNodeKey(random).publicKey)
    const cases: Array<[string[], RegExp]> = [
      [['members', 'add', '12D3KooWnotanid', '--role', 'site', '--level', 'write'], /"12D3KooWnotanid" is not a node id/],
      [['members', 'add', other, '--role', 'site', '--level', 'boss'], /--level "boss" is not a level/],
      [['members', 'add', other, '--role', 'chief', '--level', 'read'], /--role "chief" is not a role/],
      [['members', 'add', other, '--role', 'specialist', '--level', 'read', '--scope', 'nowhere'], /--scope "nowhere" is not a scope/],
      [['members', 'set-level', other, '--level', 'read'], /is not a member of the org/],
      [['members', 'remove', self], /is this node/]
    ]
    for (const [args, message] of cases) {
      const r = await cli([...args, '--data', data])
      assert.notEqual(r.code, 0, show(r))
      assert.match(r.stderr, message, show(r))
    }
    assert.equal(await opCount(), before)

    // A grant above this node's level: demote this node to write (an op it may sign), then try to grant admin.
    const archive = await Archive.open(data, { keys: 'required', passphrase: PASSPHRASE, provider, random, command: 'test' })
    try {
      const log = await archive.log()
      await log.append('member.set-level', { member: log.publicKey, level: 'write', scope: 'org' })
    } finally {
      await archive.close()
    }
    const demoted = await opCount()
    const r = await cli(['members', 'add', other, '--role', 'specialist', '--level', 'admin', '--data', data])
    assert.equal(r.code, 2, show(r))
    assert.match(r.stderr, /refused by the log's rules \(insufficient-level\): this node's level is too low/)
    assert.match(r.stderr, /nothing was written/)
    assert.equal(await opCount(), demoted)
    // The log is still whole and writable afterwards.
    const v = await cli(['audit', 'verify', '--data', data])
    assert.equal(v.code, 0, show(v))
  })

  it('works through a running node', async (t) => {
    const node = await startNode(t, data, [], ENV)
    const v = await cli(['log', 'verify', '--data', data, '--json'])
    assert.equal(v.code, 0, show(v))
    // The suite's first import, and the one after the member's removal.
    assert.equal(summaryOf(v).studies, 2)
    const list = await cli(['members', 'list', '--data', data, '--json'])
    assert.equal(list.code, 0, show(list))
    assert.ok(list.records.some((x) => x.type === 'member' && x.id === self && x.self === true), show(list))
    const a = await cli(['audit', '--data', data, '--json', '--event', '110107'])
    assert.equal(a.code, 0, show(a))
    assert.equal(a.records.filter((x) => x.type === 'audit').length, 2)
    const av = await cli(['audit', 'verify', '--data', data, '--json'])
    assert.equal(av.code, 0, show(av))
    const out = join(root.path, 'through-node.jsonl')
    // A relative --out is this shell's path, not the node's working directory.
    const ex = await runCli(['audit', 'export', '--out', 'through-node.jsonl', '--data', data], ENV, root.path)
    assert.equal(ex.code, 0, show(ex))
    assert.ok((await readFile(out, 'utf8')).includes('"110107"'))
    assert.equal(await node.stop(), 0)
  })

  it('a flipped byte in a stored op is named by log verify and audit verify; the log no longer loads', async () => {
    const copy = join(root.path, 'flipped')
    await cp(data, copy, { recursive: true })
    const entries = await journal(copy)
    const target = entries.find((e) => e.type === 'audit.event')!
    const position = Number(target.key[1])
    const bytes = target.bytes.slice()
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01
    const kv = await LevelKvStore.open(join(copy, 'index'))
    await kv.batch([{ type: 'put', key: target.key, value: bytes }])
    await kv.close()

    const v = await cli(['log', 'verify', '--data', copy, '--json'])
    assert.equal(v.code, 1, show(v))
    const problems = v.records.filter((x) => x.type === 'problem')
    const damaged = problems.find((p) => p.kind === 'op-damaged')
    assert.ok(damaged, show(v))
    assert.equal(damaged.object, `journal ${position}`)
    assert.match(damaged.message, /does not verify \((signature|malformed|not-canonical)\)/)
    assert.equal(summaryOf(v).ok, false)

    const human = await cli(['log', 'verify', '--data', copy])
    assert.equal(human.code, 1)
    assert.match(human.stdout, new RegExp(`ERROR: journal ${position}: the op stored at journal entry ${position} does not verify`))

    const av = await cli(['audit', 'verify', '--data', copy, '--json'])
    assert.equal(av.code, 1, show(av))
    assert.ok(av.records.some((x) => x.type === 'problem' && x.kind === 'op-damaged' && x.object === `journal ${position}`), show(av))
    const keyless = await cli(['audit', 'verify', '--keyless', '--data', copy])
    assert.equal(keyless.code, 1, show(keyless))

    // Commands that load the log refuse the damaged one and say what to run.
    const list = await cli(['audit', '--data', copy])
    assert.equal(list.code, 1, show(list))
    assert.match(list.stderr, /journal is damaged \(signature|malformed\)/)
    assert.match(list.stderr, /peerpacs log verify/)
  })

  it('a deleted audit op shows as a gap in its author\'s chain', async () => {
    const copy = join(root.path, 'deleted')
    await cp(data, copy, { recursive: true })
    const entries = await journal(copy)
    const audits = entries.filter((e) => e.type === 'audit.event')
    const target = audits[1]!
    const kv = await LevelKvStore.open(join(copy, 'index'))
    await kv.batch([{ type: 'del', key: target.key }])
    await kv.close()

    const av = await cli(['audit', 'verify', '--data', copy, '--json'])
    assert.equal(av.code, 1, show(av))
    const problems = av.records.filter((x) => x.type === 'problem')
    const gap = problems.find((p) => p.kind === 'seq-gap')
    assert.ok(gap, show(av))
    assert.equal(gap.object, `author ${self}`)
    assert.match(gap.message, new RegExp(`seq ${target.seq} is missing`))
    assert.ok(problems.some((p) => p.kind === 'journal-gap' && p.object === `journal ${Number(target.key[1])}`), show(av))
    const human = await cli(['audit', 'verify', '--data', copy])
    assert.match(human.stdout, /the audit trail is not intact/)

    const v = await cli(['log', 'verify', '--data', copy, '--json'])
    assert.equal(v.code, 1, show(v))
    assert.ok(v.records.some((x) => x.type === 'problem' && x.kind === 'missing-parent'), show(v))
  })

  it('the newest own ops deleted leave no hole, but the journal ends below the high-water mark: both verifies fail, writes are held', async () => {
    const copy = join(root.path, 'truncated')
    await cp(data, copy, { recursive: true })
    const entries = await journal(copy)
    const newest = entries.slice(-2)
    const kv = await LevelKvStore.open(join(copy, 'index'))
    await kv.batch(newest.map((e) => ({ type: 'del' as const, key: e.key })))
    await kv.close()
    const head = Math.max(...entries.slice(0, -2).map((e) => e.seq))
    const mark = Math.max(...newest.map((e) => e.seq))

    for (const args of [['log', 'verify'], ['audit', 'verify'], ['audit', 'verify', '--keyless']]) {
      const r = await cli([...args, '--data', copy, '--json'])
      assert.equal(r.code, 1, show(r))
      const problem = r.records.find((x) => x.type === 'problem' && x.kind === 'journal-truncated')
      assert.ok(problem, `${args.join(' ')}: ${show(r)}`)
      assert.match(problem.message, new RegExp(`signed its own ops up to seq ${mark}, but the journal ends at ${head}: 2 of its newest ops were deleted or lost`))
    }
    // No seq is signed again: an import (node stopped) is refused, and status says why.
    const fresh = await writeStudies(join(root.path, 'in-truncated'), [{ seed: 45, patient: PATIENT, profile: 'ct', slices: 1 }])
    const imp = await cli(['import', '--data', copy, fresh.dir])
    assert.notEqual(imp.code, 0, show(imp))
    assert.match(imp.stderr, new RegExp(`journal ends at its own seq ${head}, but its high-water mark .* holds seq ${mark}`))
    const st = await cli(['status', '--data', copy])
    assert.match(st.stdout, new RegExp(`WRITES HELD: this node's journal ends at its own seq ${head}, but its high-water mark holds seq ${mark}`))
    assert.equal(Math.max(...(await journal(copy)).map((e) => e.seq)), head, 'nothing was signed')
  })

  it('reordered audit ops (two journal entries swapped) are caught by audit verify', async () => {
    const copy = join(root.path, 'reordered')
    await cp(data, copy, { recursive: true })
    const entries = await journal(copy)
    const audits = entries.filter((e) => e.type === 'audit.event')
    const [first, second] = [audits.at(-2)!, audits.at(-1)!]
    const kv = await LevelKvStore.open(join(copy, 'index'))
    await kv.batch([{ type: 'put', key: first.key, value: second.bytes }, { type: 'put', key: second.key, value: first.bytes }])
    await kv.close()
    const av = await cli(['audit', 'verify', '--data', copy, '--json'])
    assert.equal(av.code, 1, show(av))
    const order = av.records.find((x) => x.type === 'problem' && x.kind === 'journal-order')
    assert.ok(order, show(av))
    assert.match(order.message, /journal entries were reordered/)
  })
})
