/** `peerpacs studies`: lists the studies in the archive. */
import { lazyRun, type CommandSpec } from '../command.ts'

export const studies: CommandSpec = {
  name: 'studies',
  summary: 'List the studies in the archive.',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
One row per study: patient, patient id, study date, description, modalities, series and
instance counts, and the StudyInstanceUID (what \`peerpacs export\` takes). With --json, one
JSON object per study with every catalogued attribute.`,
  options: {},
  run: lazyRun(async () => await import('../run/studies.ts'))
}
