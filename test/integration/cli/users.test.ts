/**
 * `peerpacs users`, `token create --user` and the first admin at `init`, as an operator runs them:
 * real CLI processes on a real data dir, first with the node stopped, then through a running
 * node (`peerpacs start`, stopped by PID), whose HTTP edge then honours what was done: a
 * token's role, a disabled account, a changed password, sessions ended from the command line.
 * Passwords reach the CLI on stdin, never in argv.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { EXIT } from '../../../node/cli/exit-codes.ts'
import { CLI, childEnv, parseRecords, runCli, show, type CliResult } from '../../helpers/cli.ts'
import { multipartBody } from '../../helpers/dicomweb-server.ts'
import { tempDir } from '../../helpers/files.ts'
import { startNode } from '../../helpers/node-process.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

const ADMIN_PASSWORD = 'violet tractor umbrella 93'
const TECH_PASSWORD = 'quartz lantern meadow 41'
const NEW_PASSWORD = 'copper giraffe harbour 77'

/** Runs the CLI with `input` on its stdin (a pipe, not a terminal). */
async function cliWithStdin (args: string[], input: string): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdin.end(input)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  return { code, signal, stdout, stderr, records: args.includes('--json') ? parseRecords(stdout) : [] }
}

function ok (r: CliResult): CliResult {
  assert.equal(r.code, 0, show(r))
  return r
}

async function usersOf (data: string): Promise<Map<string, Record<string, any>>> {
  const r = ok(await runCli(['users', 'list', '--json', '--data', data]))
  return new Map(r.records.filter((x) => x.type === 'user').map((x) => [x.username as string, x]))
}

