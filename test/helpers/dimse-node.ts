/**
 * A DIMSE edge over a real data dir, in the test process: the dir is made as `peerpacs init` makes it, the
 * archive and Pacs are opened as the daemon opens them, and the edge listens on 127.0.0.1 port 0.
 * Also: dcmtk tools run as child processes that the test always kills, and a storescp to receive
 * C-MOVEs. Logs are collected so a test can check what was (and was not) logged.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { Archive } from '../../node/archive/archive.ts'
import { createLogger, type Logger } from '../../node/logging/logger.ts'
import type { DimseSettings, RemoteAe } from '../../node/config/settings.ts'
import { startDimse, type DimseServer } from '../../node/dimse/server.ts'
import { Pacs } from '../../node/pacs/pacs.ts'
import { provider, random } from '../../node/runtime.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import { keys } from '../../node/archive/index-layout.ts'
import { createKeyring } from '../../node/keys/keyring.ts'
import { DATA_DIR_FORMAT, DATA_DIR_VERSION, dataDirLayout, prepareNewDataDir, writeDataDirMeta } from '../../node/store/data-dir.ts'
import { LevelKvStore } from '../../node/store/kv-level.ts'
import { tempDir } from './files.ts'

export const NODE_AE = 'PEERPACS'

export interface DimseNode {
  readonly dir: string
  readonly pacs: Pacs
  readonly server: DimseServer
  readonly port: number
  readonly logs: string[]
}

export function remote (aeTitle: string, extra: Partial<RemoteAe> = {}): RemoteAe {
  return { aeTitle, host: '127.0.0.1', store: true, query: true, retrieve: true, ...extra }
}

export async function startDimseNode (t: Pick<TestContext, 'after'>, settings: Partial<DimseSettings> = {}): Promise<DimseNode> {
  // One hook closes the edge, then the archive (closing writes in the data dir), then removes the dir.
  const dir = await mkdtemp(join(tmpdir(), 'peerpacs-dimse-'))
  let server: DimseServer | undefined
  let archive: Archive | undefined
  t.after(async () => {
    try {
      await server?.close()
      await archive?.close()
    } finally {
      // (maxRetries: a write still finishing as the dir goes, e.g. the log's mark file, is waited for.)
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
    }
  })
  const data = join(dir, 'data')
  await initDataDir(data)
  archive = await Archive.open(data, { keys: 'required', passphrase: undefined, provider, random, command: 'dimse-test' })
  const pacs = await Pacs.load(archive)
  const logs: string[] = []
  const log: Logger = createLogger({ level: 'debug', write: (line) => { logs.push(line) } })
  server = await startDimse(pacs, {
    host: '127.0.0.1', port: 0, aeTitle: NODE_AE, remotes: [remote('STORESCU'), remote('FINDSCU'), remote('MOVESCU'), remote('GETSCU'), remote('ECHOSCU')],
    acceptUnknown: false, maxPduLength: 65536, idleTimeout: 30, artimTimeout: 30, maxConnectionsPerAddress: 32, ...settings
  }, log)
  return { dir, pacs, server, port: server.port, logs }
}

/** What `peerpacs init` does (node/cli/commands/init.ts), without a passphrase, in-process. */
async function initDataDir (data: string): Promise<void> {
  const layout = dataDirLayout(data)
  await prepareNewDataDir(layout)
  const { keyring, recoverySeed } = await createKeyring(layout.keysDir, { passphrase: undefined, orgName: 'DIMSE test clinic', provider, random, now: Date.now() })
  recoverySeed.fill(0)
  const index = await LevelKvStore.open(layout.indexDir, { create: true })
  await index.batch([{ type: 'put', key: keys.owner, value: utf8Encode(keyring.nodeId) }])
  await index.close()
  await writeDataDirMeta(layout, { format: DATA_DIR_FORMAT, version: DATA_DIR_VERSION, nodeId: keyring.nodeId, orgId: keyring.orgId, orgName: 'DIMSE test clinic', created: new Date().toISOString() })
}

export interface ToolResult { code: number | null, stdout: string, stderr: string }

/** Runs a dcmtk tool to completion; killed by PID when the test ends first. */
export async function runTool (t: Pick<TestContext, 'after'>, tool: string, args: string[], env: Record<string, string> = {}): Promise<ToolResult> {
  const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  t.after(() => { if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

/** A free TCP port on 127.0.0.1 (for a storescp the test starts). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

export interface Receiver { readonly port: number, readonly dir: string, readonly child: ChildProcess, output: () => string }

/**
 * storescp writing exactly what it receives (+B), accepting every syntax (+xa); killed by PID at
 * the end. `extra` adds options (e.g. its TLS ones); `port` is a free one unless given.
 */
export async function startStorescp (t: Pick<TestContext, 'after'>, aeTitle: string, extra: readonly string[] = [], port?: number): Promise<Receiver> {
  const dir = await tempDir(t, 'peerpacs-storescp-')
  port ??= await freePort()
  const child = spawn('storescp', ['-d', '+B', '+xa', ...extra, '--output-directory', dir, '-aet', aeTitle, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL') })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { output += d })
  // Wait until it listens.
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(true))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)))
    })
    if (up) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { port, dir, child, output: () => output }
}
