/** What `peerpacs backup` does (its options and help: commands/backup.ts). */
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { NodeNotRunningError } from './invite.ts'
import type { CommandContext } from '../command.ts'

export async function run (context: CommandContext): Promise<number> {
  const { args, values, out, node } = context
  if (args[0] !== 'verify') throw new UsageError(`unknown backup action "${args[0] ?? ''}"`, 'use `peerpacs backup verify`')
  if (values.all === true && values.blocks !== undefined) throw new UsageError('give --blocks N or --all, not both')
  let count: number | 'all' = 64
  if (values.all === true) count = 'all'
  else if (values.blocks !== undefined) {
    count = Number(values.blocks)
    if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) throw new UsageError(`--blocks "${String(values.blocks).slice(0, 20)}" is not a number from 1 to 1000000`)
  }
  const verify = node?.mesh?.verifyBackup
  if (verify === undefined) throw new NodeNotRunningError('backup verify needs the running node (`peerpacs start`): it talks to the backup over the mesh', 'start the node, then run the command again')
  const report = await verify(count)
  for (const p of report.problems) {
    out.record({ type: 'problem', ...p })
    out.line(`${p.outcome.padEnd(8)} backup ${p.backup}: blob ${p.blob} block ${p.block}${p.detail === undefined ? '' : ` (${p.detail})`}`)
  }
  const connected = report.backups.filter((b) => b.connected).length
  out.record({ type: 'summary', time: report.time, backups: report.backups, checked: report.checked, ok: report.ok, problems: report.problems.length })
  if (report.backups.length === 0) out.line('This org has no backup node yet: add one with `peerpacs invite --role backup`.')
  else if (connected === 0) out.line(`No backup node is connected (${report.backups.length} in the org): nothing was verified.`)
  else out.line(`${report.ok} of ${report.checked} blocks on ${connected} backup node(s) match the log; ${report.problems.length} problem(s).`)
  return connected > 0 && report.problems.length === 0 ? EXIT.OK : EXIT.PROBLEMS
}
