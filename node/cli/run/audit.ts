/** What `peerpacs audit` does (its options and help: commands/audit.ts). */
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  auditLogUsedEvent, NAMES, nodeSource, OBJECT_ROLE, ID_TYPE, matchesAuditFilter, openAuditRecord, toDicomAuditXml, toJsonLine,
  type AuditFilter, type AuditRecord
} from '../../../protocol/audit/index.ts'
import { toHex } from '../../../protocol/encoding.ts'
import { PeerpacsError } from '../../../protocol/errors.ts'
import type { SignedOpOf } from '../../../protocol/log/index.ts'
import { cliUser } from '../../audit/actors.ts'
import { auditFilterFrom, type FilterField, type FilterSurface } from '../../audit/audit-filter-input.ts'
import { readAuditTrail, type AuditEntry } from '../../audit/audit-trail.ts'
import type { Archive } from '../../archive/archive.ts'
import { writeFileAtomic } from '../../store/atomic-file.ts'
import { UsageError, type CommandSpec, type OptionValues } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import type { LogProblem } from '../../log/journal-check.ts'
import { checkArchiveLog } from '../../log/own-chain.ts'
import { ownChainLines, withLogCheck } from '../log-check.ts'
import { withArchive } from '../open-archive.ts'
import { formatTable, type Output } from '../output.ts'
import type { CommandContext } from '../command.ts'

const FILTER_OPTIONS = ['since', 'until', 'patient', 'study', 'user', 'event'] as const
const FORMATS = ['jsonl', 'dicom-xml'] as const
type Format = typeof FORMATS[number]

const CLI_FILTER: FilterSurface = { name: (field) => `--${field}`, fail: (message, hint) => new UsageError(message, hint) }

export function auditFilterOf (values: OptionValues): AuditFilter {
  const given: Partial<Record<FilterField, string>> = {}
  for (const field of FILTER_OPTIONS) { const v = values[field]; if (typeof v === 'string') given[field] = v }
  return auditFilterFrom(given, CLI_FILTER)
}

function eventName (r: AuditRecord): string {
  const name = `${r.eventId} ${NAMES.eventId(r.eventId) ?? ''}`
  const types = (r.eventTypeCodes ?? []).map((t) => NAMES.eventType(t) ?? String(t))
  return types.length === 0 ? name : `${name}: ${types.join(', ')}`
}

const OUTCOMES: Record<number, string> = { 0: 'success', 4: 'minor failure', 8: 'serious failure', 12: 'major failure' }

/** Ids shown in one table cell; a record (or part) naming more says "+N more" (--json lists all). */
const CELL_IDS = 3

/** Up to CELL_IDS distinct ids, the one searched for first, then how many more. */
function cell (ids: readonly string[], wanted: string | undefined): string {
  const distinct = [...new Set(ids)]
  const shown = wanted !== undefined && distinct.includes(wanted) ? [wanted, ...distinct.filter((id) => id !== wanted)] : distinct
  const more = shown.length - CELL_IDS
  return more > 0 ? `${shown.slice(0, CELL_IDS).join(',')} +${more} more` : shown.join(',')
}

function row (r: AuditRecord, filter: AuditFilter): string[] {
  const users = r.participants.filter((p) => p.requestor).map((p) => p.userId)
  return [
    new Date(r.time).toISOString(),
    eventName(r),
    r.action,
    OUTCOMES[r.outcome] ?? String(r.outcome),
    (users.length > 0 ? users : [r.participants[0]?.userId ?? '']).join(','),
    cell(r.objects.filter((o) => o.roleCode === OBJECT_ROLE.patient).map((o) => o.id), filter.patient),
    cell(r.objects.filter((o) => o.idTypeCode === ID_TYPE.studyInstanceUid).map((o) => o.id), filter.study)
  ]
}

/** Records that this trail was read or exported (110101 Audit Log Used), after the fact; warns when that could not be written. */
async function recordUse (archive: Archive, out: Output): Promise<void> {
  const auditor = archive.auditor
  try {
    await auditor.record(auditLogUsedEvent({
      time: Date.now(),
      source: nodeSource(archive.keyring.nodeId),
      user: cliUser(),
      log: `urn:peerpacs:org:${archive.keyring.orgId}:audit`
    }))
  } catch (error) {
    out.warn('this use of the audit trail could not be recorded in it (110101 Audit Log Used); see the node\'s log')
    throw error
  }
}

