/**
 * A running node (`peerpacs start`): holds the data dir, loads the catalogue, serves DIMSE and
 * HTTP, listens on control.sock so CLI commands reach it (and writes control.json: its pid and
 * HTTP address, for people and scripts). Stopping (SIGINT/SIGTERM, or stop())
 * closes the listeners first, lets in-flight writes finish (each is all-or-nothing anyway: an
 * instance is either durable with its index record or absent), then releases the data dir.
 */
import { rm } from 'node:fs/promises'
import { Hono } from 'hono'
import { Archive } from '../archive/archive.ts'
import { Pacs } from '../pacs/pacs.ts'
import { provider, random } from '../runtime.ts'
import { writeFileAtomic } from '../store/atomic-file.ts'
import { toHex } from '../../protocol/encoding.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { startDimse, type DimseServer } from '../dimse/server.ts'
import { dicomwebRoutes, wadoUriRoutes } from '../dicomweb/routes.ts'
import { listenControlSocket, type ControlSocket } from './control-socket.ts'
import { createHttpApp, startHttp, type HttpServer } from './http.ts'
import { openTls, type TlsService } from './tls-service.ts'
import { openDimseTls } from './dimse-tls.ts'
import { viewerStatic } from './viewer-static.ts'
import type { Logger } from '../logging/logger.ts'
import type { NodeHandle } from './node-handle.ts'
import type { NodeSettings } from '../config/settings.ts'
import { TokenStore } from './tokens.ts'
import { applicationActivityEvent, nodeSource } from '../../protocol/audit/index.ts'
import { thisNode } from '../audit/actors.ts'
import { httpAuthAudit } from '../audit/http-auth.ts'
import { Mesh } from '../mesh/mesh.ts'
import { meshParts } from '../mesh/parts.ts'
import { People } from '../people/people.ts'
import { mountPeople, peopleStatus } from '../people/mount.ts'

export class ListenError extends PeerpacsError {
  static readonly code = 'LISTEN'
  constructor (message: string, hint: string) { super(ListenError.code, message, { hint }) }
}

/** A listener that cannot bind says which address and why, and how to choose another. */
async function listening<T> (what: string, host: string, port: number, flag: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new ListenError(`cannot listen for ${what} on ${host}:${port}: the address is in use`, `stop what uses it, or choose another address with ${flag}`)
    if (code === 'EACCES') throw new ListenError(`cannot listen for ${what} on ${host}:${port}: permission denied (ports below 1024 need privileges)`, `choose a port above 1023 with ${flag}`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ListenError(`cannot listen for ${what} on ${host}:${port}: no such local address`, `use an address of this machine with ${flag}`)
    throw error
  }
}

export interface RunningNode {
  readonly archive: Archive
  readonly pacs: Pacs
  readonly mesh: Mesh
  readonly dicomPort: number
  /** The DICOM TLS port (undefined: off) and its certificate. */
  readonly dicomTls: { readonly port: number, readonly service: TlsService } | undefined
  readonly httpPort: number
  /** The HTTPS certificate served (undefined: plain HTTP on loopback). */
  readonly tls: TlsService | undefined
  /** Resolves once the node has stopped; stop() starts that. */
  readonly stopped: Promise<void>
  stop: (reason: string) => Promise<void>
}

export interface RunNodeOptions {
  readonly settings: NodeSettings
  readonly passphrase: string | undefined
  readonly log: Logger
  /** The app served on the control socket for this node (the CLI's channel, cli/channel.ts). */
  readonly controlChannel: (node: NodeHandle & { readonly dataDir: string }) => Hono
}

