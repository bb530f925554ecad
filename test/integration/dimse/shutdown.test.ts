/**
 * close(): a C-STORE under way when the node stops is allowed to finish and is stored (and
 * acknowledged) before the associations are aborted; no new association is accepted.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { writeStudies } from '../../helpers/dataset.ts'
import { NODE_AE, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { tempDir } from '../../helpers/files.ts'

test('close() lets a C-STORE under way finish, then stops', async (t) => {
  const node = await startDimseNode(t)
  const dir = await tempDir(t)
  const set = await writeStudies(dir, [{ seed: 61, profile: 'ct', slices: 1 }])
  // One instance with 48 MiB of pixel data, so the store is still arriving when close() is called.
  const big = join(dir, 'big.dcm')
  await copyFile(set.instances[0]!.path, big)
  await writeFile(join(dir, 'px.raw'), Buffer.alloc(48 << 20, 3))
  const sop = '1.2.826.0.1.3680043.9.7433.61.1'
  const modify = await runTool(t, 'dcmodify', ['-nb', '-gin', '-m', `(0008,0018)=${sop}`, '-if', `(7fe0,0010)=${join(dir, 'px.raw')}`, big])
  assert.equal(modify.code, 0, modify.stderr)

  const child = spawn('storescu', ['-v', '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(node.port), big], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL') })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  const exited = once(child, 'close')
  while (!node.logs.some((l) => l.includes('dimse.store.receiving'))) {
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const stored = await node.pacs.findInstance(sop)
  await node.server.close()
  await exited
  // On a very fast machine the store may have finished already; then the drain was not exercised.
  if (stored !== undefined) t.diagnostic('the store finished before close() was called')
  assert.ok(await node.pacs.findInstance(sop) !== undefined, 'and it was stored')
  assert.match(output, /Received Store Response \(Success\)/, output)
  const after = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.notEqual(after.code, 0)
})
