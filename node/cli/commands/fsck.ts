/** `peerpacs fsck`: verifies every blob and index entry. */
import { fsck } from '../../archive/fsck.ts'
import type { CommandSpec } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatBytes } from '../output.ts'

export const fsckCommand: CommandSpec = {
  name: 'fsck',
  summary: 'Verify every stored object and index entry; report each problem with what to do.',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
With the node's keys, every study key and record is opened and every instance is read back
through all of its checks. With --keyless (no passphrase needed), every stored object is
checked against its recorded block hashes only. Blobs that no record names (left by an
interrupted import) are warnings. --repair never deletes: it moves damaged and unnamed blobs
to quarantine/, drops damaged instances from the index (re-import the originals to restore
them) and mends lookups; when the index itself is damaged or missing it repairs nothing that
could lose data. Exit code 1 when any error was found (even if repaired).`,
  options: {
    keyless: { type: 'boolean', help: 'check without keys: blob hashes only' },
    repair: { type: 'boolean', help: 'fix what can be fixed (see above)' }
  },

  async run (context) {
    const { values, out } = context
    const keyless = values.keyless === true
    return await withArchive(context, 'fsck', keyless ? 'none' : 'required', async (archive) => {
      const report = await fsck(archive, {
        keyless,
        repair: values.repair === true,
        onProgress: (p) => out.progress(`checking ${p.phase}: ${p.done}/${p.total}`)
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
}