function urlHost (host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

/** The mesh part of GET /api/status (and `peerpacs status`). */
export function meshStatus (mesh: Mesh): Record<string, unknown> {
  const studies = mesh.studies()
  const count = (h: string): number => studies.filter((s) => s.holding === h).length
  return {
    peerId: mesh.host.peerId.toString(),
    addresses: mesh.addresses(),
    peers: mesh.peers(),
    log: mesh.logSummary(),
    backupVerification: mesh.lastBackupVerification ?? null,
    streamsFrom: mesh.streamsFrom(),
    transfers: mesh.transfers() ?? null,
    studies: { local: count('local'), partial: count('partial'), remoteOnly: count('remote-only'), list: studies }
  }
}

export async function runNode (options: RunNodeOptions): Promise<RunningNode> {
  const { settings, log } = options
  const archive = await Archive.open(settings.dataDir, { keys: 'required', passphrase: options.passphrase, provider, random, command: 'start' })
  let dimse: DimseServer | undefined
  let http: HttpServer | undefined
  let mesh: Mesh | undefined
  let control: ControlSocket | undefined
  const cleanup = async (): Promise<void> => {
    await control?.close().catch(() => undefined)
    await http?.close().catch(() => undefined)
    await dimse?.close().catch(() => undefined)
    await mesh?.stop().catch(() => undefined)
    await rm(archive.layout.controlFile, { force: true })
    await archive.close()
  }
  archive.logger = log.child({ component: 'audit' })
  const application = thisNode(archive.keyring.nodeId, settings.dimse.aeTitle)
  try {
    // The HTTPS certificate first: a bad one is a config error before anything listens (tls.ts).
    const tls = await openTls(settings.http, { keysDir: archive.layout.keysDir, passphrase: options.passphrase, provider, random, log: log.child({ component: 'tls' }) })
    const scheme = tls === undefined ? 'http' : 'https'
    const dimseTls = settings.dimse.tls === undefined ? undefined : await openDimseTls(settings.dimse.tls, { keysDir: archive.layout.keysDir, passphrase: options.passphrase, provider, random, log: log.child({ component: 'dimse-tls' }) })
    const started = performance.now()
    const pacs = await Pacs.load(archive)
    log.info('catalogue.loaded', { studies: pacs.studyCount, instances: pacs.instanceCount, unreadable: pacs.unreadable.length, ms: Math.round(performance.now() - started) })
    for (const problem of pacs.unreadable) log.warn('catalogue.unreadable', { studyId: problem.studyId })
    const tokens = new TokenStore(archive.kv, provider, random)
    const controlToken = `ppc_${toHex(random(32))}`
    const parts = await meshParts(archive, log.child({ component: 'mesh' }), () => mesh?.addresses() ?? [])
    const meshHandle = {
      invites: parts.invites,
      addresses: (): string[] => mesh?.addresses() ?? [],
      verifyBackup: async (count: number | 'all', onProgress?: (done: number, total: number) => void) => {
        if (mesh === undefined) throw new Error('the mesh is not running')
        return await mesh.verifyBackup(count, onProgress)
      }
    }
    const statusOf = (): Record<string, unknown> => ({
      nodeId: archive.meta.nodeId,
      orgId: archive.meta.orgId,
      pid: process.pid,
      dicom: { aeTitle: settings.dimse.aeTitle, port: dimse?.port, tls: dimseTls === undefined ? null : { port: dimse?.tlsPort, ...dimseTls.info } },
      http: { port: http?.port, scheme, tls: tls === undefined ? null : tls.info },
      studies: pacs.studyCount,
      instances: pacs.instanceCount,
      unreadable: pacs.unreadable.length,
      mesh: mesh === undefined ? undefined : meshStatus(mesh)
    })
    const handle = { archive, pacs, dataDir: archive.layout.root, mesh: meshHandle, status: statusOf, people: async () => await peopleStatus(people), get sessions () { return people.sessions } }

    const people = new People(archive, await archive.log(), {
      log: log.child({ component: 'people' }),
      secure: tls !== undefined,
      relyingParty: { id: 'localhost', name: 'peerpacs', origins: [`${scheme}://localhost:${settings.http.port === 0 ? 8042 : settings.http.port}`] }
    })
    const api = new Hono()
    api.get('/status', async (c) => c.json({ ...statusOf(), people: await peopleStatus(people) }))
    mountPeople(api, people, pacs, log.child({ component: 'cases' }))
    const app = createHttpApp({
      settings: settings.http,
      tokens,
      controlToken,
      log: log.child({ component: 'http' }),
      // The CLI reaches the node on its control socket only (control-socket.ts), never over TCP.
      control: new Hono(),
      api,
      onAuth: httpAuthAudit(archive.audit),
      gate: people.gate,
      mounts: {
        '/dicomweb': dicomwebRoutes(pacs, settings.http, log.child({ component: 'dicomweb' })),
        '/wado': wadoUriRoutes(pacs, log.child({ component: 'wado' })),
        // The web viewer's static files at / (viewer-static.ts); it then calls /api and /dicomweb.
        '/': viewerStatic()
      }
    })
    dimse = await listening('DICOM', settings.dimse.host, settings.dimse.port, '--dicom', async () => await startDimse(pacs, settings.dimse, log.child({ component: 'dimse' })))
    if (dimseTls !== undefined) await listening('DICOM TLS', settings.dimse.tls!.host, settings.dimse.tls!.port, '--dicom-tls', async () => await dimse!.listenTls(dimseTls))
    http = await listening('HTTP', settings.http.host, settings.http.port, '--http', async () => await startHttp(app, settings.http, log.child({ component: 'http' }), tls))
    // Passkeys are bound to an origin: the address a browser on this machine opens (HTTPS and a
    // host name for other machines come with TLS, issue 19).
    people.setRelyingParty({ id: 'localhost', name: 'peerpacs', origins: [`${scheme}://localhost:${http.port}`] })
    const sweep = setInterval(() => { people.sessions.sweep().catch((error: unknown) => log.warn('sessions.sweep.failed', { error: String(error) })) }, 5 * 60_000)
    sweep.unref()
    mesh = await listening('the mesh', settings.mesh.listen.join(','), 0, '--p2p', async () => await Mesh.start({
      archive, pacs, settings: settings.mesh, logger: log.child({ component: 'mesh' }), blocks: parts.blocks, extras: parts.extras
    }))
    control = await listenControlSocket(options.controlChannel(handle), archive.layout.controlSocket, log.child({ component: 'control' }))
    await writeFileAtomic(archive.layout.controlFile, JSON.stringify({
      pid: process.pid,
      url: `${scheme}://${urlHost(settings.http.host)}:${http.port}`,
      ...(tls === undefined ? {} : { tls: { fingerprint: tls.info.fingerprint, certFile: tls.info.certFile } }),
      token: controlToken,
      dicom: { aeTitle: settings.dimse.aeTitle, host: urlHost(settings.dimse.host).replace(/^\[|\]$/g, ''), port: dimse.port, ...(dimse.tlsPort === undefined ? {} : { tlsPort: dimse.tlsPort }) }
    }) + '\n', 0o600)

    let resolveStopped!: () => void
    const stopped = new Promise<void>((resolve) => { resolveStopped = resolve })
    let stopping: Promise<void> | undefined
    const stop = async (reason: string): Promise<void> => {
      stopping ??= (async () => {
        log.info('node.stopping', { reason })
        clearInterval(sweep)
        await people.close().catch(() => undefined)
        await control!.close().catch((error: unknown) => log.error('control.close.failed', { error: String(error) }))
        // No new work: listeners close first (in-flight associations and requests finish).
        await http!.close().catch((error: unknown) => log.error('http.close.failed', { error: String(error) }))
        await dimse!.close().catch((error: unknown) => log.error('dimse.close.failed', { error: String(error) }))
        // The last instances' study.instances ops, written while the mesh can still offer them.
        await pacs.drain()
        await archive.unlogged.flushAll().catch((error: unknown) => log.warn('log.instances.deferred', { error: String(error) }))
        await mesh!.stop().catch((error: unknown) => log.error('mesh.close.failed', { error: String(error) }))
        await pacs.drain()
        // A failed audit write is logged by the auditor; the stop goes on and releases the data dir.
        await archive.auditor.record(applicationActivityEvent({ time: Date.now(), source: nodeSource(archive.keyring.nodeId), kind: 'stop', application })).catch(() => undefined)
        await rm(archive.layout.controlFile, { force: true })
        await archive.close()
        log.info('node.stopped', { reason })
        resolveStopped()
      })()
      await stopping
    }
    archive.auditor.emit(applicationActivityEvent({ time: Date.now(), source: nodeSource(archive.keyring.nodeId), kind: 'start', application }))
    log.info('node.ready', {
      nodeId: archive.meta.nodeId, aeTitle: settings.dimse.aeTitle, dicomHost: settings.dimse.host, dicomPort: dimse.port, ...(dimse.tlsPort === undefined ? {} : { dicomTlsPort: dimse.tlsPort }), httpHost: settings.http.host, httpPort: http.port, httpScheme: scheme,
      peerId: mesh.host.peerId.toString(), p2p: mesh.addresses().join(' '), mdns: settings.mesh.mdns
    })
    return { archive, pacs, mesh, dicomPort: dimse.port, dicomTls: dimseTls === undefined ? undefined : { port: dimse.tlsPort!, service: dimseTls.service }, httpPort: http.port, tls, stopped, stop }
  } catch (error) {
    await cleanup()
    throw error
  }
}
