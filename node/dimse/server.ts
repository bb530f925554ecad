/**
 * The DIMSE edge of `peerpacs start`: a TCP server on the configured host and port (dcmjs-dimse's
 * own Server cannot bind a host), one PeerAssociation per connection (connection.ts). TCP_NODELAY
 * is set on every socket: dcmtk leaves Nagle on and each C-STORE would otherwise stall ~40 ms on
 * delayed ACKs. One address holds at most `maxConnectionsPerAddress` connections; the next one is
 * answered A-ASSOCIATE-RJ (transient, local limit exceeded) at once and closed. Whatever one
 * connection sends, it can only end that connection.
 *
 * DICOM TLS (issue 19, PS3.15 Annex B with the BCP 195 profile): listenTls() opens a second port
 * whose connections, once their TLS handshake is done, are served exactly as plain ones (same AE
 * title, allow-list, limits and handling). TLS 1.2 minimum, AEAD suites with forward secrecy only
 * (the HTTPS settings, daemon/tls.ts). A client certificate is always asked for (an AE may be pinned
 * to one: access.ts); with `requireClientCert` a caller without one that chains to the CA is closed
 * as its handshake ends, before any DICOM is read. That, and a handshake that fails (plain DICOM
 * sent to the TLS port, no common suite), is logged and audited as a refused connection (110113,
 * node authentication). The
 * per-address limit counts both ports together and is taken at TCP accept; a TLS connection over it
 * is closed before its handshake. The plain port stays for modalities that cannot do TLS.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls'
import type { Logger } from '../logging/logger.ts'
import type { DimseSettings } from '../config/settings.ts'
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/file-meta-writer.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { PeerAssociation, EdgeShared } from './association.ts'
import { plainAddress } from './access.ts'
import { AddressLimit } from './address-limit.ts'
import { serveConnection } from './connection.ts'
import { Implementation } from './library.ts'
import { closeWithArtim } from './linger.ts'
import { RefusalReporter } from './refusals.ts'
import { REJECT, rejectPdu } from './ul-replies.ts'

/** What the DICOM TLS port needs from the daemon's certificate service (daemon/dimse-tls.ts). */
export interface DimseTls {
  /** The certificate, key and TLS settings served now (renewals swap them). */
  readonly secureOptions: SecureContextOptions
  readonly info: { readonly fingerprint: string }
  /** PEM certificates trusted for client certificates and TLS C-MOVE destinations. */
  readonly ca: string | undefined
  readonly requireClientCert: boolean
  /** Renewals of the certificate go to the server's setSecureContext. */
  attach: (target: { setSecureContext: (options: SecureContextOptions) => void }) => void
  close: () => void
}

export interface DimseServer {
  readonly port: number
  /** The DICOM TLS port, once listenTls() has opened it. */
  readonly tlsPort: number | undefined
  /** Opens the DICOM TLS port (settings.tls) with this certificate; rejects as listen() does. */
  listenTls: (tls: DimseTls) => Promise<number>
  /** Stops accepting, lets C-STOREs under way finish (bounded), then aborts every association. */
  close: () => Promise<void>
}

/** How long close() waits for C-STOREs under way before aborting them. */
const DRAIN_MS = 15_000
/** Association requests with many presentation contexts exceed small PDU limits. */
const MIN_PDU_LIMIT = 256 << 10
/** How long a connection refused for the per-address limit may linger for its answer to be read. */
const REFUSED_LINGER_MS = 2000
/** The "connections over the limit" warning: once per address in this window. */
const LIMIT_LOG_WINDOW_MS = 60_000

