/**
 * The README's first command ends in `npm start`: on a fresh folder it creates ./data, a sample
 * study in ./sample, imports and lists it; run again, it changes nothing.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { childEnv } from '../helpers/cli.ts'
import { tempDir } from '../helpers/files.ts'

const QUICKSTART = fileURLToPath(new URL('../../scripts/quickstart.ts', import.meta.url))
const PROJECT = fileURLToPath(new URL('../..', import.meta.url))

it('npm start initialises ./data, imports a sample study and lists it; a second run is idempotent', async (t) => {
  const cwd = await tempDir(t)
  const first = spawnSync(process.execPath, [QUICKSTART], { cwd, env: childEnv(), encoding: 'utf8' })
  assert.equal(first.status, 0, first.stdout + first.stderr)
  assert.ok(existsSync(join(cwd, 'data', 'peerpacs.json')))
  assert.ok(existsSync(join(cwd, 'sample')))
  assert.match(first.stdout, /RECOVERY KEY/)
  assert.match(first.stdout, /imported 16, duplicates 0, rejected 0, skipped 0/)
  assert.match(first.stdout, /ZZTESTPATIENT\^JANE\^Q/)
  const second = spawnSync(process.execPath, [QUICKSTART], { cwd, env: childEnv(), encoding: 'utf8' })
  assert.equal(second.status, 0, second.stdout + second.stderr)
  assert.match(second.stdout, /imported 0, duplicates 16/)
  assert.doesNotMatch(second.stdout, /RECOVERY KEY/)
})

it('`npm start` itself, as the README runs it, does the same through npm', async (t) => {
  const dir = await tempDir(t)
  const env = childEnv({ PEERPACS_DATA: join(dir, 'data'), PEERPACS_SAMPLE: join(dir, 'sample') })
  const r = spawnSync('npm', ['start', '--silent'], { cwd: PROJECT, env, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /imported 16, duplicates 0, rejected 0, skipped 0/)
  assert.ok(existsSync(join(dir, 'data', 'peerpacs.json')))
})
