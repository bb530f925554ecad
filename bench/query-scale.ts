/**
 * Query figures of a node over an existing data dir (issue 18): start to ready, RSS 2 s after
 * ready, and p50/p95 of QIDO-RS at study level (patient-name wildcard, date range, modality)
 * and at series and instance level within one study. Run on a copy of a data dir made by
 * `peerpacs import` (e.g. of `node /tmp/scale/gen.ts OUT 10000`):
 *   node bench/query-scale.ts DATA_DIR [RUNS]
 * Printed, not asserted. The node is started with the CLI as an operator would, killed at exit.
 */
import { readFileSync } from 'node:fs'
import { startPeerpacs } from './peerpacs-process.ts'

const [data, runsText] = process.argv.slice(2)
if (data === undefined) throw new Error('usage: node bench/query-scale.ts DATA_DIR [RUNS]')
const runs = Number(runsText ?? 60)

function rssOf (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

const begun = performance.now()
const node = await startPeerpacs(data, [])
const readyMs = performance.now() - begun
await new Promise((resolve) => setTimeout(resolve, 2000))
const rss = rssOf(node.child.pid!)
const control = JSON.parse(readFileSync(`${data}/control.json`, 'utf8')) as { url: string, token: string }
const headers = { authorization: `Bearer ${control.token}`, accept: 'application/dicom+json' }
const base = `${control.url}/dicomweb`

async function get (path: string): Promise<unknown[]> {
  const response = await fetch(`${base}${path}`, { headers })
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return await response.json() as unknown[]
}

async function time (name: string, path: string): Promise<void> {
  let answers = 0
  for (let i = 0; i < 3; i++) answers = (await get(path)).length
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await get(path)
    ms.push(performance.now() - t)
  }
  ms.sort((a, b) => a - b)
  console.log(`${name.padEnd(34)} answers ${String(answers).padStart(5)}  p50 ${percentile(ms, 0.5).toFixed(1).padStart(7)} ms  p95 ${percentile(ms, 0.95).toFixed(1).padStart(7)} ms`)
}

try {
  const studies = (await get('/studies?limit=1')) as Array<Record<string, { Value?: string[] }>>
  const study = studies[0]?.['0020000D']?.Value?.[0]
  console.log(`data dir ${data}: start to ready ${(readyMs / 1000).toFixed(1)} s, RSS 2 s after ready ${rss.toFixed(0)} MiB`)
  await time('study: PatientName=ZZAASON*', '/studies?PatientName=ZZAASON*')
  await time('study: StudyDate 20100101-20100331', '/studies?StudyDate=20100101-20100331')
  await time('study: ModalitiesInStudy=CT limit 100', '/studies?ModalitiesInStudy=CT&limit=100')
  await time('series of one study', `/studies/${study}/series`)
  await time('instances of one study', `/studies/${study}/instances`)
  console.log(`RSS after the queries ${rssOf(node.child.pid!).toFixed(0)} MiB`)
} finally {
  await node.stop()
}
