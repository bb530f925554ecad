/** `peerpacs log verify`: checks the signed log as stored, op by op, and the index against it. */
import { lazyRun, type CommandSpec } from '../command.ts'

export const logCommand: CommandSpec = {
  name: 'log',
  summary: 'Verify the signed log: every op, every author\'s chain, the replayed state, the index.',
  args: 'verify',
  minArgs: 1,
  maxArgs: 1,
  usesKeys: false,
  description: `
Actions:
  log verify   reads every op stored in the journal and checks it from its bytes alone: the
               signature, the canonical encoding, the body, the org. Then it checks that
               every author's ops form the chain 1..n with no op missing, that every op's
               parents are held, that no author signed two ops at one seq (a fork), and
               that the state built op by op equals a replay from scratch. This node's own
               chain must reach its high-water mark (log-mark.json, kept apart from the
               journal), and, through a running node, every seq a peer or the backup holds
               of it: "peer X holds seq N of this node but the journal ends at M" is a
               problem (newest entries were deleted). Last, the index
               must agree with the log: every study the log registers is in the index, and
               the index holds no study the log does not register.

It prints counts (ops, authors, members, studies, instances, audit events, epochs), the ops
the log's rules rejected (signed facts, kept as evidence; not damage) and every problem.
It needs no keys, works on a log that no longer loads, and works whether the node runs or
not. Exit code 1 when any problem was found: restore the data dir from its backup (or, once
peers exist, let it sync the missing ops back).

With --json: one {"type":"problem"} record per problem, one {"type":"rejected"} per rejected
op, and a final {"type":"summary"}.`,
  options: {},
  run: lazyRun(async () => await import('../run/log.ts'))
}
