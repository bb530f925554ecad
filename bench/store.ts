/**
 * `npm run bench:store`: how fast the archive takes DICOM in, beside plain `cp` of the same files
 * in the same run, and how fast the AEAD runs natively (node:crypto) versus the pure reference
 * (noble). Prints figures; asserts nothing.
 *
 *   npm run bench:store -- [--size 1GB] [--rounds 3] [--dir DIR] [--keep] [--json]
 *
 * The synthetic set (512×512 CT slices) is generated first, so it sits in the page cache for
 * both copies. `cp` writes without fsync; "cp + sync" adds the flush the archive does per file.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { StreamOpener, StreamSealer } from '../protocol/aead-stream.ts'
import { nobleProvider, type CryptoProvider } from '../protocol/crypto-provider.ts'
import { platformRandom } from '../protocol/random.ts'
import { nativeProvider } from '../node/crypto/native-provider.ts'
import { parseSize } from '../test/synthetic/cli.ts'
import { writeSyntheticSet } from '../test/synthetic/write-set.ts'

const { values } = parseArgs({ options: { size: { type: 'string', default: '1GB' }, rounds: { type: 'string', default: '3' }, dir: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' } } })
const targetBytes = parseSize(values.size!)
const CLI = fileURLToPath(new URL('../node/cli/main.ts', import.meta.url))
const MB = 1e6
const results: Record<string, unknown> = {}

function seconds (start: bigint): number { return Number(process.hrtime.bigint() - start) / 1e9 }
function say (line: string): void { if (values.json !== true) console.log(line) }

// ---- AEAD and hash throughput, native vs reference ----
function aead (provider: CryptoProvider, bytes: number): { seal: number, open: number } {
  const dataKey = platformRandom(32)
  const piece = platformRandom(1 << 20)
  // Sealing: output discarded, as a writer would send it on.
  let start = process.hrtime.bigint()
  let sealer = new StreamSealer({ dataKey, provider, random: platformRandom })
  for (let done = 0; done < bytes; done += piece.length) sealer.push(piece)
  sealer.finish()
  const seal = bytes / MB / seconds(start)
  // Opening: a smaller object sealed first, then opened.
  const openBytes = Math.min(bytes, 64 << 20)
  const sealed: Uint8Array[] = []
  sealer = new StreamSealer({ dataKey, provider, random: platformRandom })
  sealed.push(sealer.header)
  for (let done = 0; done < openBytes; done += piece.length) sealed.push(...sealer.push(piece))
  sealed.push(sealer.finish())
  start = process.hrtime.bigint()
  const opener = new StreamOpener({ dataKey, provider })
  for (const s of sealed) opener.push(s)
  opener.finish()
  return { seal, open: openBytes / MB / seconds(start) }
}

function sha (provider: CryptoProvider, bytes: number): number {
  const piece = platformRandom(1 << 20)
  const start = process.hrtime.bigint()
  const h = provider.createSha256()
  for (let done = 0; done < bytes; done += piece.length) h.update(piece)
  h.digest()
  return bytes / MB / seconds(start)
}

say('AEAD (STREAM, 64 KiB chunks) and SHA-256, MB/s:')
const nativeAead = aead(nativeProvider, 512 << 20)
const nobleAead = aead(nobleProvider, 64 << 20)
const nativeSha = sha(nativeProvider, 512 << 20)
const nobleSha = sha(nobleProvider, 64 << 20)
results.aead = { native: nativeAead, noble: nobleAead, shaNative: nativeSha, shaNoble: nobleSha }
say(`  seal   native ${nativeAead.seal.toFixed(0).padStart(6)}   noble ${nobleAead.seal.toFixed(0).padStart(5)}   (${(nativeAead.seal / nobleAead.seal).toFixed(1)}×)`)
say(`  open   native ${nativeAead.open.toFixed(0).padStart(6)}   noble ${nobleAead.open.toFixed(0).padStart(5)}   (${(nativeAead.open / nobleAead.open).toFixed(1)}×)`)
say(`  sha256 native ${nativeSha.toFixed(0).padStart(6)}   noble ${nobleSha.toFixed(0).padStart(5)}   (${(nativeSha / nobleSha).toFixed(1)}×)`)

// ---- Import throughput beside cp ----
const root = values.dir ?? await mkdtemp(join(tmpdir(), 'peerpacs-bench-'))
try {
  const source = join(root, 'source')
  say(`\nGenerating ~${(targetBytes / MB).toFixed(0)} MB of synthetic CT in ${source} ...`)
  const set = await writeSyntheticSet(source, { seed: 2026, targetBytes, profile: 'ct' })
  execFileSync('sync')
  const megabytes = set.bytes / MB
  say(`  ${set.files} files, ${megabytes.toFixed(0)} MB`)

  // Each round copies with cp and imports into a fresh data dir; this VM's disk is noisy, so
  // the figures are medians over the rounds (and the spread is printed).
  const rounds: Array<{ cp: number, cpSync: number, import: number, wall: number, rss: number, imported: number }> = []
  for (let round = 0; round < Number(values.rounds); round++) {
    const copy = join(root, `cp-copy-${round}`)
    let start = process.hrtime.bigint()
    execFileSync('cp', ['-r', source, copy])
    const cp = seconds(start)
    execFileSync('sync')
    const cpSync = seconds(start)
    await rm(copy, { recursive: true, force: true })

    const data = join(root, `data-${round}`)
    const init = spawnSync(process.execPath, [CLI, 'init', '--data', data, '--json'], { encoding: 'utf8' })
    if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`)
    execFileSync('sync')
    start = process.hrtime.bigint()
    const run = spawnSync(process.execPath, [CLI, 'import', '--data', data, '--json', source], { encoding: 'utf8', maxBuffer: 256 << 20 })
    const wall = seconds(start)
    if (run.status !== 0) throw new Error(`import failed (${run.status}): ${run.stderr}`)
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!) as { imported: number, seconds: number, maxRssBytes: number }
    rounds.push({ cp, cpSync, import: summary.seconds, wall, rss: summary.maxRssBytes, imported: summary.imported })
    await rm(data, { recursive: true, force: true })
    say(`  round ${round + 1}: cp ${cp.toFixed(2)} s, cp+sync ${cpSync.toFixed(2)} s, import ${summary.seconds.toFixed(2)} s`)
  }
  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }
  const cp = median(rounds.map((r) => r.cp))
  const cpSync = median(rounds.map((r) => r.cpSync))
  const imp = median(rounds.map((r) => r.import))
  const wall = median(rounds.map((r) => r.wall))
  const rss = Math.max(...rounds.map((r) => r.rss))
  const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)} s`
  results.import = {
    files: set.files, megabytes, rounds: rounds.length,
    cp: { seconds: cp, mbPerSecond: megabytes / cp },
    cpSync: { seconds: cpSync, mbPerSecond: megabytes / cpSync },
    peerpacs: { seconds: imp, wallSeconds: wall, mbPerSecond: megabytes / imp, instancesPerSecond: set.files / imp, peakRssMB: rss / MB }
  }
  say(`\nImport of ${set.files} files (${megabytes.toFixed(0)} MB), median of ${rounds.length} rounds in this run:`)
  say(`  cp -r                 ${cp.toFixed(2).padStart(6)} s  ${(megabytes / cp).toFixed(0).padStart(5)} MB/s   (${spread(rounds.map((r) => r.cp))})`)
  say(`  cp -r + sync          ${cpSync.toFixed(2).padStart(6)} s  ${(megabytes / cpSync).toFixed(0).padStart(5)} MB/s   (${spread(rounds.map((r) => r.cpSync))})`)
  say(`  peerpacs import       ${imp.toFixed(2).padStart(6)} s  ${(megabytes / imp).toFixed(0).padStart(5)} MB/s   (${spread(rounds.map((r) => r.import))})  ` +
    `${(set.files / imp).toFixed(0)} instances/s, peak RSS ${(rss / MB).toFixed(0)} MB — encrypted, fsync per instance`)
  say(`  (import process wall time including start-up: ${wall.toFixed(2)} s)`)
} finally {
  if (values.keep !== true && values.dir === undefined) await rm(root, { recursive: true, force: true })
}
if (values.json === true) console.log(JSON.stringify(results))