/** Waits for `work`, at most `ms`; the timer is cleared either way so it holds nothing open. */
async function bounded (work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([work, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

async function listen (server: Server, host: string, port: number, log: Logger): Promise<number> {
  server.on('error', (error) => { log.error('dimse.server.error', { error: error.message }) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : port
}

/** A failed handshake in words for the log and the audit trail (no peer data: OpenSSL's reason only). */
export function handshakeProblem (error: Error & { code?: string }): string {
  const text = `${error.code ?? ''} ${error.message}`
  if (/wrong version number|http request|unknown protocol|packet length too long|record layer failure/i.test(text)) return 'not TLS (plain DICOM on the TLS port?)'
  if (/timed out|ECONNRESET|socket hang up/i.test(text)) return 'the handshake did not complete'
  return `TLS handshake failed (${(error.code ?? error.message).slice(0, 80)})`
}

export async function startDimse (pacs: Pacs, settings: DimseSettings, log: Logger): Promise<DimseServer> {
  Implementation.setMaxPduLength(settings.maxPduLength)
  Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID)
  Implementation.setImplementationVersion(IMPLEMENTATION_VERSION_NAME)
  let closing = false
  const refusals = new RefusalReporter({ audit: pacs.archive.audit, aeTitle: settings.aeTitle, log })
  const shared: EdgeShared = { pacs, settings, log, inflight: new Set(), closing: () => closing, refusals }
  const associations = new Map<Socket, PeerAssociation | undefined>()
  const limit = Math.max(settings.maxPduLength, MIN_PDU_LIMIT)
  const perAddress = new AddressLimit(settings.maxConnectionsPerAddress)
  const limitLogged = new Map<string, number>()

  /** Over the per-address limit: the answer goes out before the request is read (it is bounded, a request may not be). */
  const logOverLimit = (socket: Socket, tls: boolean): void => {
    const peer = plainAddress(socket.remoteAddress)
    const now = Date.now()
    if ((limitLogged.get(peer) ?? 0) <= now - LIMIT_LOG_WINDOW_MS) {
      if (limitLogged.size > 10_000) limitLogged.clear()
      limitLogged.set(peer, now)
      log.warn('dimse.connection.limit', { peer, max: perAddress.max, hint: `more connections from this address than dicom.maxConnectionsPerAddress allows; ${tls ? 'closed before the TLS handshake' : 'answered A-ASSOCIATE-RJ (transient, local limit exceeded)'}` })
    }
  }
  const refuseOverLimit = (socket: Socket): void => {
    logOverLimit(socket, false)
    socket.write(rejectPdu(REJECT.transient, REJECT.serviceProviderPresentation, REJECT.localLimitExceeded))
    closeWithArtim(socket, Math.min(REFUSED_LINGER_MS, settings.artimTimeout * 1000))
  }

  /** A connection whose place under the per-address limit is taken (and released by the caller): served until it closes. */
  const serve = (socket: Socket): void => {
    associations.set(socket, undefined)
    socket.once('close', () => { associations.delete(socket) })
    associations.set(socket, serveConnection(socket, shared, limit))
  }

  const server = createServer((socket) => {
    socket.on('error', () => { /* reported by the association; never thrown */ })
    try {
      socket.setNoDelay(true)
      if (closing) { socket.destroy(); return }
      if (!perAddress.take(socket.remoteAddress)) { refuseOverLimit(socket); return }
      const address = socket.remoteAddress
      socket.once('close', () => { perAddress.release(address) })
      serve(socket)
    } catch (error) {
      log.error('dimse.connection.setup-failed', { error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' })
      socket.destroy()
    }
  })
  const port = await listen(server, settings.host, settings.port, log)
  log.info('dimse.listening', { host: settings.host, port, aeTitle: settings.aeTitle })
  let tlsServer: Server | undefined
  let tlsPort: number | undefined
  let tlsMaterial: DimseTls | undefined
  /** TLS connections accepted whose handshake is not done (closed by close()), and those dropped at accept. */
  const handshaking = new Set<Socket>()
  const dropped = new WeakSet<Socket>()

  const listenTls = async (tls: DimseTls): Promise<number> => {
    if (settings.tls === undefined) throw new Error('listenTls: no dicom.tls settings')
    if (tlsServer !== undefined) throw new Error('listenTls: the DICOM TLS port is already open')
    const ca = tls.ca
    const options = (current: SecureContextOptions): SecureContextOptions => ({ ...current, ...(ca === undefined ? {} : { ca }) })
    const secure = createTlsServer({
      ...options(tls.secureOptions),
      // Checked below rather than by OpenSSL, so the log and the audit trail can say what was wrong
      // (OpenSSL's own refusal of a TLS 1.3 client certificate reaches Node as a bare reset).
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: Math.max(1, settings.artimTimeout) * 1000
    }, (socket: TLSSocket) => {
      socket.on('error', () => { /* reported by the association; never thrown */ })
      const raw = (socket as unknown as { _parent?: Socket })._parent
      if (raw !== undefined) handshaking.delete(raw)
      try {
        if (closing) { socket.destroy(); return }
        if (tls.requireClientCert && !socket.authorized) {
          const cert = socket.getPeerCertificate()
          const none = cert === null || cert === undefined || Object.keys(cert).length === 0
          refusals.refused('handshake', '', settings.aeTitle, socket.remoteAddress, none ? 'no client certificate (dicom.tls.requireClientCert)' : `client certificate not trusted (${String(socket.authorizationError).slice(0, 60)}; not issued by dicom.tls.ca)`)
          socket.destroy()
          return
        }
        serve(socket)
      } catch (error) {
        log.error('dimse.connection.setup-failed', { error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' })
        socket.destroy()
      }
    })
    // The limit is taken at TCP accept, before the handshake costs anything; released when the TCP
    // socket closes. Connections still in their handshake are closed by close().
    secure.on('connection', (raw: Socket) => {
      raw.on('error', () => { /* the TLS socket reports it */ })
      raw.setNoDelay(true)
      if (closing || !perAddress.take(raw.remoteAddress)) {
        if (!closing) logOverLimit(raw, true)
        dropped.add(raw)
        raw.destroy()
        return
      }
      const address = raw.remoteAddress
      handshaking.add(raw)
      raw.once('close', () => { handshaking.delete(raw); perAddress.release(address) })
    })
    secure.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
      // A connection this side dropped (over the limit, closing) is not a refused peer.
      const raw = (socket as unknown as { _parent?: Socket })._parent
      if (closing || (raw !== undefined && dropped.has(raw))) { socket.destroy(); return }
      const detail = handshakeProblem(error)
      refusals.refused('handshake', '', settings.aeTitle, socket.remoteAddress, detail)
      socket.destroy()
    })
    tls.attach({ setSecureContext: (next) => { secure.setSecureContext(options(next)) } })
    tlsServer = secure
    tlsMaterial = tls
    try {
      tlsPort = await listen(secure, settings.tls.host, settings.tls.port, log)
    } catch (error) {
      tls.close()
      tlsServer = undefined
      throw error
    }
    shared.outboundTls = () => ({ ...options(tls.secureOptions) })
    log.info('dimse.tls.listening', { host: settings.tls.host, port: tlsPort, aeTitle: settings.aeTitle, fingerprint: tls.info.fingerprint, requireClientCert: tls.requireClientCert, ca: ca !== undefined })
    return tlsPort
  }

  return {
    port,
    get tlsPort () { return tlsPort },
    listenTls,
    close: async () => {
      if (closing) return
      closing = true
      const stopped = Promise.all([server, ...(tlsServer === undefined ? [] : [tlsServer])].map(async (s) => { await new Promise<void>((resolve) => { s.close(() => { resolve() }) }) }))
      tlsMaterial?.close()
      for (const raw of handshaking) raw.destroy()
      const inflight = [...shared.inflight]
      if (inflight.length > 0) {
        log.info('dimse.closing.draining', { stores: inflight.length })
        await bounded(Promise.allSettled(inflight), DRAIN_MS)
      }
      for (const [socket, association] of associations) {
        if (association !== undefined) association.shutdown()
        else socket.destroy()
      }
      // Aborted stores fail as soon as their sockets close; wait for them to say so.
      await bounded(Promise.allSettled([...shared.inflight]), 5000)
      refusals.stop()
      await bounded(stopped, 2000)
      log.info('dimse.closed', {})
    }
  }
}
