/**
 * One size of bench:scale, stage by stage: generate, log bytes, fsck and log verify (node
 * stopped), starts, queries, join and restore. A stage that fails is recorded with its error
 * and the next one still runs, so one broken part never hides the other figures.
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { studyInstances } from './instances.ts'
import { cfindLatency, echoFloor, echoLatency, qidoLatency, withNodeCpu, STUDY_RETURN_KEYS, type Latency } from './queries.ts'
import { joinSite, restoreFromBackup, type JoinFigures, type RestoreFigures } from './join.ts'
import { studyPlan, studyQueries, type ArchiveShape } from './plan.ts'
import { rssOf, startNode, statusOf, timed, type RunningNode } from './processes.ts'

export interface MeasureOptions {
  work: string
  shape: ArchiveShape
  generator: string
  say: (line: string) => void
  runs: number
  wideRuns: number
  wide: number
  starts: number
  concurrency: number
  /** Stages not to run: 'fsck', 'verify', 'join', 'restore'. */
  skip: ReadonlySet<string>
  /** false: `work` already holds a generated archive (a/, recovery.key). */
  generate: boolean
  timeoutSeconds: number
}

export interface QueryFigures { name: string, keys: Record<string, string>, expected: number, qido: Latency, cfind: Latency }

export interface SizeFigures {
  instances: number
  studies: number
  generate?: { seconds: number, instancesPerSecond: number, maxRssBytes: number, instances: number }
  log?: { ops: number, opBytes: number, bytesPerInstance: number, byType: Record<string, { count: number, bytes: number, meanBytes: number }>, kv: Record<string, { count: number, bytes: number, meanBytes: number }> }
  disk?: { indexBytes: number, blobBytes: number }
  fsck?: { seconds: number, peakRssBytes: number, exit: number | null }
  logVerify?: { seconds: number, peakRssBytes: number, exit: number | null }
  start?: { readySeconds: number[], readyCpuSeconds: number[], idleRssBytes: number, peakRssBytes: number, catalogueMs: number | null }
  queries?: { study: QueryFigures[], echo: Latency, echoFloor: Latency, loadAverage: number, series: { qido: Latency, cfind: Latency }, instances: { qido: Latency, cfind: Latency }, perResponseMs: { cfind: number, qido: number, cfindMarginal: number, cfindCpu: number }, peakRssAfterBytes: number }
  join?: JoinFigures
  restore?: RestoreFigures
  errors: Record<string, string>
}

function duBytes (path: string): number {
  try { return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]) } catch { return 0 }
}

