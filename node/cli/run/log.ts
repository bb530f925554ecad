/** What `peerpacs log` does (its options and help: commands/log.ts). */
import { isStudyId } from '../../../protocol/study-id.ts'
import { keys } from '../../archive/index-layout.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import type { LogProblem } from '../../log/journal-check.ts'
import { checkArchiveLog } from '../../log/own-chain.ts'
import { ownChainLines, withLogCheck } from '../log-check.ts'
import type { CommandContext } from '../command.ts'

export async function run (context: CommandContext): Promise<number> {
  const { args, out } = context
  if (args[0] !== 'verify') throw new UsageError(`unknown log action "${args[0] ?? ''}"`, 'use `peerpacs log verify`')
  return await withLogCheck(context, 'log', 'none', async (archive) => {
    const check = await checkArchiveLog(archive, context.node?.status?.(), (p) => {
      out.progress(p.phase === 'ops' ? `verifying the log: ${p.entries} journal entries` : `replaying the log from scratch (${p.entries} journal entries)`, p.phase === 'replay')
    })
    out.done()
    const { state } = check
    const problems: LogProblem[] = [...check.problems]

    // The index against the log: studies both ways.
    const indexed = new Set<string>()
    for await (const [key] of archive.kv.entries(keys.studies)) {
      const id = key[1] ?? ''
      if (key.length !== 2) continue
      indexed.add(id)
      if (!isStudyId(id) || !state.studies.has(id)) {
        problems.push({ kind: 'study-not-in-log', object: `study ${id}`, message: `the index holds study ${id}, but the log registers no such study` })
      }
    }
    // A study another site registered is indexed here once one of its blobs has arrived; until
    // then it is still being fetched (or this node holds no key for it), not missing.
    let fetching = 0
    for (const [id, study] of state.studies) {
      if (indexed.has(id)) continue
      let held = false
      for (const instance of study.instances.values()) if (await archive.kv.get(keys.blob(instance.blob.id as never)) !== undefined) held = true
      if ((study.registeredBy as string) !== archive.meta.nodeId && !held) { fetching++; continue }
      // A backup holds no key: it indexes blobs, never studies.
      if (state.members.get(archive.meta.nodeId as never)?.role === 'backup') continue
      problems.push({ kind: 'study-not-in-index', object: `study ${id}`, message: `the log registers study ${id}, but the index has no record of it` })
    }

    let instances = 0
    for (const s of state.studies.values()) instances += s.instances.size
    let auditEvents = 0
    for (const list of state.audit.values()) auditEvents += list.length
    const activeMembers = [...state.members.values()].filter((m) => !m.removed && m.levels.size > 0).length

    for (const r of check.rejected) {
      out.record({ type: 'rejected', ...r })
    }
    for (const p of problems) out.record({ type: 'problem', severity: 'error', ...p })
    const summary = {
      type: 'summary',
      ok: problems.length === 0,
      org: state.orgId,
      fetching,
      journalEntries: check.entries,
      ops: check.ops,
      authors: check.authors,
      members: state.members.size,
      activeMembers,
      epochs: state.epochs.length,
      studies: state.studies.size,
      indexedStudies: indexed.size,
      instances,
      auditEvents,
      caseUpdates: [...state.caseUpdates.values()].reduce((n, l) => n + l.length, 0),
      rejected: check.rejected.length,
      forks: state.forks.size,
      ownChain: check.ownChain,
      problems: problems.length,
      stateDigest: check.incrementalDigest
    }
    out.record(summary)

    out.line(`log of org ${state.orgId} (${state.name})`)
    out.line(`  ${check.ops} ops (${check.entries} journal entries) by ${check.authors} author${check.authors === 1 ? '' : 's'}`)
    out.line(`  ${state.members.size} members (${activeMembers} active), ${state.epochs.length} key epoch${state.epochs.length === 1 ? '' : 's'}`)
    out.line(`  ${state.studies.size} studies registered (${indexed.size} in the index), ${instances} instances`)
    out.line(`  ${auditEvents} audit events, ${summary.caseUpdates} case updates`)
    out.line(`  ${check.rejected.length} rejected ops, ${state.forks.size} forks`)
    out.line(`  state digest ${check.incrementalDigest}${check.incrementalDigest === check.replayDigest ? ' (equals a replay from scratch)' : ''}`)
    for (const line of ownChainLines(check.ownChain)) out.line(line)
    if (check.rejected.length > 0) {
      out.line('')
      out.line('Rejected ops (signed, kept as evidence, never applied):')
      for (const r of check.rejected) out.line(`  ${r.opId.slice(0, 16)}  ${r.opType.padEnd(16)}  ${r.reason.padEnd(18)}  by ${r.author} seq ${r.seq}`)
    }
    if (problems.length > 0) {
      out.line('')
      for (const p of problems) out.line(`ERROR: ${p.object}: ${p.message}`)
      out.line('')
      out.line(`${problems.length} problem${problems.length === 1 ? '' : 's'} found. The log was damaged or altered; restore the data dir from its backup.`)
      return EXIT.PROBLEMS
    }
    out.line('')
    out.line('OK: every op verifies, every chain is complete, replay agrees, the index matches the log.')
    return EXIT.OK
  })
}
