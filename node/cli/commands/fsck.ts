/** `peerpacs fsck`: verifies every blob and index entry. */
import { lazyRun, type CommandSpec } from '../command.ts'

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
  run: lazyRun(async () => await import('../run/fsck.ts'))
}
