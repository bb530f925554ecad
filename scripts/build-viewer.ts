/**
 * Builds the web viewer (viewer/) into viewer/dist/, the static files the node serves at `/`
 * (node/daemon/viewer-static.ts). Run by `npm install` (postinstall), by `npm start` and the
 * browser tests when the build is missing or older than its sources, or by hand:
 *
 *   node scripts/build-viewer.ts            build now
 *   node scripts/build-viewer.ts --if-stale build only when viewer/dist is missing or older
 *                                           than a source (viewer/, this script, package-lock.json)
 *
 * esbuild bundles viewer/src/main.ts into assets/viewer.js (sign-in, worklist) with the study page
 * and Cornerstone3D split into a chunk of their own (loaded after sign-in), and the DICOM image loader's
 * decode worker into assets/decodeImageFrameWorker.js: the loader starts that worker with
 * `new URL('./decodeImageFrameWorker.js', import.meta.url)`, resolved against the module that
 * says it, so every chunk sits in assets/ beside the worker (the build checks it). The codecs' WASM files are copied to
 * assets/codecs/, the folder the loader is told (`wasmBasePath`). Prints the time and the sizes.
 */
import { createRequire } from 'node:module'
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const gzip = promisify(gzipCallback)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const VIEWER_SOURCE = join(ROOT, 'viewer')
export const VIEWER_DIST = join(VIEWER_SOURCE, 'dist')
/** Its presence means a whole build; its time, when. */
const STAMP = join(VIEWER_DIST, 'build.json')

/** The WASM codecs the decode worker loads, by the file name it asks for (dicom-image-loader's shared/decoders). */
const CODECS: ReadonlyArray<readonly [string, string]> = [
  ['@cornerstonejs/codec-charls/decodewasm', 'charlswasm_decode.wasm'],
  ['@cornerstonejs/codec-openjpeg/decodewasm', 'openjpegwasm_decode.wasm'],
  ['@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm', 'libjpegturbowasm_decode.wasm'],
  ['@cornerstonejs/codec-libjxl/decodewasm', 'jpegxlwasm_decode.wasm'],
  ['@cornerstonejs/codec-openjph/wasm', 'openjphjs.wasm']
]

/**
 * Browser stand-ins for the two Node built-ins that xmlbuilder2 requires at load: vtk.js's XML
 * mesh reader (imported by Cornerstone's mesh cache) pulls it in, and the viewer never reads XML
 * meshes. The stand-ins only let those modules load.
 */
const NODE_SHIMS: Readonly<Record<string, string>> = {
  events: 'class EventEmitter { on () { return this } once () { return this } off () { return this } emit () { return false } removeAllListeners () { return this } }\nmodule.exports = { EventEmitter }',
  url: 'module.exports = { domainToASCII: (d) => new URL("http://" + d).hostname, domainToUnicode: (d) => d }'
}

const shims = {
  name: 'node-shims',
  setup (build: { onResolve: Function, onLoad: Function }): void {
    build.onResolve({ filter: /^(events|url)$/ }, (args: { path: string }) => ({ path: args.path, namespace: 'node-shim' }))
    build.onLoad({ filter: /.*/, namespace: 'node-shim' }, (args: { path: string }) => ({ contents: NODE_SHIMS[args.path], loader: 'js' }))
  }
}

export interface BuildReport {
  readonly ms: number
  readonly files: ReadonlyArray<{ readonly path: string, readonly bytes: number }>
  readonly bytes: number
}

async function newestSource (): Promise<number> {
  let newest = 0
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('dist') && dir === VIEWER_SOURCE) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await visit(path)
      else newest = Math.max(newest, (await stat(path)).mtimeMs)
    }
  }
  await visit(VIEWER_SOURCE)
  for (const file of [fileURLToPath(import.meta.url), join(ROOT, 'package-lock.json')]) {
    if (existsSync(file)) newest = Math.max(newest, (await stat(file)).mtimeMs)
  }
  return newest
}

/** Whether viewer/dist is a whole build at least as new as every source. */
export async function viewerIsFresh (): Promise<boolean> {
  if (!existsSync(STAMP)) return false
  return (await stat(STAMP)).mtimeMs >= await newestSource()
}

