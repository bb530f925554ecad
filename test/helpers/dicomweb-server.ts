/**
 * The DICOMweb edge served in the test process, as the node mounts it (/dicomweb and /wado), on
 * 127.0.0.1 and a free port: over a real data dir (made by `peerpacs init`, opened with
 * Archive.open) or over memory stores. Logs are kept so a test can check they carry no PHI.
 */
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { Archive } from '../../node/archive/archive.ts'
import { createLogger } from '../../node/logging/logger.ts'
import type { HttpSettings } from '../../node/config/settings.ts'
import { dicomwebRoutes, wadoUriRoutes } from '../../node/dicomweb/routes.ts'
import { Pacs } from '../../node/pacs/pacs.ts'
import { provider, random } from '../../node/runtime.ts'
import { memoryArchive } from '../unit/node/helpers/archive.ts'
import { runCli, show } from './cli.ts'
import { tempDir } from './files.ts'

export interface DicomwebServer {
  readonly url: string
  /** `${url}/dicomweb` */
  readonly root: string
  readonly pacs: Pacs
  readonly archive: Archive
  readonly logs: string[]
  readonly server: ServerType
}

export interface ServerOptions {
  readonly store?: 'memory' | 'data-dir'
  readonly maxStowBytes?: number
}

export async function startDicomweb (t: Pick<TestContext, 'after'>, options: ServerOptions = {}): Promise<DicomwebServer> {
  let archive: Archive
  if (options.store === 'data-dir') {
    const dir = join(await tempDir(t, 'peerpacs-dicomweb-'), 'data')
    const init = await runCli(['init', '--data', dir])
    if (init.code !== 0) throw new Error(`peerpacs init failed: ${show(init)}`)
    archive = await Archive.open(dir, { keys: 'required', passphrase: undefined, provider, random, command: 'test' })
  } else {
    archive = (await memoryArchive(t)).archive
  }
  const pacs = await Pacs.load(archive)
  const logs: string[] = []
  const log = createLogger({ level: 'debug', write: (line) => { logs.push(line) } })
  const settings: HttpSettings = { host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: options.maxStowBytes ?? 256 << 20 }
  const app = new Hono()
  app.route('/dicomweb', dicomwebRoutes(pacs, settings, log))
  app.route('/wado', wadoUriRoutes(pacs, log))
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => { resolve(s) })
  })
  const port = (server.address() as AddressInfo).port
  t.after(async () => {
    await new Promise<void>((resolve) => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.()
      server.close(() => { resolve() })
    })
    await pacs.drain()
    await archive.close()
  })
  const url = `http://127.0.0.1:${port}`
  return { url, root: `${url}/dicomweb`, pacs, archive, logs, server }
}

/** A STOW-RS body for `parts` (bytes, or [content type, bytes]). */
export function multipartBody (parts: Array<Uint8Array | [string, Uint8Array]>, boundary = 'test-boundary-7f3a'): { body: Uint8Array, contentType: string } {
  const chunks: Uint8Array[] = []
  for (const part of parts) {
    const [type, bytes] = part instanceof Uint8Array ? ['application/dicom', part] : part
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`), bytes, Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` }
}

/** Splits a multipart/related response into its parts' bytes (the response must be whole). */
export function splitMultipart (body: Uint8Array, contentType: string): Array<{ headers: string, bytes: Uint8Array }> {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1]
  if (boundary === undefined) throw new Error(`no boundary in ${contentType}`)
  const text = Buffer.from(body)
  const delimiter = Buffer.from(`--${boundary}`)
  const out: Array<{ headers: string, bytes: Uint8Array }> = []
  let at = text.indexOf(delimiter)
  if (at !== 0) throw new Error('the body does not start with the delimiter')
  for (;;) {
    const after = at + delimiter.length
    if (text.subarray(after, after + 2).toString() === '--') return out
    const headerEnd = text.indexOf('\r\n\r\n', after)
    const next = text.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd)
    if (headerEnd === -1 || next === -1) throw new Error('the multipart body is cut short')
    out.push({ headers: text.subarray(after + 2, headerEnd).toString('latin1'), bytes: new Uint8Array(text.subarray(headerEnd + 4, next)) })
    at = next + 2
  }
}
