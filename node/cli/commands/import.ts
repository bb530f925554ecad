/** `peerpacs import PATH...`: encrypts and indexes DICOM Part 10 files and folders. */
import { importPaths, type ImportEvent } from '../../archive/import-files.ts'
import type { CommandSpec } from '../command.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatBytes, formatRate } from '../output.ts'

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'Import DICOM files and folders (recursively) into the encrypted archive.',
  args: 'PATH...',
  minArgs: 1,
  maxArgs: Number.POSITIVE_INFINITY,
  usesKeys: true,
  description: `
Every file under the given paths is read once: its structure is checked end to end, it is
encrypted and fsynced, then indexed. A file is reported imported only once it is durable.
The same SOPInstanceUID again is a duplicate (nothing changes) when its bytes are identical,
and rejected when they differ (the stored instance is kept). Files that are not DICOM Part 10
are skipped; broken DICOM files are rejected with the reason. Exit code 1 when any file
was rejected.

With --json, one line per file ({"type":"file","status":...}) and a final summary line.`,
  options: {
    concurrency: { type: 'string', value: 'N', help: 'files processed at once (default 3)' }
  },

  async run (context) {
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
      out.line(`imported ${summary.imported}, duplicates ${summary.duplicates}, rejected ${summary.rejected}, skipped ${summary.skipped} ` +
        `(of ${summary.files} files; ${formatBytes(summary.bytesImported)} stored in ${summary.seconds.toFixed(1)} s, ${formatRate(summary.bytesRead, summary.seconds)})`)
      return summary.rejected > 0 ? EXIT.PROBLEMS : EXIT.OK
    })
  }
}
