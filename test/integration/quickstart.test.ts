/**
 * The README's first command ends in `npm start`: on a fresh folder it creates ./data, a sample
 * study in ./sample, imports and lists it, and runs the node until stopped; run again, it
 * imports nothing new.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { childEnv } from '../helpers/cli.ts'
import { tempDir } from '../helpers/files.ts'

/** The block of commands to try that the quick start prints once the node listens. */
const HINTS = /While it runs, in another terminal[^\n]*\n((?:  \S[^\n]*\n)+)/
const QUICKSTART = fileURLToPath(new URL('../../scripts/quickstart.ts', import.meta.url))
const PROJECT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Runs `command` in its own process group until the node logs node.ready, then stops the whole
 * group with SIGTERM (npm sits between the test and the node) and returns what it printed.
 */
function groupAlive (pgid: number): boolean {
  try { process.kill(-pgid, 0); return true } catch { return false }
}

async function runUntilReady (command: string, args: string[], options: { cwd: string, env: NodeJS.ProcessEnv }, whileRunning?: (stdout: string) => Promise<void>): Promise<{ status: number | null, stdout: string, stderr: string }> {
  // Ports the system picks, the mesh on loopback and off mDNS: parallel tests must not meet.
  const env = { ...options.env, PEERPACS_DICOM: '127.0.0.1:0', PEERPACS_HTTP: '127.0.0.1:0', PEERPACS_P2P: '/ip4/127.0.0.1/tcp/0', PEERPACS_NO_MDNS: '1' }
  const child = spawn(command, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  const exited = once(child, 'exit')
  try {
    await new Promise<void>((resolve, reject) => {
      // Ready: the node logged node.ready and the quick start has printed its hints.
      const check = (): void => { if (stderr.includes('"event":"node.ready"') && HINTS.test(stdout)) resolve() }
      child.stdout.on('data', check)
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; check() })
      void exited.then(() => reject(new Error(`exited before the node was ready:\n${stdout}\n${stderr}`)))
    })
    if (whileRunning !== undefined) await whileRunning(stdout)
    process.kill(-child.pid!, 'SIGTERM')
    const [status] = await exited as [number | null]
    // npm may exit before the node it started has finished stopping: let the whole process
    // group end on its own (up to 30 s) before the cleanup below kills what is left.
    for (let i = 0; i < 300 && groupAlive(child.pid!); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    return { status, stdout, stderr }
  } finally {
    try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ }
  }
}

it('npm start initialises ./data, imports a sample study and lists it; a second run is idempotent', async (t) => {
  const cwd = await tempDir(t)
  const first = await runUntilReady(process.execPath, [QUICKSTART], { cwd, env: childEnv() })
  assert.equal(first.status, 0, first.stdout + first.stderr)
  assert.ok(existsSync(join(cwd, 'data', 'peerpacs.json')))
  assert.ok(existsSync(join(cwd, 'sample')))
  assert.match(first.stdout, /RECOVERY KEY/)
  assert.match(first.stdout, /imported 16, duplicates 0, rejected 0, skipped 0/)
  assert.match(first.stdout, /ZZTESTPATIENT\^JANE\^Q/)
  const second = await runUntilReady(process.execPath, [QUICKSTART], { cwd, env: childEnv() })
  assert.equal(second.status, 0, second.stdout + second.stderr)
  assert.match(second.stdout, /imported 0, duplicates 16/)
  assert.doesNotMatch(second.stdout, /RECOVERY KEY/)
})

