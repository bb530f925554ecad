/**
 * `peerpacs backup verify`: challenges the org's backup node(s) for blocks and checks each
 * against the signed log (node/mesh/backup-verification.ts). Needs the running node: it talks
 * to the backup over the mesh.
 */
import { lazyRun, type CommandSpec } from '../command.ts'

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
  run: lazyRun(async () => await import('../run/backup.ts'))
}
