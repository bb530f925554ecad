/** `peerpacs fsck`: verifies every blob and index entry. */
import { fsck } from '../../archive/fsck.ts'
import { UsageError, type CommandSpec } from '../command.ts'
import { rebuildIndex } from '../../archive/rebuild-index.ts'
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
could lose data. --rebuild first derives the index again from the signed log (every study and
instance the log registers, opened with this node's keys; index records the log does not name
are dropped), then checks as usual. Exit code 1 when any error was found (even if repaired).`,
  options: {
    keyless: { type: 'boolean', help: 'check without keys: blob hashes only' },
    repair: { type: 'boolean', help: 'fix what can be fixed (see above)' },
    rebuild: { type: 'boolean', help: 'derive the index from the signed log, then check' }
  },

  async run (context) {
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