it('users add/list/set-role/disable/enable/reset-mfa/passwd on a stopped node; a refused password, an unknown user or role write nothing', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  // A scripted init (stdin not a terminal, no password option) makes no admin and says how to add one.
  const init = ok(await runCli(['init', '--data', data, '--recovery-key-out', join(root, 'rk'), '--json']))
  assert.equal(init.records.find((x) => x.type === 'init')!.admin, null)
  const plain = ok(await runCli(['init', '--data', join(root, 'other'), '--recovery-key-out', join(root, 'rk2')]))
  assert.match(plain.stdout, /No admin account was made[^\n]*\n\s+peerpacs users add admin --role admin/)

  const added = ok(await cliWithStdin(['users', 'add', 'tess', '--role', 'technologist', '--display-name', 'Tess Tech', '--password-stdin', '--json', '--data', data], TECH_PASSWORD + '\n'))
  const tess = added.records.find((x) => x.type === 'user-added')!
  assert.equal(tess.username, 'tess')
  assert.equal(tess.role, 'technologist')
  assert.equal(tess.mfaRequired, false)
  assert.match(tess.id, /^[0-9a-f]{32}$/)
  const file = join(root, 'pw')
  await writeFile(file, ADMIN_PASSWORD + '\n', { mode: 0o600 })
  ok(await runCli(['users', 'add', 'boss', '--role', 'admin', '--password-file', file, '--data', data]))
  ok(await runCli(['users', 'add', 'pacs-bridge', '--role', 'integration', '--service', '--data', data]))

  // Refused before anything is written: a common password (exit USAGE, the rule named), no password
  // without a terminal, a password on the command line, an unknown role.
  const weak = await cliWithStdin(['users', 'add', 'wendy', '--role', 'referrer', '--password-stdin', '--data', data], 'password1234\n')
  assert.equal(weak.code, EXIT.USAGE, show(weak))
  assert.match(weak.stderr, /common passwords/)
  const weakJson = await cliWithStdin(['users', 'add', 'wendy', '--role', 'referrer', '--password-stdin', '--json', '--data', data], 'short\n')
  assert.equal(weakJson.code, EXIT.USAGE, show(weakJson))
  assert.equal(weakJson.records[0]!.code, 'PASSWORD_POLICY')
  assert.match(weakJson.records[0]!.message, /at least 12 characters/)
  const noTty = await runCli(['users', 'add', 'wendy', '--role', 'referrer', '--data', data])
  assert.equal(noTty.code, EXIT.USAGE, show(noTty))
  assert.match(noTty.stderr, /stdin is not a terminal[^]*--password-stdin/)
  const inArgv = await runCli(['users', 'add', 'wendy', '--role', 'referrer', '--password', 'x', '--data', data])
  assert.equal(inArgv.code, EXIT.USAGE, show(inArgv))
  const badRole = await cliWithStdin(['users', 'add', 'wendy', '--role', 'boss', '--password-stdin', '--data', data], TECH_PASSWORD)
  assert.equal(badRole.code, EXIT.USAGE, show(badRole))
  assert.match(badRole.stderr, /admin, radiologist, technologist, referrer, auditor, integration/)
  assert.equal((await usersOf(data)).has('wendy'), false, 'nothing was written')

  let list = await usersOf(data)
  assert.deepEqual([...list.keys()], ['tess', 'boss', 'pacs-bridge'])
  assert.equal(list.get('boss')!.mfaRequired, true)
  assert.equal(list.get('pacs-bridge')!.service, true)
  const table = ok(await runCli(['users', 'list', '--data', data])).stdout
  assert.match(table, /tess\s+Tess Tech\s+technologist\s+active\s+none\s+[0-9a-f]{32}/)
  assert.match(table, /boss\s+boss\s+admin\s+active\s+none \(enrols at sign-in\)/)

  const role = ok(await runCli(['users', 'set-role', 'tess', 'radiologist', '--json', '--data', data])).records.find((x) => x.type === 'user-role')!
  assert.deepEqual([role.role, role.previous, role.mfaRequired], ['radiologist', 'technologist', true])
  ok(await runCli(['users', 'set-role', tess.id, 'technologist', '--data', data]))
  const disabled = ok(await runCli(['users', 'disable', 'tess', '--reason', 'on leave', '--json', '--data', data])).records[0]!
  assert.deepEqual([disabled.type, disabled.disabled, disabled.sessionsEnded], ['user-disabled', true, 0])
  assert.equal((await usersOf(data)).get('tess')!.disabled, true)
  ok(await runCli(['users', 'enable', 'tess', '--data', data]))
  assert.equal((await usersOf(data)).get('tess')!.disabled, false)
  const reset = ok(await runCli(['users', 'reset-mfa', 'boss', '--json', '--data', data])).records[0]!
  assert.equal(reset.type, 'user-mfa-reset')
  ok(await cliWithStdin(['users', 'passwd', 'tess', '--password-stdin', '--data', data], NEW_PASSWORD + '\n'))
  const refused = await cliWithStdin(['users', 'passwd', 'tess', '--password-stdin', '--data', data], 'tess-password-1\n')
  assert.equal(refused.code, EXIT.USAGE, show(refused))
  assert.match(refused.stderr, /may not contain the username/)

  // An unknown user: NOT_FOUND, and how to list them; an unknown role for set-role.
  const unknown = await runCli(['users', 'disable', 'nobody', '--data', data])
  assert.equal(unknown.code, EXIT.NOT_FOUND, show(unknown))
  assert.match(unknown.stderr, /no account "nobody"[^]*peerpacs users list/)
  const unknownRole = await runCli(['users', 'set-role', 'tess', 'chief', '--data', data])
  assert.equal(unknownRole.code, EXIT.USAGE, show(unknownRole))
  assert.match(unknownRole.stderr, /"chief" is not a role[^]*one of admin/)
  list = await usersOf(data)
  assert.equal(list.get('tess')!.role, 'technologist')

  // Each change was audited with the operating-system user who ran it.
  const audit = ok(await runCli(['audit', '--event', '110113', '--json', '--data', data])).records.filter((x) => x.type === 'audit')
  assert.ok(audit.length >= 8, JSON.stringify(audit.slice(0, 2)))
  assert.ok(audit.every((a) => JSON.stringify(a).includes('os:')), 'the OS user is named')
})

