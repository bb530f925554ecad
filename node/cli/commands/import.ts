/** `peerpacs import PATH...`: encrypts and indexes DICOM Part 10 files and folders. */
import { lazyRun, type CommandSpec } from '../command.ts'

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
was rejected, or when the run's audit record could not be written (the files stay stored;
the warning says so). An import of many studies is audited as several records, together
naming every study.

With --json, one line per file ({"type":"file","status":...}) and a final summary line.`,
  options: {
    concurrency: { type: 'string', value: 'N', help: 'files processed at once (default 3)' }
  },
  run: lazyRun(async () => await import('../run/import.ts'))
}
