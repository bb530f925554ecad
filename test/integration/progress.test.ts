/**
 * Long work shows progress on a terminal, and only there: under a pseudo-terminal (util-linux
 * `script`) import, export, fsck and log verify rewrite a status line; piped, nothing but results is printed.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { it } from 'node:test'
import { CLI, childEnv, runCli } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { tempDir } from '../helpers/files.ts'
import { KNOWN_PATIENTS } from '../synthetic/study.ts'

function onTerminal (args: string[]): string {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], { env: childEnv(), encoding: 'utf8' })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('`script` is not on PATH: install the Debian package util-linux')
  assert.equal(r.status, 0, r.stdout + r.stderr)
  return r.stdout
}

it('import, export, fsck and log verify show progress on a terminal and not in a pipe', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), [{ seed: 71, patient: KNOWN_PATIENTS[0]!, profile: 'mixed' }])
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  const importing = onTerminal(['import', '--data', data, set.dir])
  assert.match(importing, /\rimporting \d+\/16 files/)
  assert.match(importing, /imported 16, duplicates 0/)
  const [uid] = set.studies.keys()
  assert.match(onTerminal(['export', '--data', data, uid!, join(root, 'out')]), /\rexporting \d+ instances/)
  assert.match(onTerminal(['fsck', '--data', data]), /\rchecking studies: \d+\/1/)
  assert.match(onTerminal(['log', 'verify', '--data', data]), /\rreplaying the log from scratch \(\d+ journal entries\)/)
  const piped = await runCli(['import', '--data', data, set.dir])
  assert.doesNotMatch(piped.stdout + piped.stderr, /\r/)
})
