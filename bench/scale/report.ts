/**
 * The human table of bench:scale: one column per size, one row per figure, the issue's
 * target in the last column, so the growth curve reads across a row.
 */
import type { SizeFigures } from './measure.ts'

const MB = 1e6
const n = (x: number | null | undefined, digits = 0, unit = ''): string => x === null || x === undefined || Number.isNaN(x) ? '—' : `${x.toFixed(digits)}${unit}`

interface Row { label: string, value: (f: SizeFigures) => string, target: string }

const ROWS: Row[] = [
  { label: 'generate (instances/s)', value: (f) => n(f.generate?.instancesPerSecond), target: '' },
  { label: 'log ops', value: (f) => n(f.log?.ops), target: '' },
  { label: 'log bytes per instance', value: (f) => n(f.log?.bytesPerInstance, 0, ' B'), target: '≤ 200 B' },
  { label: 'index on disk per instance', value: (f) => n(f.disk === undefined ? undefined : f.disk.indexBytes / f.instances, 0, ' B'), target: '' },
  { label: 'start to ready (best)', value: (f) => n(f.start === undefined ? undefined : Math.min(...f.start.readySeconds), 2, ' s'), target: '≤ 5 s' },
  { label: 'CPU used by ready (best)', value: (f) => n(f.start === undefined ? undefined : Math.min(...f.start.readyCpuSeconds), 2, ' s'), target: '' },
  { label: 'idle RSS after start', value: (f) => n(f.start === undefined ? undefined : f.start.idleRssBytes / MB, 0, ' MB'), target: '≤ 300 MB' },
  { label: 'peak RSS (start + queries)', value: (f) => n(f.queries === undefined ? (f.start === undefined ? undefined : f.start.peakRssBytes / MB) : f.queries.peakRssAfterBytes / MB, 0, ' MB'), target: '' },
  ...['patient-name wildcard', 'date range', 'modality'].flatMap((name): Row[] => [
    { label: `QIDO study ${name} p95`, value: (f) => cell(f, name, 'qido'), target: '≤ 20 ms' },
    { label: `C-FIND study ${name} p95`, value: (f) => cell(f, name, 'cfind'), target: '≤ 20 ms' },
    { label: `  node CPU per QIDO / C-FIND`, value: (f) => { const q = f.queries?.study.find((x) => x.name === name); return q === undefined ? '—' : `${n(q.qido.nodeCpuMs, 1)} / ${n(q.cfind.nodeCpuMs, 1)} ms` }, target: '' }
  ]),
  { label: 'C-ECHO to peerpacs p95', value: (f) => n(f.queries?.echo.p95Ms, 1, ' ms'), target: '' },
  { label: 'C-ECHO to dcmtk storescp p95 (floor)', value: (f) => n(f.queries?.echoFloor.p95Ms, 1, ' ms'), target: '' },
  { label: 'load average during queries', value: (f) => n(f.queries?.loadAverage, 1), target: '(2 cores)' },
  { label: 'QIDO series in a study p95', value: (f) => n(f.queries?.series.qido.p95Ms, 1, ' ms'), target: '≤ 20 ms' },
  { label: 'C-FIND series in a study p95', value: (f) => n(f.queries?.series.cfind.p95Ms, 1, ' ms'), target: '≤ 20 ms' },
  { label: 'QIDO instances in a series p95', value: (f) => n(f.queries?.instances.qido.p95Ms, 1, ' ms'), target: '≤ 20 ms' },
  { label: 'C-FIND instances in a series p95', value: (f) => n(f.queries?.instances.cfind.p95Ms, 1, ' ms'), target: '≤ 20 ms' },
  { label: 'wide C-FIND: answers, p50', value: (f) => { const w = f.queries?.study.at(-1); return w === undefined ? '—' : `${w.cfind.matches}, ${n(w.cfind.p50Ms / 1000, 2, ' s')}` }, target: '' },
  { label: 'per C-FIND response (wall)', value: (f) => n(f.queries?.perResponseMs.cfind, 2, ' ms'), target: '≤ ~0.5 ms' },
  { label: 'per C-FIND response (node CPU)', value: (f) => n(f.queries?.perResponseMs.cfindCpu, 2, ' ms'), target: '≤ ~0.5 ms' },
  { label: 'fsck wall / peak RSS', value: (f) => f.fsck === undefined ? '—' : `${n(f.fsck.seconds, 1, ' s')} / ${n(f.fsck.peakRssBytes / MB, 0, ' MB')}`, target: 'bounded' },
  { label: 'log verify wall / peak RSS', value: (f) => f.logVerify === undefined ? '—' : `${n(f.logVerify.seconds, 1, ' s')} / ${n(f.logVerify.peakRssBytes / MB, 0, ' MB')}`, target: 'bounded' },
  { label: 'join: every study listed', value: (f) => f.join === undefined ? '—' : `${n(f.join.listedSeconds, 1, ' s')} (${f.join.localWhenListed ?? '—'} local)`, target: '≤ 60 s' },
  { label: 'join: every study local', value: (f) => n(f.join?.localSeconds, 1, ' s'), target: '' },
  { label: 'restore: log in', value: (f) => n(f.restore?.logSeconds, 1, ' s'), target: '≤ 60 s' },
  { label: 'restore: done (all blobs)', value: (f) => n(f.restore?.doneSeconds, 1, ' s'), target: '' },
  { label: 'restore peak RSS', value: (f) => n(f.restore === undefined ? undefined : f.restore.peakRssBytes / MB, 0, ' MB'), target: '' }
]

function cell (f: SizeFigures, name: string, side: 'qido' | 'cfind'): string {
  const q = f.queries?.study.find((x) => x.name === name)
  if (q === undefined) return '—'
  const l = q[side]
  const count = l.matches === q.expected ? '' : ` (${l.matches}/${q.expected}!)`
  return `${n(l.p95Ms, 1, ' ms')}${count}`
}

export function printTable (sizes: readonly SizeFigures[]): void {
  const header = ['', ...sizes.map((f) => `${f.instances} inst / ${f.studies} st`), 'target']
  const rows = ROWS.map((r) => [r.label, ...sizes.map(r.value), r.target])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')
  console.log('')
  console.log(line(header))
  for (const r of rows) console.log(line(r))
  for (const f of sizes) for (const [stage, message] of Object.entries(f.errors)) console.log(`! ${f.instances}: ${stage} failed: ${message.split('\n')[0]}`)
}