function warnUnreadable (entries: readonly AuditEntry[], out: Output): void {
  for (const e of entries) {
    out.record({ type: 'unreadable', opId: e.opId, author: e.author, seq: e.seq, problem: e.problem ?? 'no record' })
    out.warn(`audit op ${e.opId} (by ${e.author}, seq ${e.seq}) does not open: ${e.problem ?? 'no record'} — run \`peerpacs audit verify\``)
  }
}

async function readFiltered (archive: Archive, filter: AuditFilter): Promise<{ matched: Array<AuditEntry & { record: AuditRecord }>, unreadable: AuditEntry[], total: number }> {
  const entries = await readAuditTrail(archive)
  const matched: Array<AuditEntry & { record: AuditRecord }> = []
  const unreadable: AuditEntry[] = []
  for (const e of entries) {
    if (e.record === undefined) unreadable.push(e)
    else if (matchesAuditFilter(e.record, filter)) matched.push(e as AuditEntry & { record: AuditRecord })
  }
  return { matched, unreadable, total: entries.length }
}

export async function run (context: CommandContext): Promise<number> {
  const { values, args, out } = context
  const action = args[0] ?? 'list'
  if (action !== 'list' && action !== 'verify' && action !== 'export') throw new UsageError(`unknown audit action "${action}"`, 'use `peerpacs audit` (search), `audit verify` or `audit export`')
  if (action !== 'export') {
    for (const name of ['format', 'out'] as const) if (values[name] !== undefined) throw new UsageError(`--${name} is for \`peerpacs audit export\``)
  }
  if (action !== 'verify' && values.keyless === true) throw new UsageError('--keyless is for `peerpacs audit verify`')
  if (action === 'verify') {
    for (const name of FILTER_OPTIONS) if (values[name] !== undefined) throw new UsageError(`--${name} does not apply to \`audit verify\`: it checks the whole trail`)
    return await verify(context.values.keyless === true, context)
  }
  const filter = auditFilterOf(values)
  if (action === 'export') {
    const format = (values.format ?? 'jsonl') as string
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format "${format}" is not known`, 'use jsonl or dicom-xml')
    const target = typeof values.out === 'string' ? resolve(values.out) : undefined
    if (target === undefined && out.json) throw new UsageError('with --json, `audit export` needs --out FILE (stdout carries the JSON records)')
    if (target !== undefined) {
      const exists = await access(target).then(() => true, () => false)
      if (exists) throw new UsageError(`${target} exists; it is not overwritten`, 'choose another --out FILE, or move that file away')
    }
    return await exportTrail(context, filter, format as Format, target)
  }
  return await withArchive(context, 'audit', 'required', async (archive) => {
    const { matched, unreadable, total } = await readFiltered(archive, filter)
    for (const e of matched) {
      const line = toJsonLine(e.record, { opId: e.opId, author: e.author, seq: e.seq })
      out.recordLine(`{"type":"audit",${line.slice(1)}`)
    }
    warnUnreadable(unreadable, out)
    out.record({ type: 'summary', matched: matched.length, records: total, unreadable: unreadable.length })
    if (matched.length === 0) {
      out.line(total === 0 ? 'The audit trail is empty.' : `No audit record matches (of ${total}).`)
    } else {
      const rows = [['TIME', 'EVENT', 'ACTION', 'OUTCOME', 'USER', 'PATIENT', 'STUDY'], ...matched.map((e) => row(e.record, filter))]
      for (const line of formatTable(rows)) out.line(line)
      out.line('')
      out.line(`${matched.length} of ${total} records.`)
    }
    await recordUse(archive, out)
    return unreadable.length > 0 ? EXIT.PROBLEMS : EXIT.OK
  })
}

async function exportTrail (context: Parameters<CommandSpec['run']>[0], filter: AuditFilter, format: Format, target: string | undefined): Promise<number> {
  const { out } = context
  return await withArchive(context, 'audit', 'required', async (archive) => {
    const { matched, unreadable, total } = await readFiltered(archive, filter)
    const lines = matched.map((e) => format === 'jsonl'
      ? toJsonLine(e.record, { opId: e.opId, author: e.author, seq: e.seq })
      : toDicomAuditXml(e.record))
    const body = format === 'jsonl'
      ? lines
      : ['<?xml version="1.0" encoding="UTF-8"?>', '<AuditMessages>', ...lines, '</AuditMessages>']
    if (target === undefined) {
      for (const line of body) out.line(line)
    } else {
      await writeFileAtomic(target, body.map((l) => l + '\n').join(''), 0o600)
    }
    warnUnreadable(unreadable, out)
    out.record({ type: 'summary', format, exported: matched.length, records: total, unreadable: unreadable.length, ...(target === undefined ? {} : { out: target }) })
    if (target !== undefined) out.line(`Exported ${matched.length} of ${total} audit records (${format}) to ${target}.`)
    await recordUse(archive, out)
    return unreadable.length > 0 ? EXIT.PROBLEMS : EXIT.OK
  })
}

async function verify (keyless: boolean, context: Parameters<CommandSpec['run']>[0]): Promise<number> {
  const { out } = context
  return await withLogCheck(context, 'audit', keyless ? 'none' : 'required', async (archive, keyring) => {
    const check = await checkArchiveLog(archive, context.node?.status?.())
    const { state, oplog } = check
    const problems: LogProblem[] = [...check.problems]
    for (const r of check.rejected) {
      if (r.opType !== 'audit.event') continue
      problems.push({ kind: 'audit-rejected', object: `op ${r.opId}`, message: `audit op ${r.opId} (by ${r.author}, seq ${r.seq}) was rejected by the log's rules (${r.reason}): it does not count as a record` })
    }
    // Outside a node the keyring is this command's own: teach it the epochs of the verified state.
    // (A running node's keyring already follows its live log.)
    if (keyring !== undefined && context.node === undefined) keyring.learnEpochs(state)
    let events = 0
    let opened = 0
    const perAuthor: Array<{ author: string, ops: number, audit: number }> = []
    const opsByAuthor = new Map<string, number>()
    for (const op of oplog.ops()) opsByAuthor.set(op.authorId, Math.max(opsByAuthor.get(op.authorId) ?? 0, op.seq))
    for (const [author, ids] of state.audit) {
      events += ids.length
      perAuthor.push({ author, ops: opsByAuthor.get(author) ?? 0, audit: ids.length })
      if (keyring === undefined) continue
      for (const id of ids) {
        const op = oplog.get(id) as SignedOpOf<'audit.event'> | undefined
        if (op === undefined) continue
        try {
          openAuditRecord(archive.provider, keyring.epochKey(toHex(op.body.epoch)), { org: keyring.orgId, author: op.author }, op.body.sealed)
          opened++
        } catch (error) {
          problems.push({ kind: 'audit-unreadable', object: `op ${id}`, message: `the record of audit op ${id} (by ${author}, seq ${op.seq}) does not open: ${error instanceof PeerpacsError ? error.message : String(error)}` })
        }
      }
    }
    for (const p of problems) out.record({ type: 'problem', severity: 'error', ...p })
    out.record({ type: 'summary', ok: problems.length === 0, authors: check.authors, ops: check.ops, auditEvents: events, opened: keyring === undefined ? null : opened, keyless: keyring === undefined, ownChain: check.ownChain, problems: problems.length })
    for (const a of perAuthor) out.line(`${a.author}: chain of ${a.ops} ops, ${a.audit} audit records`)
    for (const line of ownChainLines(check.ownChain)) out.line(line)
    out.line(`${events} audit records by ${perAuthor.length} author${perAuthor.length === 1 ? '' : 's'}; ${keyring === undefined ? 'records not opened (--keyless)' : `${opened} opened`}`)
    if (problems.length > 0) {
      out.line('')
      for (const p of problems) out.line(`ERROR: ${p.object}: ${p.message}`)
      out.line('')
      out.line(`${problems.length} problem${problems.length === 1 ? '' : 's'} found: the audit trail is not intact. Restore the data dir from its backup; keep this copy as evidence.`)
      return EXIT.PROBLEMS
    }
    out.line('OK: every chain is complete, every op verifies, no fork, no rejected audit op' + (keyring === undefined ? '.' : ', every record opens.'))
    return EXIT.OK
  })
}
