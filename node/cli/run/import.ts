/** What `peerpacs import` does (its options and help: commands/import.ts). */
import { importPaths, type ImportEvent } from '../../archive/import-files.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatBytes, formatRate } from '../output.ts'
import type { CommandContext } from '../command.ts'

export async function run (context: CommandContext): Promise<number> {
  const { values, args, out } = context
  const concurrency = values.concurrency === undefined ? 3 : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError('--concurrency must be an integer from 1 to 64')
  return await withArchive(context, 'import', 'required', async (archive) => {
    let total = 0
    let done = 0
    let bytes = 0
    const started = performance.now()
    const onEvent = (event: ImportEvent): void => {
      if (event.type === 'scanned') {
        total = event.files
        out.record(event)
        return
      }
      if (event.type === 'audit') {
        out.record(event)
        if (event.problem !== undefined) {
          out.done()
          out.warn(`the files listed as imported are stored, but this import's audit record (110107 Import, ${event.studies} ` +
            `stud${event.studies === 1 ? 'y' : 'ies'}) ${event.written === 0 ? 'could not be written' : `was written only in part (${event.written} of ${event.records} records)`}: ${event.problem}. ` +
            'Do not import them again; see the node\'s log and run `peerpacs audit verify`.')
        }
        return
      }
      done++
      bytes += event.size
      out.record(event)
      if (event.status === 'rejected') out.line(`rejected  ${event.path}: ${event.reason}`)
      else if (event.status === 'skipped') out.line(`skipped   ${event.path}: ${event.reason}`)
      out.progress(`importing ${done}/${total} files  ${formatBytes(bytes)}  ${formatRate(bytes, (performance.now() - started) / 1000)}`)
    }
    const summary = await importPaths(archive, args, onEvent, concurrency, context.node === undefined ? undefined : async (source, size) => await context.node!.pacs.ingest(source, size))
    out.done()
    const maxRssBytes = process.resourceUsage().maxRSS * 1024
    out.record({ type: 'summary', ...summary, maxRssBytes })
    const stored = summary.bytesImported > 0
      ? `${formatBytes(summary.bytesImported)} stored in ${summary.seconds.toFixed(1)} s, read at ${formatRate(summary.bytesRead, summary.seconds)}`
      : `nothing new stored; ${formatBytes(summary.bytesRead)} read in ${summary.seconds.toFixed(1)} s`
    out.line(`imported ${summary.imported}, duplicates ${summary.duplicates}, rejected ${summary.rejected}, skipped ${summary.skipped} ` +
      `(of ${summary.files} file${summary.files === 1 ? '' : 's'}; ${stored})`)
    if (summary.audit.problem !== undefined) out.line('the import completed; its audit record is incomplete (see the warning above)')
    // Files stored but not all audited is a completed command with a problem (1), never a failed import (70).
    return summary.rejected > 0 || summary.audit.problem !== undefined ? EXIT.PROBLEMS : EXIT.OK
  })
}
