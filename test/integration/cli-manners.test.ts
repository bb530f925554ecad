/**
 * What a clinic's IT person sees in the first hour (issue 20 item 8): a mistyped command gets a
 * suggestion, help text keeps its tables aligned, an import of nothing new says so in words.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { test } from 'node:test'
import { childEnv, runCli, show } from '../helpers/cli.ts'
import { writeStudies, mixedStudies } from '../helpers/dataset.ts'
import { tempDir } from '../helpers/files.ts'
import { startNode } from '../helpers/node-process.ts'

test('a mistyped command is answered with the command it most likely meant', async () => {
  for (const [typed, meant] of [['studis', 'studies'], ['stauts', 'status'], ['improt', 'import'], ['memb', 'members'], ['FSCK', 'fsck']] as const) {
    const r = await runCli([typed])
    assert.equal(r.code, 2, show(r))
    assert.match(r.stderr, new RegExp(`unknown command "${typed}"; did you mean "${meant}"\\?`), show(r))
  }
  const far = await runCli(['xyzzy'])
  assert.equal(far.code, 2)
  assert.doesNotMatch(far.stderr, /did you mean/)
})

test('a help text that opens with a table keeps its first row aligned with the others', async () => {
  const help = await runCli(['token', '--help'])
  assert.equal(help.code, 0, show(help))
  const rows = help.stdout.split('\n').filter((l) => /^\s*token (create|list|revoke)/.test(l))
  assert.equal(rows.length, 3, help.stdout)
  assert.ok(rows.every((l) => l.startsWith('  token ')), rows.join('\n'))
})

test('an import that stores nothing new says so instead of "0 B stored at n kB/s"; counts are in words', async (t) => {
  const root = await tempDir(t, 'peerpacs-manners-')
  const data = join(root, 'data')
  assert.equal((await runCli(['init', '--data', data, '--recovery-key-out', join(root, 'rk')])).code, 0)
  const set = await writeStudies(join(root, 'in'), mixedStudies(1))
  const first = await runCli(['import', '--data', data, set.dir])
  assert.equal(first.code, 0, show(first))
  assert.match(first.stdout, /stored in [\d.]+ s, read at /)
  const again = await runCli(['import', '--data', data, set.dir])
  assert.equal(again.code, 0, show(again))
  assert.match(again.stdout, new RegExp(`imported 0, duplicates ${set.instances.length}, .*nothing new stored; [\\d.]+ \\w?B read in [\\d.]+ s`))
  assert.doesNotMatch(again.stdout, /0 B stored/)
})

test('status counts in words: "1 active member", "1 study"', async (t) => {
  const root = await tempDir(t, 'peerpacs-manners-status-')
  const data = join(root, 'data')
  await startNode(t, data)
  const set = await writeStudies(join(root, 'in'), mixedStudies(1).slice(0, 1))
  assert.equal((await runCli(['import', '--data', data, set.dir])).code, 0)
  const status = await runCli(['status', '--data', data])
  assert.equal(status.code, 0, show(status))
  assert.match(status.stdout, /\d+ ops, 1 active member, 1 study in the log\./, status.stdout)
})

test('the launcher keeps Node\'s compile cache in the project, owner-only, so commands skip type stripping after the first run', async () => {
  const launcher = fileURLToPath(new URL('../../bin/peerpacs.js', import.meta.url))
  const cache = fileURLToPath(new URL('../../node_modules/.cache/peerpacs-compile', import.meta.url))
  const run = spawnSync(process.execPath, [launcher, '--help'], { env: childEnv(), encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /Usage: peerpacs COMMAND/)
  const entries = readdirSync(cache, { recursive: true })
  assert.ok(entries.length > 0, 'the cache holds compiled modules')
  assert.equal(statSync(cache).mode & 0o077, 0, 'no one but its owner may write (or read) the cache')
})
