/**
 * bench:cli — how fast the CLI answers a person: `peerpacs --help`, a usage error, a mistyped
 * command, and commands sent to a running node (`studies`, `status`), each run N times as a
 * separate process through the launcher a person runs (bin/peerpacs.js), after one warm-up run
 * (wall time from spawn to exit, and the process's peak RSS). The reference
 * measured in the same run is a bare `node -e 0` on the same Node: what any CLI here costs.
 *
 *   npm run bench:cli [-- --runs 20]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { cli, startPeerpacs } from './peerpacs-process.ts'

// What a person runs (`npx peerpacs`): the launcher, which turns on Node's compile cache.
const CLI = fileURLToPath(new URL('../bin/peerpacs.js', import.meta.url))
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } })
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error(`--runs: 1 to 1000 expected, got ${values.runs}`)

/** One process from spawn to exit: wall ms and peak RSS (MB) from GNU time's %M if present, else none. */
async function once1 (argv: string[]): Promise<{ ms: number, rssMb: number | undefined }> {
  const started = performance.now()
  const child = spawn('/usr/bin/time', ['-f', '%M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_TEST_CONTEXT: undefined } })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  await once(child, 'exit')
  const ms = performance.now() - started
  const kb = Number(stderr.trim().split('\n').at(-1))
  return { ms, rssMb: Number.isFinite(kb) ? kb / 1024 : undefined }
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

async function measure (label: string, argv: string[]): Promise<void> {
  const times: number[] = []
  let rss = 0
  await once1(argv) // warm the file cache
  for (let i = 0; i < runs; i++) {
    const r = await once1(argv)
    times.push(r.ms)
    rss = Math.max(rss, r.rssMb ?? 0)
  }
  times.sort((a, b) => a - b)
  console.log(`${label.padEnd(44)} p50 ${percentile(times, 0.5).toFixed(0).padStart(5)} ms   p90 ${percentile(times, 0.9).toFixed(0).padStart(5)} ms   peak RSS ${rss.toFixed(0).padStart(4)} MB`)
}

const dir = mkdtempSync(join(tmpdir(), 'peerpacs-bench-cli-'))
try {
  console.log(`bench:cli — ${runs} runs each, Node ${process.version}\n`)
  await measure('reference: node -e 0', [process.execPath, '-e', '0'])
  await measure('peerpacs --help', [process.execPath, CLI, '--help'])
  await measure('peerpacs studies --bogus (usage error)', [process.execPath, CLI, 'studies', '--bogus'])
  await measure('peerpacs studis (did you mean)', [process.execPath, CLI, 'studis'])
  const data = join(dir, 'data')
  await cli(['init', '--data', data, '--recovery-key-out', join(dir, 'recovery.key')])
  await measure('peerpacs studies (no node: opens the data dir)', [process.execPath, CLI, 'studies', '--data', data])
  const node = await startPeerpacs(data, ['--p2p', '/ip4/127.0.0.1/tcp/0'])
  try {
    await measure('peerpacs studies (through the running node)', [process.execPath, CLI, 'studies', '--data', data])
    await measure('peerpacs status (through the running node)', [process.execPath, CLI, 'status', '--data', data])
  } finally {
    await node.stop()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
