/** What `peerpacs export` does (its options and help: commands/export.ts). */
import { exportStudy } from '../../archive/export-study.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { refuseOnKeylessNode } from '../keyless.ts'
import type { Archive } from '../../archive/archive.ts'
import { keys } from '../../archive/index-layout.ts'
import { formatBytes } from '../output.ts'
import type { CommandContext } from '../command.ts'

/**
 * Instances of the study that another node registered and whose blob this node does not hold
 * yet (what this node stored itself has arrived by definition; a copy it replaced has no blob).
 */
async function notYetArrived (archive: Archive, studyInstanceUid: string): Promise<number> {
  const studyId = await archive.findStudyId(studyInstanceUid)
  if (studyId === undefined) return 0
  const study = (await archive.log()).oplog.state.studies.get(studyId)
  let missing = 0
  for (const instance of study?.instances.values() ?? []) {
    if ((instance.author as string) === archive.keyring.nodeId) continue
    if (await archive.kv.get(keys.blob(instance.blob.id as never)) === undefined) missing++
  }
  return missing
}

export async function run (context: CommandContext): Promise<number> {
  const { args, out } = context
  return await withArchive(context, 'export', 'required', async (archive) => {
    await refuseOnKeylessNode(archive, 'export studies')
    let done = 0
    const summary = await exportStudy(archive, args[0]!, args[1]!, (event) => {
      done++
      out.record(event)
      if (event.status === 'failed') out.line(`failed    ${event.sopInstanceUid}: ${event.reason}`)
      out.progress(`exporting ${done} instances`)
    })
    out.done()
    out.record({ type: 'summary', ...summary })
    out.line(`exported ${summary.exported} of ${summary.instances} instances (${formatBytes(summary.bytes)}) to ${summary.dir}` +
      (summary.failed > 0 ? `; ${summary.failed} failed` : ''))
    // A study still arriving from other sites is never passed off as complete (invariant 4).
    const missing = await notYetArrived(archive, summary.studyInstanceUid)
    if (missing > 0) {
      out.record({ type: 'incomplete', studyInstanceUid: summary.studyInstanceUid, notYetArrived: missing })
      out.warn(`the study is not complete at this node: ${missing} instance(s) the log names have not arrived yet; \`peerpacs status\` shows the transfer`)
    }
    return summary.failed > 0 || missing > 0 ? EXIT.PROBLEMS : EXIT.OK
  })
}
