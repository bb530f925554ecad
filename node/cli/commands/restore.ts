/**
 * `peerpacs restore --from ADDR --recovery-key FILE`: rebuilds a site from the org's backup on an
 * empty machine (node/mesh/restore.ts has the steps). Nothing is written until the backup has
 * accepted the recovery key and the genesis matches it. Run again on the same data dir, it
 * resumes (the log step is idempotent; blobs resume from the verified blocks held).
 */
import { lazyRun, type CommandSpec } from '../command.ts'

export const restore: CommandSpec = {
  name: 'restore',
  summary: 'Rebuild a site from the org\'s backup with the recovery key (disaster recovery).',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
  restore --from ADDR --recovery-key FILE [--replace NODE_ID,...] [--data DIR]

On an empty machine: connects to the backup node at ADDR (its full multiaddr, ending in
/p2p/<peer id>) presenting the org's recovery key, fetches and verifies the whole log, opens
every key epoch with the recovery key, and makes this new node an admin site of the org. The
lost site is removed in a signed op so its key can do no more (--replace names it when the
org has several active sites). Then every blob is fetched from the backup, verified and
indexed, with progress. A wrong recovery key is refused before anything is written. If the
restore is interrupted, run the same command again: it resumes where it stopped.`,
  options: {
    from: { type: 'string', value: 'ADDR', help: 'the backup\'s multiaddr, with /p2p/<peer id>' },
    'recovery-key': { type: 'string', value: 'FILE', help: 'a file holding the org\'s recovery key (as init showed it)' },
    replace: { type: 'string', value: 'NODE_IDS', help: 'the lost site(s) to remove (default: the org\'s only active site)' }
  },
  run: lazyRun(async () => await import('../run/restore.ts'))
}
