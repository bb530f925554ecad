/**
 * `peerpacs backup verify`: challenges the org's backup node(s) for blocks and checks each
 * against the signed log (node/mesh/backup-verification.ts). Needs the running node: it talks
 * to the backup over the mesh.
 */
import { UsageError, type CommandSpec } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { NodeNotRunningError } from './invite.ts'

export const backup: CommandSpec = {
  name: 'backup',
  summary: 'Check the backup: challenge it for blocks and verify them against the signed log.',
  args: 'verify',
  minArgs: 1,
  maxArgs: 1,
  usesKeys: true,
  description: `
  backup verify [--blocks N | --all]

Asks every connected backup node for N blocks (default 64) chosen at random among the
blobs the log names, or for every block with --all, and checks each against its hash in the
signed log. Reports every block that is missing or damaged on the backup (exit 1 if any, or
if no backup is connected). A backup that finds its own copy damaged while answering fetches
it again from a site. The result is audited (110113) and shown by \`peerpacs status\`.
Needs the node running (\`peerpacs start\`).`,
  options: {
    blocks: { type: 'string', value: 'N', help: 'how many random blocks to check (default 64)' },
    all: { type: 'boolean', help: 'check every block of every blob' }
  },

  async run (context) {
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
}