async function sizes (dir: string): Promise<Array<{ path: string, bytes: number }>> {
  const out: Array<{ path: string, bytes: number }> = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    out.push({ path: relative(dir, path), bytes: (await stat(path)).size })
  }
  return out.sort((a, b) => a.path.localeCompare(b.path))
}

export async function buildViewer (): Promise<BuildReport> {
  const started = performance.now()
  // esbuild is loaded here, not at import time, so `viewerIsFresh` works without it.
  const esbuild = await import('esbuild')
  const require = createRequire(join(ROOT, 'package.json'))
  // Built beside dist and renamed into place: a node serving dist, or a second build started at the
  // same moment (npm start and a test), never sees half a build.
  const out = `${VIEWER_DIST}.${process.pid}.tmp`
  await rm(out, { recursive: true, force: true })
  const assets = join(out, 'assets')
  await mkdir(join(assets, 'codecs'), { recursive: true })
  const common = {
    bundle: true,
    format: 'esm' as const,
    platform: 'browser' as const,
    target: ['chrome120', 'firefox121', 'safari17'],
    minify: true,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
    // The Emscripten codec glue has Node branches (fs, path) it never takes in a browser.
    external: ['fs', 'path', 'crypto', 'module', 'worker_threads'],
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [shims]
  }
  await Promise.all([
    // The study page and Cornerstone3D are a chunk of their own, loaded after sign-in (main.ts).
    esbuild.build({ ...common, entryPoints: { viewer: join(VIEWER_SOURCE, 'src', 'main.ts') }, outdir: assets, splitting: true, chunkNames: '[name]-[hash]' }),
    esbuild.build({
      ...common,
      entryPoints: { decodeImageFrameWorker: require.resolve('@cornerstonejs/dicom-image-loader/package.json').replace(/package\.json$/, 'dist/esm/decodeImageFrameWorker.js') },
      outdir: assets
    })
  ])
  // The worker is found relative to the chunk that starts it: they must share a folder.
  for (const entry of await readdir(out, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js') || entry.parentPath === assets || entry.name === 'decodeImageFrameWorker.js') continue
    if ((await readFile(join(entry.parentPath, entry.name), 'utf8')).includes('decodeImageFrameWorker.js')) throw new Error(`${entry.name} starts the decode worker but is not in assets/ beside it`)
  }
  for (const [specifier, name] of CODECS) await copyFile(require.resolve(specifier), join(assets, 'codecs', name))
  await copyFile(join(VIEWER_SOURCE, 'styles.css'), join(assets, 'styles.css'))
  await copyFile(join(VIEWER_SOURCE, 'index.html'), join(out, 'index.html'))
  // gzip twins of what compresses well (the node sends them to browsers that accept gzip).
  for (const { path } of await sizes(out)) {
    if (!/\.(js|css|wasm)$/.test(path)) continue
    const full = join(out, path)
    await writeFile(`${full}.gz`, await gzip(await readFile(full), { level: 9 }))
  }
  const files = await sizes(out)
  const ms = Math.round(performance.now() - started)
  const bytes = files.reduce((n, f) => n + f.bytes, 0)
  await writeFile(join(out, 'build.json'), JSON.stringify({ builtAt: new Date().toISOString(), ms, bytes, files }, null, 1) + '\n')
  await rm(VIEWER_DIST, { recursive: true, force: true })
  await rename(out, VIEWER_DIST)
  return { ms, files, bytes }
}

/** Builds when viewer/dist is missing or stale; says so on `log`. */
export async function ensureViewer (log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<BuildReport | undefined> {
  if (await viewerIsFresh()) return undefined
  log('Building the web viewer (viewer/dist) ...')
  const report = await buildViewer()
  log(describe(report))
  return report
}

export function describe (report: BuildReport): string {
  const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`
  const lines = report.files.map((f) => `  ${f.path.padEnd(44)} ${kib(f.bytes).padStart(9)}`)
  return `Built the web viewer in ${report.ms} ms: ${report.files.length} files, ${kib(report.bytes)} in ${relative(process.cwd(), VIEWER_DIST) || '.'}\n${lines.join('\n')}`
}

if (import.meta.main) {
  try {
    if (process.argv.includes('--if-stale')) {
      const report = await ensureViewer((l) => console.log(l))
      if (report === undefined) console.log('The web viewer is built and up to date (viewer/dist).')
    } else console.log(describe(await buildViewer()))
  } catch (error) {
    console.error(`Could not build the web viewer: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
}

