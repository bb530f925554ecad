/**
 * The DIMSE edge of `peerpacs start`: a TCP server on the configured host and port (dcmjs-dimse's
 * own Server cannot bind a host), one PeerAssociation per connection. TCP_NODELAY is set on every
 * socket: dcmtk leaves Nagle on and each C-STORE would otherwise stall ~40 ms on delayed ACKs.
 * Whatever one connection sends, it can only end that connection.
 */
import { createServer, type Socket } from 'node:net'
import type { Logger } from '../daemon/log.ts'
import type { DimseSettings } from '../daemon/settings.ts'
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/file-meta-writer.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { PeerAssociation, type EdgeShared } from './association.ts'
import { plainAddress } from './access.ts'
import { Implementation } from './library.ts'
import { PduGuard } from './pdu-guard.ts'

export interface DimseServer {
  readonly port: number
  /** Stops accepting, lets C-STOREs under way finish (bounded), then aborts every association. */
  close: () => Promise<void>
}

/** How long close() waits for C-STOREs under way before aborting them. */
const DRAIN_MS = 15_000
/** Association requests with many presentation contexts exceed small PDU limits. */
const MIN_PDU_LIMIT = 256 << 10

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
  const shared: EdgeShared = { pacs, settings, log, inflight: new Set(), closing: () => closing }
  const associations = new Map<Socket, PeerAssociation | undefined>()
  const limit = Math.max(settings.maxPduLength, MIN_PDU_LIMIT)

  const server = createServer((socket) => {
    associations.set(socket, undefined)
    socket.once('close', () => { associations.delete(socket) })
    socket.on('error', () => { /* reported by the association; never thrown */ })
    try {
      socket.setNoDelay(true)
      if (closing) { socket.destroy(); return }
      const guard = new PduGuard(limit)
      socket.on('data', (chunk: Buffer) => {
        const problem = guard.check(chunk)
        if (problem === undefined) return
        log.warn('dimse.connection.refused-bytes', { peer: plainAddress(socket.remoteAddress), reason: problem })
        socket.destroy()
      })
      const association = new PeerAssociation(socket, shared)
      associations.set(socket, association)
      // The library's data listener parses PDUs; an exception there would escape to the process.
      for (const listener of socket.listeners('data').slice(1) as Array<(chunk: Buffer) => void>) {
        socket.off('data', listener)
        socket.on('data', (chunk: Buffer) => {
          if (socket.destroyed) return
          try {
            listener(chunk)
          } catch (error) {
            log.warn('dimse.connection.parse-failed', { peer: plainAddress(socket.remoteAddress), error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' })
            socket.destroy()
          }
        })
      }
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
      await bounded(stopped, 2000)
      log.info('dimse.closed', {})
    }
  }
}
