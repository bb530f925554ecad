/** `peerpacs export STUDY DIR`: writes a study's instances back, byte for byte as imported. */
import { lazyRun, type CommandSpec } from '../command.ts'

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'Write a study\'s instances to a folder, byte-identical to what was imported.',
  args: 'STUDY DIR',
  minArgs: 2,
  maxArgs: 2,
  usesKeys: true,
  description: `
STUDY is a StudyInstanceUID (as \`peerpacs studies\` lists) or a study id. Files are written to
DIR/<SeriesInstanceUID>/<SOPInstanceUID>.dcm. Every instance is checked (block hashes,
authenticated decryption, the SHA-256 recorded at import) before its file appears; a damaged
instance is reported and not written, the others still are. Exit code 1 when any instance
failed, 5 when the study does not exist.`,
  options: {},
  run: lazyRun(async () => await import('../run/export.ts'))
}