const MB = 1e6
const settle = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export async function measureSize (o: MeasureOptions): Promise<SizeFigures> {
  const { work, shape, say } = o
  const f: SizeFigures = { instances: shape.instances, studies: shape.studies, errors: {} }
  const stage = async (name: string, task: () => Promise<void>): Promise<void> => {
    try { await task() } catch (error) {
      f.errors[name] = (error as Error).message.slice(0, 1500)
      say(`  ${name}: FAILED ${(error as Error).message.split('\n')[0]}`)
    }
  }
  const a = join(work, 'a')
  const key = join(work, 'recovery.key')
  if (o.generate) await timed(['init', '--data', a, '--name', 'Scale', '--recovery-key-out', key])

  if (o.generate) say(`generating through the ingest core (${o.concurrency} in flight per study)…`)
  if (o.generate) await stage('generate', async () => {
    const r = await timed([o.generator, '--data', a, '--instances', String(shape.instances), '--studies', String(shape.studies), '--concurrency', String(o.concurrency)], { program: process.execPath })
    const g = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>
    f.generate = { seconds: g.seconds!, instancesPerSecond: g.instancesPerSecond!, maxRssBytes: g.maxRssBytes!, instances: g.instances! }
    say(`  ${g.instances} instances in ${g.seconds!.toFixed(1)} s = ${g.instancesPerSecond!.toFixed(0)} instances/s, peak RSS ${(g.maxRssBytes! / MB).toFixed(0)} MB`)
  })

  await stage('log', async () => {
    const r = await timed([new URL('./log-bytes.ts', import.meta.url).pathname, '--data', a], { program: process.execPath })
    const l = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as NonNullable<SizeFigures['log']>
    f.log = { ...l, bytesPerInstance: l.opBytes / shape.instances }
    f.disk = { indexBytes: duBytes(join(a, 'index')), blobBytes: duBytes(join(a, 'blobs')) }
    say(`  log: ${l.ops} ops, ${(l.opBytes / MB).toFixed(2)} MB = ${f.log.bytesPerInstance.toFixed(0)} B per instance (target ≤ 200 B); ` +
      Object.entries(l.byType).map(([t, v]) => `${t} ×${v.count} ~${v.meanBytes} B`).join(', '))
  })

  say('fsck and log verify (node stopped)…')
  if (!o.skip.has('fsck')) await stage('fsck', async () => {
    const r = await timed(['fsck', '--data', a], { allowFailure: true })
    f.fsck = { seconds: r.seconds, peakRssBytes: r.peakRssBytes, exit: r.code }
    say(`  fsck ${r.seconds.toFixed(1)} s, peak RSS ${(r.peakRssBytes / MB).toFixed(0)} MB, exit ${r.code}`)
  })
  if (!o.skip.has('verify')) await stage('logVerify', async () => {
    const r = await timed(['log', 'verify', '--data', a], { allowFailure: true })
    f.logVerify = { seconds: r.seconds, peakRssBytes: r.peakRssBytes, exit: r.code }
    say(`  log verify ${r.seconds.toFixed(1)} s, peak RSS ${(r.peakRssBytes / MB).toFixed(0)} MB, exit ${r.code}`)
  })

  say(`start to ready, ${o.starts}×…`)
  let node: RunningNode | undefined
  await stage('start', async () => {
    const ready: number[] = []
    const cpu: number[] = []
    for (let i = 0; i < o.starts; i++) {
      node = await startNode(a)
      ready.push(node.readySeconds)
      cpu.push(node.readyCpuSeconds)
      if (i < o.starts - 1) { await node.stop(); node = undefined }
    }
    await settle(5000)
    const { rss, peak } = rssOf(node!.pid)
    const loaded = node!.logLines().find((l) => l.includes('"event":"catalogue.loaded"'))
    const catalogueMs = loaded === undefined ? null : (JSON.parse(loaded) as { ms?: number }).ms ?? null
    f.start = { readySeconds: ready, readyCpuSeconds: cpu, idleRssBytes: rss, peakRssBytes: peak, catalogueMs }
    say(`  ready in ${ready.map((s) => s.toFixed(2)).join(', ')} s (target ≤ 5 s), CPU used by then ${cpu.map((s) => s.toFixed(2)).join(', ')} s; idle RSS ${(rss / MB).toFixed(0)} MB (target ≤ 300 MB), peak ${(peak / MB).toFixed(0)} MB`)
  })

  if (node !== undefined) {
    const running = node
    await stage('queries', async () => {
      const http = running.control()
      const dimse = { port: Number(running.ready.dicomPort), aeTitle: String(running.ready.aeTitle ?? 'PEERPACS') }
      const study: QueryFigures[] = []
      for (const q of studyQueries(shape, o.wide)) {
        const runs = q.name.startsWith('wide') ? o.wideRuns : o.runs
        const params = new URLSearchParams({ ...q.keys, limit: String(Math.min(10000, Math.max(q.expected, 100) + 10)) })
        const qido = await withNodeCpu(running.pid, async () => await qidoLatency(http, `/studies?${params.toString()}`, runs))
        const cfind = await withNodeCpu(running.pid, async () => await cfindLatency(dimse, 'STUDY', q.keys, STUDY_RETURN_KEYS.filter((k) => !(k in q.keys)), runs))
        study.push({ name: q.name, keys: { ...q.keys }, expected: q.expected, qido, cfind })
        say(`  ${q.name.padEnd(26)} expect ${String(q.expected).padStart(5)}  QIDO ${qido.matches} p50 ${qido.p50Ms.toFixed(1)} p95 ${qido.p95Ms.toFixed(1)} ms (node CPU ${qido.nodeCpuMs?.toFixed(1)} ms)   C-FIND ${cfind.matches} p50 ${cfind.p50Ms.toFixed(1)} p95 ${cfind.p95Ms.toFixed(1)} ms (node CPU ${cfind.nodeCpuMs?.toFixed(1)} ms)${qido.error ?? cfind.error ? `  (${qido.error ?? cfind.error})` : ''}`)
      }
      const echo = await withNodeCpu(running.pid, async () => await echoLatency(dimse, o.runs))
      const floor = await echoFloor(o.runs)
      say(`  C-ECHO to peerpacs p50 ${echo.p50Ms.toFixed(1)} p95 ${echo.p95Ms.toFixed(1)} ms (node CPU ${echo.nodeCpuMs?.toFixed(1)} ms); to dcmtk's storescp (the machine's floor for one dcmtk association) p50 ${floor.p50Ms.toFixed(1)} p95 ${floor.p95Ms.toFixed(1)} ms`)
      const mid = studyInstances(studyPlan(Math.floor(shape.studies / 2), shape))
      const studyUid = mid[0]!.studyInstanceUid
      const seriesUid = mid[0]!.seriesInstanceUid
      const series = {
        qido: await withNodeCpu(running.pid, async () => await qidoLatency(http, `/studies/${studyUid}/series`, o.runs)),
        cfind: await withNodeCpu(running.pid, async () => await cfindLatency(dimse, 'SERIES', { StudyInstanceUID: studyUid }, ['SeriesInstanceUID', 'Modality', 'SeriesNumber', 'NumberOfSeriesRelatedInstances'], o.runs))
      }
      const instances = {
        qido: await withNodeCpu(running.pid, async () => await qidoLatency(http, `/studies/${studyUid}/series/${seriesUid}/instances`, o.runs)),
        cfind: await withNodeCpu(running.pid, async () => await cfindLatency(dimse, 'IMAGE', { StudyInstanceUID: studyUid, SeriesInstanceUID: seriesUid }, ['SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'], o.runs))
      }
      say(`  series in one study       QIDO ${series.qido.matches} p95 ${series.qido.p95Ms.toFixed(1)} ms (CPU ${series.qido.nodeCpuMs?.toFixed(1)})   C-FIND ${series.cfind.matches} p95 ${series.cfind.p95Ms.toFixed(1)} ms (CPU ${series.cfind.nodeCpuMs?.toFixed(1)})`)
      say(`  instances in one series   QIDO ${instances.qido.matches} p95 ${instances.qido.p95Ms.toFixed(1)} ms (CPU ${instances.qido.nodeCpuMs?.toFixed(1)})   C-FIND ${instances.cfind.matches} p95 ${instances.cfind.p95Ms.toFixed(1)} ms (CPU ${instances.cfind.nodeCpuMs?.toFixed(1)})`)
      const wide = study.at(-1)!
      const narrow = study[0]!
      const perResponseMs = {
        cfind: wide.cfind.p50Ms / Math.max(1, wide.cfind.matches),
        qido: wide.qido.p50Ms / Math.max(1, wide.qido.matches),
        cfindMarginal: (wide.cfind.p50Ms - narrow.cfind.p50Ms) / Math.max(1, wide.cfind.matches - narrow.cfind.matches),
        cfindCpu: (wide.cfind.nodeCpuMs ?? NaN) / Math.max(1, wide.cfind.matches)
      }
      say(`  per C-FIND response ${perResponseMs.cfind.toFixed(2)} ms, node CPU ${perResponseMs.cfindCpu.toFixed(2)} ms (marginal ${perResponseMs.cfindMarginal.toFixed(2)} ms; target ≤ Orthanc's ~0.5 ms), per QIDO result ${perResponseMs.qido.toFixed(3)} ms`)
      f.queries = { study, echo, echoFloor: floor, loadAverage: loadavg()[0]!, series, instances, perResponseMs, peakRssAfterBytes: rssOf(running.pid).peak }
      const s = await statusOf(running)
      if (s.instances !== shape.instances) f.errors.catalogue = `the node lists ${String(s.instances)} instances, ${shape.instances} were generated`
    })

    if (!o.skip.has('join')) {
      say('a new site joins (invite, init --join, start) …')
      await stage('join', async () => {
        const { figures, node: b } = await joinSite(work, running, a, shape.studies, o.timeoutSeconds)
        await b.stop()
        f.join = figures
        const s = (x: number | null): string => x === null ? '—' : `${x.toFixed(1)} s`
        say(`  B ready ${figures.readySeconds.toFixed(1)} s; log caught up ${s(figures.caughtUpSeconds)}; every study listed ${s(figures.listedSeconds)} (${figures.localWhenListed ?? '—'} local then); every study local ${s(figures.localSeconds)}${figures.timedOut ? ` (TIMED OUT: B held ${String(figures.stuck?.ops)} ops, ${figures.stuck?.listed} studies listed)` : ''}; B peak RSS ${(figures.peakRssBytes / MB).toFixed(0)} MB`)
      })
    }
    if (!o.skip.has('restore')) {
      say('a backup joins and fills, A stops, a new site is restored from the backup …')
      await stage('restore', async () => {
        const r = await restoreFromBackup(work, running, a, join(work, 'recovery.key'), shape.studies, o.timeoutSeconds)
        f.restore = r
        say(`  backup filled in ${r.backupFillSeconds?.toFixed(1) ?? '—'} s; restore: log in ${r.logSeconds?.toFixed(1) ?? '—'} s, done ${r.doneSeconds === null ? 'not within the time-out' : `${r.doneSeconds.toFixed(1)} s`} (${r.studies} studies, ${r.instances} instances), peak RSS ${(r.peakRssBytes / MB).toFixed(0)} MB`)
      })
    }
    await running.stop()
  }
  return f
}
