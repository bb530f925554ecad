/**
 * `npm run bench:scale`: issue 18's benchmark. Builds a synthetic archive of N instances in S
 * studies (plan.ts: ~20 instances in 2–4 series per study, small pixels, realistic UIDs and
 * patient/study attributes) by writing through the ingest core without DIMSE, then measures
 * and PRINTS (asserts nothing), each beside the issue's target:
 *
 *   - log bytes per instance, ops by type (count, mean size), index bytes by record kind;
 *   - `peerpacs start` spawn to ready, idle RSS 5 s after ready, peak RSS;
 *   - QIDO-RS and C-FIND (findscu) at study level: patient-name wildcard, date range,
 *     modality (~100 answers each), p50/p95; series and instance level in one study; the
 *     per-response cost of a wide C-FIND;
 *   - `peerpacs fsck` and `peerpacs log verify`: wall time and peak RSS;
 *   - a new site joining, and a restore from a backup: log caught up, every study listed,
 *     every study local.
 *
 *   npm run bench:scale -- [--instances 10000 --studies 500 | --sizes 1000,10000]
 *                          [--runs 50] [--wide-runs 3] [--wide 5000] [--skip fsck,verify,join,restore]
 *                          [--dir DIR (kept)] [--archive WORK] [--json]
 *
 * --archive measures an archive a previous run kept (its WORK folder, holding a/ and
 * recovery.key; give the same --instances/--studies) instead of generating one: a second look
 * at a large size costs no second generation. Join and restore add b/, backup/, restored/
 * to it: remove those before measuring it again.
 *
 * With --sizes, each size N gets N/20 studies and runs in turn, so the growth curve shows.
 * Human text to stdout (unless --json); one JSON line at the end.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { checkShape, type ArchiveShape } from './scale/plan.ts'
import { measureSize, type SizeFigures } from './scale/measure.ts'
import { printTable } from './scale/report.ts'

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '10000' },
    studies: { type: 'string' },
    sizes: { type: 'string' },
    runs: { type: 'string', default: '50' },
    'wide-runs': { type: 'string', default: '3' },
    wide: { type: 'string', default: '5000' },
    starts: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    skip: { type: 'string', default: '' },
    archive: { type: 'string' },
    timeout: { type: 'string', default: '900' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  }
})
if (values.help === true) {
  console.log('usage: npm run bench:scale -- [--instances 10000 --studies 500 | --sizes 1000,10000] [--runs 50] [--wide-runs 3] [--wide 5000]\n' +
    '                                [--starts 3] [--concurrency 8] [--skip fsck,verify,join,restore] [--timeout 900]\n' +
    '                                [--dir DIR] [--archive WORK] [--json]')
  process.exit(0)
}
const say = (line: string): void => { if (values.json !== true) console.log(line) }

const shapes: ArchiveShape[] = values.sizes !== undefined
  ? values.sizes.split(',').map((n) => Number(n.trim())).map((n) => ({ instances: n, studies: Math.max(1, Math.round(n / 20)) }))
  : [{ instances: Number(values.instances), studies: values.studies === undefined ? Math.max(1, Math.round(Number(values.instances) / 20)) : Number(values.studies) }]
for (const shape of shapes) checkShape(shape)
if (values.archive !== undefined && shapes.length !== 1) throw new Error('--archive measures one archive: give its --instances and --studies, not --sizes')

const root = values.dir ?? await mkdtemp(join(tmpdir(), 'peerpacs-bench-scale-'))
const generator = fileURLToPath(new URL('./scale/generate.ts', import.meta.url))
const results: SizeFigures[] = []
try {
  for (const shape of shapes) {
    const work = values.archive ?? join(root, `n${shape.instances}-s${shape.studies}-${Date.now()}`)
    await mkdir(work, { recursive: true })
    say(`\n== ${shape.instances} instances in ${shape.studies} studies (${work}) ==`)
    const figures = await measureSize({
      work, shape, generator, say,
      runs: Number(values.runs), wideRuns: Number(values['wide-runs']), wide: Number(values.wide), starts: Number(values.starts),
      concurrency: Number(values.concurrency), skip: new Set(values.skip!.split(',').map((x) => x.trim())), generate: values.archive === undefined,
      timeoutSeconds: Number(values.timeout)
    })
    results.push(figures)
    if (values.dir === undefined && values.archive === undefined) await rm(work, { recursive: true, force: true })
  }
  if (values.json !== true) printTable(results)
  console.log(JSON.stringify({ bench: 'scale', sizes: results }))
} finally {
  if (values.dir === undefined) await rm(root, { recursive: true, force: true })
}
