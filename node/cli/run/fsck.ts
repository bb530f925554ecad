/** What `peerpacs fsck` does (its options and help: commands/fsck.ts). */
import { fsck } from '../../archive/fsck.ts'
import { UsageError } from '../command.ts'
import { rebuildIndex } from '../../archive/rebuild-index.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatBytes } from '../output.ts'
import type { CommandContext } from '../command.ts'

export async function run (context: CommandContext): Promise<number> {
  const { values, out } = context
  const keyless = values.keyless === true
  if (keyless && values.rebuild === true) throw new UsageError('--rebuild needs the node\'s keys; it cannot run with --keyless')
  return await withArchive(context, 'fsck', keyless ? 'none' : 'required', async (archive) => {
    if (values.rebuild === true) {
      const rebuilt = await rebuildIndex(archive, (done, total) => out.progress(`rebuilding the index from the log: ${done}/${total} studies`))
      out.done()
      out.record({ type: 'rebuild', studies: rebuilt.studies, instances: rebuilt.instances, dropped: rebuilt.dropped, unopened: rebuilt.unopened.length })
      out.line(`rebuilt the index from the log: ${rebuilt.studies} studies, ${rebuilt.instances} instances; ${rebuilt.dropped} entries the log does not name were dropped`)
      for (const u of rebuilt.unopened) out.warn(`study ${u.studyId} of the log does not open here: ${u.message}`)
    }
    let phase = ''
    const report = await fsck(archive, {
      keyless,
      repair: values.repair === true,
      // Each phase shows at least once (a new phase is not held back by the ten-a-second limit).
      onProgress: (p) => {
        out.progress(`checking ${p.phase}: ${p.done}${p.total === undefined ? '' : `/${p.total}`}`, p.phase !== phase)
        phase = p.phase
      }
    })
    out.done()
    for (const problem of report.problems) {
      out.record({ type: 'problem', ...problem })
      out.line(`${problem.severity.toUpperCase()}: ${problem.object}: ${problem.message}`)
      out.line(`  what to do: ${problem.action}`)
      if (problem.repaired !== undefined) out.line(`  repair: ${problem.repaired}`)
    }
    out.record({ type: 'summary', mode: report.mode, checked: report.checked, errors: report.errors, warnings: report.warnings, seconds: report.seconds })
    const c = report.checked
    out.line(`checked ${c.studies} studies, ${c.instances} instances, ${c.blobs} blobs (${formatBytes(c.bytes)}) [${report.mode}]: ` +
      `${report.errors} errors, ${report.warnings} warnings`)
    return report.errors > 0 ? EXIT.PROBLEMS : EXIT.OK
  })
}
