/**
 * One process at a time holds a data dir: a second command is refused with who holds it, and
 * works again once the holder is gone.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { it } from 'node:test'
import { Archive } from '../../node/archive/archive.ts'
import { provider, random } from '../../node/runtime.ts'
import { runCli, show } from '../helpers/cli.ts'
import { tempDir } from '../helpers/files.ts'

it('a second process on the same data dir is refused, naming the holder', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  const holder = await Archive.open(data, { keys: 'required', passphrase: undefined, provider, random, command: 'import' })
  let closed = false
  t.after(async () => { if (!closed) await holder.close() })

  const second = await runCli(['studies', '--data', data])
  assert.equal(second.code, 3, show(second))
  assert.match(second.stderr, new RegExp(`data dir .* is in use by another peerpacs process \\(pid ${process.pid}, \`peerpacs import\`, since `))
  assert.match(second.stderr, /hint: wait for it to finish, or stop it, then try again/)
  const json = await runCli(['fsck', '--data', data, '--keyless', '--json'])
  assert.equal(json.records[0]!.code, 'DATA_DIR_BUSY')

  await holder.close()
  closed = true
  const after = await runCli(['studies', '--data', data])
  assert.equal(after.code, 0, show(after))
})
