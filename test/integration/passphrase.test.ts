/**
 * Keys sealed with a passphrase: every command that opens them needs it; a missing or wrong one
 * is a clear error (exit 4) and changes nothing in the data dir, byte for byte. --passphrase-file
 * works and ignores a trailing newline. fsck --keyless needs no passphrase.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { runCli, show } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { snapshotTree, tempDir } from '../helpers/files.ts'
import { KNOWN_PATIENTS } from '../synthetic/study.ts'

it('a sealed data dir opens only with the right passphrase, and a wrong one modifies nothing', { timeout: 180_000 }, async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const passFile = join(root, 'pass.txt')
  await writeFile(passFile, 'Tr0ub4dor&3 with spaces\n')
  const set = await writeStudies(join(root, 'in'), [{ seed: 51, patient: KNOWN_PATIENTS[0]!, profile: 'mixed' }])

  const init = await runCli(['init', '--data', data, '--passphrase-file', passFile, '--json'])
  assert.equal(init.code, 0, show(init))
  assert.equal(init.records[0]!.sealed, true)
  assert.doesNotMatch(init.stderr, /no passphrase/)
  const imported = await runCli(['import', '--data', data, set.dir], { PEERPACS_PASSPHRASE: 'Tr0ub4dor&3 with spaces' })
  assert.equal(imported.code, 0, show(imported))

  const before = await snapshotTree(data)
  const tries: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['no passphrase', ['studies', '--data', data], {}, /sealed with a passphrase[\s\S]*hint: set PEERPACS_PASSPHRASE or pass --passphrase-file/],
    ['wrong passphrase (env)', ['studies', '--data', data], { PEERPACS_PASSPHRASE: 'Tr0ub4dor&3' }, /wrong passphrase for the keys in .*; nothing was changed/],
    ['wrong passphrase on import', ['import', '--data', data, set.dir], { PEERPACS_PASSPHRASE: 'nope' }, /wrong passphrase/],
    ['wrong passphrase on fsck --repair', ['fsck', '--repair', '--data', data], { PEERPACS_PASSPHRASE: 'nope' }, /wrong passphrase/],
    ['wrong passphrase on export', ['export', '--data', data, set.instances[0]!.studyInstanceUid, join(root, 'out')], { PEERPACS_PASSPHRASE: 'nope' }, /wrong passphrase/]
  ]
  for (const [what, args, env, pattern] of tries) {
    const r = await runCli(args, env)
    assert.equal(r.code, 4, `${what}\n${show(r)}`)
    assert.match(r.stderr, pattern, what)
    assert.deepEqual(await snapshotTree(data), before, `${what}: the data dir is byte-identical afterwards`)
  }
  const json = await runCli(['studies', '--data', data, '--json'], { PEERPACS_PASSPHRASE: 'x' })
  assert.equal(json.records[0]!.code, 'WRONG_PASSPHRASE')

  const right = await runCli(['studies', '--data', data, '--passphrase-file', passFile, '--json'])
  assert.equal(right.code, 0, show(right))
  assert.equal(right.records.filter((r) => r.type === 'study').length, 1)
  const keyless = await runCli(['fsck', '--data', data, '--keyless'])
  assert.equal(keyless.code, 0, show(keyless))
})

it('init without a passphrase warns that the keys are not sealed', async (t) => {
  const root = await tempDir(t)
  const r = await runCli(['init', '--data', join(root, 'data')])
  assert.equal(r.code, 0, show(r))
  assert.match(r.stderr, /warning: no passphrase given: the node's keys in .* are stored unsealed/)
  assert.match(r.stdout, /RECOVERY KEY \(shown once, never stored/)
  assert.match(r.stdout, /PPRK1(-[0-9A-Z]{1,5}){12}/)
})

it('--recovery-key-out writes the key once, mode 0600, and never over an existing file or into the data dir', async (t) => {
  const root = await tempDir(t)
  const keyFile = join(root, 'recovery.txt')
  const r = await runCli(['init', '--data', join(root, 'a'), '--recovery-key-out', keyFile])
  assert.equal(r.code, 0, show(r))
  assert.doesNotMatch(r.stdout, /PPRK1/)
  const { readFile, stat } = await import('node:fs/promises')
  assert.match(await readFile(keyFile, 'utf8'), /^PPRK1(-[0-9A-Z]{1,5}){12}\n$/)
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600)
  const again = await runCli(['init', '--data', join(root, 'b'), '--recovery-key-out', keyFile])
  assert.equal(again.code, 2, show(again))
  assert.match(again.stderr, /already exists \(not overwritten\)/)
  await assert.rejects(stat(join(root, 'b')), 'nothing was created for the refused init')
  const inside = await runCli(['init', '--data', join(root, 'c'), '--recovery-key-out', join(root, 'c', 'key.txt')])
  assert.equal(inside.code, 2, show(inside))
  assert.match(inside.stderr, /must be outside the data dir/)
})
