/**
 * `peerpacs status`: what the node holds and how it is connected. Through a running node: the
 * mesh (peers, ops each is behind, transfers, per-study state: local, partial, remote-only) and
 * the last sync time; with the node stopped: the log and the catalogue only, and says so.
 * Either way it names forks in the log and a hold on this node's writes (its journal lacks own
 * ops it signed: node/log/node-log.ts), and, running, each peer's refused ops and their reason.
 */
import { lazyRun, type CommandSpec } from '../command.ts'

export const status: CommandSpec = {
  name: 'status',
  summary: 'Show the node: peers, sync state, transfers, and which studies are held here.',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
With the node running (\`peerpacs start\`): its peer id and addresses, every member with
whether it is connected, how many ops it lacked at the last sync and when that was, the
blobs and bytes still to fetch, and how many studies are local (every instance here),
partial (some) or remote-only (none yet). With the node stopped: the log and the catalogue.
Forks (an author that signed two ops with one seq) are named; so is a hold on this node's
writes (its journal lacks its own newest ops: it fetches them back from a peer first), and,
running, the ops each peer sent that this node refused, with the last reason.
--json prints one object.`,
  options: {},
  run: lazyRun(async () => await import('../run/status.ts'))
}