it('`npm start` itself, as the README runs it, does the same through npm', async (t) => {
  const dir = await tempDir(t)
  const env = childEnv({ PEERPACS_DATA: join(dir, 'data'), PEERPACS_SAMPLE: join(dir, 'sample') })
  const r = await runUntilReady('npm', ['start', '--silent'], { cwd: PROJECT, env })
  assert.ok(r.status === 0 || r.status === null, r.stdout + r.stderr)
  // npm may exit before the node has finished stopping: wait for it to release the data dir.
  for (let i = 0; i < 200 && existsSync(join(dir, 'data', 'control.json')); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  assert.ok(!existsSync(join(dir, 'data', 'control.json')), 'the node stopped and removed control.json')
  assert.match(r.stdout, /imported 16, duplicates 0, rejected 0, skipped 0/)
  assert.ok(existsSync(join(dir, 'data', 'peerpacs.json')))
})

/** Runs one shell command line as a person would type it, from the project folder. */
async function shell (line: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null, output: string }> {
  const child = spawn('sh', ['-c', line], { cwd: PROJECT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, output }
}

/** The newest C-STORE reception the node audited (110104, action C): its outcome and instance count. */
async function lastReception (data: string): Promise<{ outcome: number, instances: number } | undefined> {
  for (let i = 0; i < 50; i++) {
    const r = await shell(`npx peerpacs audit --event 110104 --json --data ${data}`, childEnv())
    const received = r.output.split('\n').filter((l) => l.startsWith('{"type":"audit"')).map((l) => JSON.parse(l) as Record<string, any>).filter((a) => a.action === 'C')
    const last = received.at(-1)
    if (last !== undefined) {
      const objects = last.objects as Array<{ sopClasses?: Array<{ instances: number }> }>
      return { outcome: last.outcome as number, instances: objects.flatMap((o) => o.sopClasses ?? []).reduce((n, c) => n + c.instances, 0) }
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return undefined
}

it('every command the quick start prints works exactly as printed, and so do the README\'s synth and storescu lines', async (t) => {
  const dir = await tempDir(t)
  const data = join(dir, 'data')
  const env = childEnv({ PEERPACS_DATA: data, PEERPACS_SAMPLE: join(dir, 'sample') })
  const ran: string[] = []
  await runUntilReady('npm', ['start', '--silent'], { cwd: PROJECT, env }, async (stdout) => {
    const hints = HINTS.exec(stdout)![1]!.trimEnd().split('\n').map((l) => l.trim().split(/\s{3,}/)[0]!)
    assert.ok(hints.length >= 5, stdout)
    for (const hint of hints) {
      const r = await shell(hint, childEnv())
      assert.equal(r.code, 0, `${hint}\n${r.output}`)
      ran.push(hint)
      if (hint.startsWith('findscu')) assert.match(r.output, /ZZTESTPATIENT\^JANE\^Q/, r.output)
      // storescu exits 0 even when the node answers a failure status: the node's audit says how it went.
      if (hint.startsWith('storescu')) assert.deepEqual(await lastReception(data), { outcome: 0, instances: 16 }, hint)
      if (hint.includes('token create')) assert.match(r.output, /ppt_\w+|Created token/, r.output)
    }
    // The README's lines for a larger synthetic set: its folder and the port are this test's.
    const readme = await readFile(join(PROJECT, 'README.md'), 'utf8')
    const synth = readme.split('\n').find((l) => l.startsWith('npm run synth -- --out ./synth'))!
    const storescu = readme.split('\n').find((l) => l.startsWith('storescu ') && l.includes('./synth'))!
    assert.ok(synth !== undefined && storescu !== undefined, 'the README shows both lines')
    const control = JSON.parse(await readFile(join(data, 'control.json'), 'utf8')) as { dicom: { port: number } }
    const madeSynth = await shell(synth.replace('./synth', join(dir, 'synth')), env)
    assert.equal(madeSynth.code, 0, madeSynth.output)
    const sent = await shell(storescu.replace('./synth', join(dir, 'synth')).replace(' 11112 ', ` ${control.dicom.port} `), childEnv())
    assert.equal(sent.code, 0, `${storescu}\n${sent.output}`)
    const studies = await shell(`npx peerpacs studies --json --data ${data}`, childEnv())
    assert.ok(studies.output.split('\n').filter((l) => l.includes('"type":"study"')).length > 1, studies.output)
  })
  assert.ok(ran.some((h) => h.startsWith('echoscu')) && ran.some((h) => h.startsWith('storescu')), ran.join('\n'))
})

it('flags after `npm start --` reach the node, and a mistyped one is refused before anything is done', async (t) => {
  const cwd = await tempDir(t)
  const typo = spawn(process.execPath, [QUICKSTART, '--alow-ae', 'CT1@10.0.0.1'], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  typo.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(typo, 'exit') as [number | null]
  assert.equal(code, 2, stderr)
  assert.match(stderr, /--alow-ae/)
  assert.ok(!existsSync(join(cwd, 'data')) && !existsSync(join(cwd, 'sample')), 'nothing was created')

  const r = await runUntilReady(process.execPath, [QUICKSTART, '--ae-title', 'QUICKSTART_AE'], { cwd, env: childEnv() })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stderr, /"event":"node.ready"[^\n]*"aeTitle":"QUICKSTART_AE"/, 'the flag reached the node')
  assert.match(r.stdout, /echoscu -aec QUICKSTART_AE 127\.0\.0\.1 \d+/, 'and the hints name it')
})
