/**
 * A slow, unreliable link: sites A and B run in two network namespaces joined only by a veth
 * pair with a 20 Mbit/s tbf rate limit (test/helpers/netns-link.ts), and the link is taken
 * down twice for a few seconds in the middle of the transfer. B still ends with every instance,
 * verified, and exports the studies byte-identical to A. Skipped (with the reason) where
 * network namespaces are not available.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { writeStudies } from '../../helpers/dataset.ts'
import { sha256Hex, tempDir } from '../../helpers/files.ts'
import { createLimitedLink, netnsAvailable } from '../../helpers/netns-link.ts'
import { cliIn, startIn, statusIn } from '../../helpers/netns-node.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'




async function hashes (dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) e.isDirectory() ? await walk(join(d, e.name)) : out.push(sha256Hex(await readFile(join(d, e.name))))
  }
  await walk(dir)
  return out.sort()
}

test('over a 20 Mbit/s link that drops twice, B still gets every instance, verified', async (t: TestContext) => {
  const available = await netnsAvailable()
  if (!available.ok) { t.skip(available.reason); return }
  const root = await tempDir(t, 'peerpacs-slow-')
  const link = await createLimitedLink({ rateMbit: 20 })
  t.after(async () => { await link.close() })
  const a = join(root, 'a')
  const b = join(root, 'b')
  const init = await cliIn(link, link.nsA, ['init', '--data', a, '--name', 'Slow Link Practice', '--recovery-key-out', join(root, 'recovery.key')])
  assert.equal(init.code, 0, init.stderr)
  // About 8 MB sealed: ~3 s at 20 Mbit/s, long enough to cut the link twice.
  const set = await writeStudies(join(root, 'in'), [
    { seed: 901, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 12 },
    { seed: 902, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 12 }
  ])
  assert.equal((await cliIn(link, link.nsA, ['import', set.dir, '--data', a])).code, 0)
  await startIn(link, link.nsA, a, `/ip4/${link.addrA}/tcp/4001`)
  const invite = await cliIn(link, link.nsA, ['invite', '--role', 'site', '--json', '--data', a])
  const code = /"code":"([^"]+)"/.exec(invite.stdout)?.[1]
  assert.ok(code !== undefined, invite.stdout + invite.stderr)
  const joined = await cliIn(link, link.nsB, ['init', '--join', code, '--data', b])
  assert.equal(joined.code, 0, joined.stderr)
  await startIn(link, link.nsB, b, `/ip4/${link.addrB}/tcp/4001`)

  // Two outages while the blobs flow.
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await link.setDown(true)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    await link.setDown(false)
  }
  const until = Date.now() + 180_000
  let s: Record<string, any> = {}
  while (Date.now() < until) {
    s = await statusIn(link, link.nsB, b)
    if (s.mesh?.studies?.local === 2 && s.mesh.studies.partial === 0 && s.mesh.studies.remoteOnly === 0) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  assert.equal(s.mesh?.studies?.local, 2, `B holds both studies: ${JSON.stringify(s.mesh?.studies ?? s)}`)
  for (const study of [...new Set(set.instances.map((i) => i.studyInstanceUid))]) {
    const outA = join(root, `xa-${study.slice(-6)}`)
    const outB = join(root, `xb-${study.slice(-6)}`)
    assert.equal((await cliIn(link, link.nsA, ['export', study, outA, '--data', a])).code, 0)
    assert.equal((await cliIn(link, link.nsB, ['export', study, outB, '--data', b])).code, 0)
    assert.deepEqual(await hashes(outB), await hashes(outA), `study ${study} is byte-identical at B`)
  }
  const verify = await cliIn(link, link.nsB, ['fsck', '--data', b])
  assert.equal(verify.code, 0, verify.stdout + verify.stderr)
})
