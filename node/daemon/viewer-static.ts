/**
 * The web viewer's static files (viewer/dist, built by scripts/build-viewer.ts), served by the node
 * at `/` on the same origin as its API, so the viewer needs no CORS and no token in a URL: it
 * signs in and then rides the session cookie.
 *
 *   GET /            index.html
 *   GET /assets/...  the bundle, its decode worker, styles, the WASM codecs
 *
 * Every answer carries a strict Content-Security-Policy: only this origin's scripts, styles,
 * images, workers and connections; 'wasm-unsafe-eval' because the image decoders (JPEG, JPEG-LS,
 * JPEG 2000 as WebAssembly) are compiled in the browser — it allows compiling WebAssembly only,
 * not eval of JavaScript; data: images for the TOTP QR code (an SVG the sign-in answer carries) and blob: images for the
 * tools' cursors (SVGs the page makes itself).
 * No framing, no plugins, no <base>. Files are answered with their content type, an ETag and
 * `Cache-Control: no-cache` (the names are stable, so a browser revalidates and gets 304 until a
 * new build), except chunks named by their content's hash, which are immutable; a gzip twin (name.gz, made by the build) is sent to browsers that accept it.
 * Names are matched against what the build wrote (listed once at start), never joined from the
 * request, so no request can name another file.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Hono, type Context } from 'hono'

export const DEFAULT_VIEWER_DIST = fileURLToPath(new URL('../../viewer/dist/', import.meta.url))

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json'
}

/** A chunk named by its content's hash (esbuild's `[name]-[hash]`). */
const HASHED = /-[A-Z0-9]{8}\.js$/

interface StaticFile {
  readonly path: string
  readonly type: string
}

function typeOf (name: string): string | undefined {
  const dot = name.lastIndexOf('.')
  return dot === -1 ? undefined : TYPES[name.slice(dot)]
}

/** The files of a build, by URL path ('/index.html', '/assets/viewer.js', ...); gzip twins are not listed. */
function listBuild (dist: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  if (!existsSync(join(dist, 'index.html'))) return files
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    const type = typeOf(entry.name)
    if (!entry.isFile() || type === undefined) continue
    const path = join(entry.parentPath, entry.name)
    files.set('/' + relative(dist, path).split(sep).join('/'), { path, type })
  }
  return files
}

/** Size and ETag now (a rebuild while the node runs changes them), and the gzip twin if it is as new. */
function current (file: StaticFile): { size: number, etag: string, gzip?: { path: string, size: number } } | undefined {
  try {
    const stat = statSync(file.path)
    const etag = `"${stat.size.toString(36)}-${Math.trunc(stat.mtimeMs).toString(36)}"`
    const twin = `${file.path}.gz`
    const gz = existsSync(twin) ? statSync(twin) : undefined
    return { size: stat.size, etag, ...(gz !== undefined && gz.mtimeMs >= stat.mtimeMs ? { gzip: { path: twin, size: gz.size } } : {}) }
  } catch {
    return undefined
  }
}

function securityHeaders (c: Context): void {
  c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('Referrer-Policy', 'no-referrer')
  c.header('X-Frame-Options', 'DENY')
  c.header('Cross-Origin-Opener-Policy', 'same-origin')
}

function acceptsGzip (c: Context): boolean {
  return /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*($|,))[\d.]+)?\s*($|,)/i.test(c.req.header('accept-encoding') ?? '')
}

export interface ViewerStaticOptions {
  /** The build folder (default viewer/dist next to this repository's node/). */
  readonly dist?: string
}

export function viewerStatic (options: ViewerStaticOptions = {}): Hono {
  const dist = options.dist ?? DEFAULT_VIEWER_DIST
  let files = listBuild(dist)
  const app = new Hono()

  const send = (c: Context, entry: StaticFile): Response => {
    const file = current(entry)
    if (file === undefined) return notBuilt(c)
    securityHeaders(c)
    // esbuild names chunks by their content's hash: such a name never changes meaning.
    c.header('Cache-Control', HASHED.test(entry.path) ? 'public, max-age=31536000, immutable' : 'no-cache')
    c.header('ETag', file.etag)
    c.header('Vary', 'Accept-Encoding')
    const match = c.req.header('if-none-match')
    if (match !== undefined && match.split(',').some((t) => t.trim() === file.etag)) return c.body(null, 304)
    const gzip = file.gzip !== undefined && acceptsGzip(c) ? file.gzip : undefined
    c.header('Content-Type', entry.type)
    c.header('Content-Length', String(gzip?.size ?? file.size))
    if (gzip !== undefined) c.header('Content-Encoding', 'gzip')
    if (c.req.method === 'HEAD') return c.body(null, 200)
    return c.body(Readable.toWeb(createReadStream(gzip?.path ?? entry.path)) as ReadableStream, 200)
  }

  function notBuilt (c: Context): Response {
    securityHeaders(c)
    return c.text('The web viewer is not built here. Run `npm install` (or `node scripts/build-viewer.ts`) in the peerpacs folder, then reload this page.\n', 503)
  }

  /** A build made while the node runs (a developer rebuilding) is picked up when a name is missed. */
  const lookup = (path: string): StaticFile | undefined => {
    const found = files.get(path)
    if (found !== undefined) return found
    files = listBuild(dist)
    return files.get(path)
  }

  app.get('/', (c) => {
    const index = lookup('/index.html')
    return index === undefined ? notBuilt(c) : send(c, index)
  })
  app.get('/assets/*', (c) => {
    const path = new URL(c.req.url).pathname
    const file = lookup(path)
    if (file === undefined) {
      securityHeaders(c)
      return c.json({ error: 'not found', message: `no viewer file ${path.slice(0, 200)}; the viewer's files are under /assets/ as the build wrote them` }, 404)
    }
    return send(c, file)
  })
  return app
}
