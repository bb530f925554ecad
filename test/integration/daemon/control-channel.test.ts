/**
 * The CLI's channel to a running node is the data dir's control.sock (owner-only Unix socket),
 * never a URL and token read from a file: a stale control.json naming a live PID of some other
 * process (the review's case: a PID reused after a crash) gets no request and no secret; a
 * crashed node's socket makes commands run on the data dir themselves; a socket that is not
 * the node's own (another user's, world-writable, not a socket) is refused. A closed stdout
 * ends a command quietly.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, chown, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { childEnv, CLI, runCli, show } from '../../helpers/cli.ts'
import { tempDir } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'
import { socketPathFor } from '../../../node/daemon/socket-path.ts'

test('the CLI reaches a running node through its owner-only control socket, not over TCP', async (t) => {
  const data = join(await tempDir(t, 'peerpacs-control-'), 'data')
  const node = await startNode(t, data)
  const socket = await lstat(join(data, 'control.sock'))
  assert.ok(socket.isSocket())
  assert.equal(socket.mode & 0o777, 0o600)
  assert.equal(socket.uid, process.getuid!())
  const studies = await runCli(['studies', '--data', data, '--json'])
  assert.equal(studies.code, 0, show(studies))
  assert.ok(node.logs().some((r) => r.event === 'cli.command' && r.command === 'studies'), 'the command ran inside the node')
  // The control token no longer opens a command channel over HTTP.
  const control = JSON.parse(await readFile(join(data, 'control.json'), 'utf8')) as { token: string }
  const tcp = await fetch(`${node.url}/api/cli/run`, { method: 'POST', headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'studies', argv: [] }) })
  assert.equal(tcp.status, 404)
  assert.equal(await node.stop('SIGTERM'), 0)
  await assert.rejects(lstat(join(data, 'control.sock')), { code: 'ENOENT' }, 'a stopped node removes its socket')
})

test('a stale control.json pointing at another live process gets no request; a crashed node\'s socket makes commands run locally', async (t) => {
  const data = join(await tempDir(t, 'peerpacs-control-stale-'), 'data')
  const node = await startNode(t, data)
  await node.stop('SIGKILL')
  await lstat(join(data, 'control.sock')) // left behind by the crash
  // An impostor: a live process (this one) listening where control.json says, ready to answer.
  const seen: IncomingMessage[] = []
  const impostor = createHttpServer((req, res) => {
    seen.push(req)
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.end(JSON.stringify({ fd: 1, text: 'fsck: 0 errors\n' }) + '\n' + JSON.stringify({ exit: 0 }) + '\n')
  })
  impostor.listen(0, '127.0.0.1')
  await once(impostor, 'listening')
  t.after(() => { impostor.close() })
  const url = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`
  await writeFile(join(data, 'control.json'), JSON.stringify({ pid: process.pid, url, token: 'ppc_stale' }) + '\n', { mode: 0o600 })

  const fsck = await runCli(['fsck', '--data', data, '--json'])
  assert.equal(fsck.code, 0, show(fsck))
  assert.equal(seen.length, 0, 'the impostor was never contacted')
  assert.ok(!fsck.stdout.includes('fsck: 0 errors'), 'the answer is the real fsck, run on the data dir')
  assert.ok(fsck.records.length > 0, show(fsck))

  // And the node starts again over the leftover socket.
  const again = await startNode(t, data)
  const studies = await runCli(['studies', '--data', data])
  assert.equal(studies.code, 0, show(studies))
  assert.ok(again.logs().some((r) => r.event === 'cli.command'), 'the command went through the restarted node')
})

test('a control.sock that is not the node\'s own is refused with its reason, before anything is sent', async (t) => {
  const root = await tempDir(t, 'peerpacs-control-foreign-')
  const data = join(root, 'data')
  const init = await runCli(['init', '--data', data, '--recovery-key-out', join(root, 'recovery.key')])
  assert.equal(init.code, 0, show(init))
  const file = join(data, 'control.sock')
  let connections = 0
  const listener = createNetServer((s) => { connections++; s.destroy() })
  listener.listen(file)
  await once(listener, 'listening')
  t.after(() => { listener.close() })

  await chmod(file, 0o666)
  const open = await runCli(['studies', '--data', data])
  assert.equal(open.code, 3, show(open))
  assert.match(open.stderr, /control\.sock is open to other users \(mode 666\).*refusing/)

  if (process.getuid!() === 0) {
    // As root, stage the review's case: a data dir of user 1, and a socket in it of user 65534.
    await chmod(root, 0o755)
    await once(spawn('chown', ['-R', '1:1', data]), 'exit')
    await chmod(file, 0o600)
    await chown(file, 65534, 65534)
    const asUser = spawn(process.execPath, [CLI, 'studies', '--data', data], { env: childEnv(), uid: 1, gid: 1, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    asUser.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const [code] = await once(asUser, 'exit') as [number | null]
    assert.equal(code, 3, stderr)
    assert.match(stderr, /control\.sock belongs to user 65534, not to this user \(1\).*refusing/)
  }
  assert.equal(connections, 0, 'nothing connected to a socket that is not the node\'s own')

  listener.close()
  await rm(file, { force: true })
  await writeFile(file, 'not a socket')
  const plain = await runCli(['studies', '--data', data])
  assert.equal(plain.code, 3, show(plain))
  assert.match(plain.stderr, /control\.sock is not a socket/)
})

test('a data dir deeper than a socket path allows still gets its control channel', async (t) => {
  const root = await tempDir(t, 'peerpacs-control-deep-')
  const deep = join(root, 'a-folder-name-of-forty-characters-long-x', 'another-folder-name-of-forty-characters', 'data')
  await mkdir(deep, { recursive: true })
  assert.ok(Buffer.byteLength(join(deep, 'control.sock')) > 108)
  const node = await startNode(t, deep)
  const studies = await runCli(['studies', '--data', deep])
  assert.equal(studies.code, 0, show(studies))
  assert.ok(node.logs().some((r) => r.event === 'cli.command'), 'the command went through the node')
  const target = socketPathFor(join(deep, 'control.sock'))
  assert.match(target.path, /^\/proc\/self\/fd\/\d+\/control\.sock$/)
  target.release()
})

test('a closed stdout ends a command quietly with exit 0, through a node and on the data dir', async (t) => {
  const root = await tempDir(t, 'peerpacs-control-epipe-')
  const data = join(root, 'data')
  const runClosed = async (args: string[]): Promise<{ code: number | null, stderr: string }> => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.destroy() // the reader is gone before the first line (`| head -c 0`)
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const [code] = await once(child, 'exit') as [number | null]
    return { code, stderr }
  }
  const init = await runCli(['init', '--data', data, '--recovery-key-out', join(root, 'recovery.key')])
  assert.equal(init.code, 0, show(init))
  const local = await runClosed(['audit', '--data', data, '--json'])
  assert.deepEqual(local, { code: 0, stderr: '' })
  await startNode(t, data)
  const remote = await runClosed(['audit', '--data', data, '--json'])
  assert.deepEqual(remote, { code: 0, stderr: '' })
  const after = await runCli(['studies', '--data', data])
  assert.equal(after.code, 0, 'the node still answers: ' + show(after))
})