it('through a running node: users and token --user take effect on HTTP at once; init with --admin-password-stdin gives an admin who signs in (stage mfa)', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const init = ok(await cliWithStdin(['init', '--data', data, '--recovery-key-out', join(root, 'rk'), '--admin', 'root.admin', '--admin-password-stdin', '--json'], ADMIN_PASSWORD + '\n'))
  const admin = init.records.find((x) => x.type === 'init')!.admin
  assert.equal(admin.username, 'root.admin')
  assert.match(admin.signIn, /^http:\/\/localhost:\d+\/$/)
  const node = await startNode(t, data)
  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${node.url}${path}`, init)
  const signIn = async (username: string, password: string): Promise<Response> =>
    await api('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })

  const first = await signIn('root.admin', ADMIN_PASSWORD)
  assert.equal(first.status, 200, await first.clone().text())
  const firstBody = await first.json() as Record<string, any>
  assert.equal(firstBody.stage, 'mfa')
  assert.equal(firstBody.secondFactor.enrol, true, 'the first sign-in enrols a second factor')

  // Accounts and tokens made through the node.
  ok(await cliWithStdin(['users', 'add', 'tess', '--role', 'technologist', '--password-stdin', '--data', data], TECH_PASSWORD + '\n'))
  ok(await runCli(['users', 'add', 'modality-bridge', '--role', 'technologist', '--service', '--data', data]))
  ok(await runCli(['users', 'add', 'gp-portal', '--role', 'referrer', '--service', '--data', data]))
  const tokenOf = async (args: string[]): Promise<Record<string, any>> => ok(await runCli(['token', 'create', ...args, '--json', '--data', data])).records.find((x) => x.type === 'token')!
  const techToken = await tokenOf(['--name', 'bridge', '--user', 'modality-bridge'])
  assert.equal(techToken.role, 'technologist')
  const refToken = await tokenOf(['--name', 'portal', '--user', 'gp-portal'])
  const legacy = await tokenOf(['--name', 'legacy'])
  assert.equal(legacy.role, 'integration')
  const tokens = ok(await runCli(['token', 'list', '--json', '--data', data])).records
  assert.deepEqual(tokens.map((x) => [x.name, x.username ?? null, x.role]), [['bridge', 'modality-bridge', 'technologist'], ['portal', 'gp-portal', 'referrer'], ['legacy', null, 'integration']])

  const bearer = (token: Record<string, any>): Record<string, string> => ({ authorization: `Bearer ${token.token as string}` })
  const instance = syntheticStudy({ seed: 7, profile: 'ct', slices: 1 })[0]!
  const stow = multipartBody([instance.bytes])
  const stored = await api('/dicomweb/studies', { method: 'POST', headers: { ...bearer(techToken), 'content-type': stow.contentType, accept: 'application/dicom+json' }, body: stow.body })
  assert.equal(stored.status, 200, await stored.clone().text())
  // A referrer may not ingest, and sees only what was shared with it (nothing yet).
  const refStow = await api('/dicomweb/studies', { method: 'POST', headers: { ...bearer(refToken), 'content-type': stow.contentType, accept: 'application/dicom+json' }, body: stow.body })
  assert.equal(refStow.status, 403, await refStow.clone().text())
  const refQido = await api('/dicomweb/studies', { headers: bearer(refToken) })
  assert.equal(refQido.status, 200, await refQido.clone().text())
  assert.deepEqual(await refQido.json(), [])
  const legacyQido = await api('/dicomweb/studies', { headers: bearer(legacy) })
  assert.equal(legacyQido.status, 200, await legacyQido.clone().text())
  assert.equal((await legacyQido.json() as unknown[]).length, 1)

  // Disabled: the token is refused at once; a disabled account gets no new token.
  ok(await runCli(['users', 'disable', 'modality-bridge', '--data', data]))
  assert.equal((await api('/dicomweb/studies', { headers: bearer(techToken) })).status, 401)
  const noToken = await runCli(['token', 'create', '--name', 'again', '--user', 'modality-bridge', '--data', data])
  assert.equal(noToken.code, EXIT.USAGE, show(noToken))
  assert.match(noToken.stderr, /is disabled/)
  const missing = await runCli(['token', 'create', '--name', 'ghost', '--user', 'ghost', '--data', data])
  assert.equal(missing.code, EXIT.NOT_FOUND, show(missing))

  // A person's sessions: listed and ended from the command line; a new password ends them too.
  const tess = await signIn('tess', TECH_PASSWORD)
  assert.equal(tess.status, 200, await tess.clone().text())
  assert.equal((await tess.json() as Record<string, any>).stage, 'full')
  const cookie = tess.headers.get('set-cookie')!.split(';')[0]!
  assert.equal((await api('/api/session', { headers: { cookie } })).status, 200)
  const sessions = ok(await runCli(['users', 'sessions', 'tess', '--json', '--data', data])).records.filter((x) => x.type === 'session')
  assert.equal(sessions.length, 1)
  assert.equal(sessions[0]!.stage, 'full')
  const ended = ok(await runCli(['users', 'sessions', 'tess', '--end', '--json', '--data', data])).records.find((x) => x.type === 'sessions-ended')!
  assert.equal(ended.ended, 1)
  assert.equal((await api('/api/session', { headers: { cookie } })).status, 401)

  const again = await signIn('tess', TECH_PASSWORD)
  const cookie2 = again.headers.get('set-cookie')!.split(';')[0]!
  const passwd = ok(await cliWithStdin(['users', 'passwd', 'tess', '--password-stdin', '--json', '--data', data], NEW_PASSWORD + '\n')).records[0]!
  assert.equal(passwd.sessionsEnded, 1)
  assert.equal((await api('/api/session', { headers: { cookie: cookie2 } })).status, 401)
  assert.equal((await signIn('tess', TECH_PASSWORD)).status, 401, 'the old password is refused')
  assert.equal((await signIn('tess', NEW_PASSWORD)).status, 200)

  // A weak password through the node: refused with the rule, nothing written.
  const weak = await cliWithStdin(['users', 'add', 'wendy', '--role', 'referrer', '--password-stdin', '--data', data], 'password1234\n')
  assert.equal(weak.code, EXIT.USAGE, show(weak))
  assert.match(weak.stderr, /common passwords/)
  assert.equal((await usersOf(data)).has('wendy'), false)
  // The password never reached the node's log.
  assert.ok(!node.stderr().includes(NEW_PASSWORD) && !node.stderr().includes(TECH_PASSWORD) && !node.stderr().includes('password1234'))
  assert.equal(await node.stop(), 0)
})

/** util-linux `script`, which gives a command a pseudo-terminal (a person at a keyboard). */
const SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0

/**
 * Runs the CLI on a pseudo-terminal and types each answer once its prompt has shown.
 * Returns everything the terminal showed and the exit code.
 */
async function typed (t: { after: (fn: () => void) => void }, args: string[], answers: Array<[RegExp, string]>): Promise<{ code: number | null, screen: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let screen = ''
  let next = 0
  let seenUpTo = 0
  const onData = (d: string): void => {
    screen += d
    while (next < answers.length) {
      const [prompt, answer] = answers[next]!
      const match = prompt.exec(screen.slice(seenUpTo))
      if (match === null) break
      seenUpTo += match.index + match[0].length
      next++
      child.stdin.write(answer + '\r')
    }
  }
  child.stdout.setEncoding('utf8').on('data', onData)
  child.stderr.setEncoding('utf8').on('data', onData)
  // A safety bound only: a prompt that never shows fails the test instead of hanging it.
  const stuck = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
  const [code] = await new Promise<[number | null]>((resolve) => child.on('close', (c) => resolve([c])))
  clearTimeout(stuck)
  child.stdin.destroy()
  assert.equal(next, answers.length, `every prompt showed and was answered:\n${screen}`)
  return { code, screen }
}

it('on a terminal: init asks for the first admin\'s password twice without echo (again when the policy refuses it), users passwd too; two different answers change nothing', { skip: SCRIPT ? false : 'util-linux script is not installed' }, async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const init = await typed(t, ['init', '--data', data, '--recovery-key-out', join(root, 'rk'), '--admin', 'chief'], [
    [/Password for the first admin account, chief: /, 'password1234'],
    [/That password is refused: [^\n]*common passwords[^]*Password for the first admin account, chief: /, ADMIN_PASSWORD],
    [/The same again: /, ADMIN_PASSWORD]
  ])
  assert.equal(init.code, 0, init.screen)
  assert.match(init.screen, /Admin account: chief \([0-9a-f]{32}\)/)
  assert.match(init.screen, /Sign in as chief at http:\/\/localhost:\d+\/[^]*authenticator/)
  assert.ok(!init.screen.includes(ADMIN_PASSWORD) && !init.screen.includes('password1234'), 'nothing typed was echoed')
  assert.equal((await usersOf(data)).get('chief')!.role, 'admin')

  const differ = await typed(t, ['users', 'passwd', 'chief', '--data', data], [[/New password for chief: /, NEW_PASSWORD], [/The same again: /, TECH_PASSWORD]])
  assert.equal(differ.code, EXIT.USAGE, differ.screen)
  assert.match(differ.screen, /differ; nothing was changed/)
  const passwd = await typed(t, ['users', 'passwd', 'chief', '--data', data], [[/New password for chief: /, NEW_PASSWORD], [/The same again: /, NEW_PASSWORD]])
  assert.equal(passwd.code, 0, passwd.screen)
  assert.ok(!passwd.screen.includes(NEW_PASSWORD), 'nothing typed was echoed')
})
