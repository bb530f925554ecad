/**
 * The DIMSE edge of `peerpacs start`: a TCP server on the configured host and port (dcmjs-dimse's
 * own Server cannot bind a host), one PeerAssociation per connection (connection.ts). TCP_NODELAY
 * is set on every socket: dcmtk leaves Nagle on and each C-STORE would otherwise stall ~40 ms on
 * delayed ACKs. One address holds at most `maxConnectionsPerAddress` connections; the next one is
 * answered A-ASSOCIATE-RJ (transient, local limit exceeded) at once and closed. Whatever one
 * connection sends, it can only end that connection.
 */
import { createServer, type Socket } from 'node:net'
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

export interface DimseServer {
  readonly port: number
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
  const refuseOverLimit = (socket: Socket): void => {
    const peer = plainAddress(socket.remoteAddress)
    const now = Date.now()
    if ((limitLogged.get(peer) ?? 0) <= now - LIMIT_LOG_WINDOW_MS) {
      if (limitLogged.size > 10_000) limitLogged.clear()
      limitLogged.set(peer, now)
      log.warn('dimse.connection.limit', { peer, max: perAddress.max, hint: 'more connections from this address than dicom.maxConnectionsPerAddress allows; answered A-ASSOCIATE-RJ (transient, local limit exceeded)' })
    }
    socket.write(rejectPdu(REJECT.transient, REJECT.serviceProviderPresentation, REJECT.localLimitExceeded))
    closeWithArtim(socket, Math.min(REFUSED_LINGER_MS, settings.artimTimeout * 1000))
  }

  const server = createServer((socket) => {
    socket.on('error', () => { /* reported by the association; never thrown */ })
    try {
      socket.setNoDelay(true)
      if (closing) { socket.destroy(); return }
      if (!perAddress.take(socket.remoteAddress)) { refuseOverLimit(socket); return }
      const address = socket.remoteAddress
      associations.set(socket, undefined)
      socket.once('close', () => { associations.delete(socket); perAddress.release(address) })
      associations.set(socket, serveConnection(socket, shared, limit))
    } catch (error) {
      log.error('dimse.connection.setup-failed', { error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' })
      socket.destroy()
    }
  })
  server.on('error', (error) => { log.error('dimse.server.error', { error: error.message }) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(settings.port, settings.host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : settings.port
  log.info('dimse.listening', { host: settings.host, port, aeTitle: settings.aeTitle })

  return {
    port,
    close: async () => {
      if (closing) return
      closing = true
      const stopped = new Promise<void>((resolve) => { server.close(() => { resolve() }) })
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
