/**
 * Bad input to the mesh's commands and settings gets a clear error and a meaningful exit code,
 * and leaves nothing behind: restore without its flags, with an address lacking the peer id or
 * an unreadable recovery key; backup verify with a bad count or without the running node;
 * start with a --p2p or --peer that is not a multiaddr.
 */
import assert from 'node:assert/strict'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, show } from '../../helpers/cli.ts'
import { tempDir } from '../../helpers/files.ts'

test('restore, backup verify and start refuse bad input with a reason', async (t) => {
  const root = await tempDir(t, 'peerpacs-mesh-usage-')
  const key = join(root, 'not-a-key.txt')
  await writeFile(key, 'hello\n')
  const cases: Array<[string[], number, RegExp]> = [
    [['restore', '--data', join(root, 'r1')], 2, /--from is required/],
    [['restore', '--from', '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRxyz', '--data', join(root, 'r2')], 2, /--recovery-key is required/],
    [['restore', '--from', '/ip4/127.0.0.1/tcp/4001', '--recovery-key', key, '--data', join(root, 'r3')], 4, /cannot read a recovery key/],
    [['backup', 'verify', '--blocks', 'lots', '--data', join(root, 'none')], 2, /--blocks "lots" is not a number/],
    [['backup', 'verify', '--blocks', '5', '--all', '--data', join(root, 'none')], 2, /not both/],
    [['backup', 'check', '--data', join(root, 'none')], 2, /unknown backup action/],
    [['invite', 'shred', '--data', join(root, 'none')], 2, /unknown invite action/],
    [['start', '--data', join(root, 'd1'), '--p2p', 'tcp://nowhere'], 2, /--p2p: "tcp:\/\/nowhere" is not a multiaddr/],
    [['start', '--data', join(root, 'd2'), '--peer', '/ip4/999.1.1.1/tcp/1'], 2, /--peer: .* is not a multiaddr/]
  ]
  for (const [args, code, message] of cases) {
    const r = await runCli(args)
    assert.equal(r.code, code, `${args.join(' ')}: ${show(r)}`)
    assert.match(r.stderr, message, args.join(' '))
  }
  // A restore with a usable key file but an address without a peer id: refused before connecting, nothing written.
  const real = join(root, 'real.key')
  const init = await runCli(['init', '--data', join(root, 'founder'), '--recovery-key-out', real])
  assert.equal(init.code, 0, show(init))
  const noPeer = await runCli(['restore', '--from', '/ip4/127.0.0.1/tcp/4001', '--recovery-key', real, '--data', join(root, 'r4')])
  assert.equal(noPeer.code, 2, show(noPeer))
  assert.match(noPeer.stderr, /names no peer id/)
  for (const dir of ['r1', 'r2', 'r3', 'r4', 'd1', 'd2']) await assert.rejects(stat(join(root, dir)), `${dir}: nothing was written`)
  const verify = await runCli(['backup', 'verify', '--data', join(root, 'founder')])
  assert.equal(verify.code, 3, show(verify))
  assert.match(verify.stderr, /needs the running node/)
})
