/**
 * One TCP connection of the DIMSE edge, from accept to close: ARTIM runs until the
 * A-ASSOCIATE-RQ is complete (PS3.8: a peer that connects and sends nothing, or trickles its
 * request, is closed on when it expires), and the PDU guard stands between the socket and
 * dcmjs-dimse: the library's own data listener is taken off the socket and fed only the bytes
 * the guard has checked. A problem the guard finds is answered per PS3.8 by the association.
 */
import type { Socket } from 'node:net'
import { plainAddress } from './access.ts'
import { PeerAssociation, type EdgeShared } from './association.ts'
import { PDU, PduGuard } from './pdu-guard.ts'

type DataListener = (chunk: Buffer) => void

export function serveConnection (socket: Socket, shared: EdgeShared, pduLimit: number): PeerAssociation {
  const { log, settings } = shared
  const before = new Set(socket.listeners('data'))
  const association = new PeerAssociation(socket, shared)
  const library = (socket.listeners('data') as DataListener[]).filter((l) => !before.has(l))
  for (const listener of library) socket.off('data', listener)

  const artimSeconds = Math.max(1, settings.artimTimeout)
  const artim = setTimeout(() => {
    log.warn('dimse.connection.artim-expired', { peer: plainAddress(socket.remoteAddress), seconds: artimSeconds, note: 'no complete A-ASSOCIATE-RQ in time' })
    socket.destroy()
  }, artimSeconds * 1000)
  artim.unref()
  socket.once('close', () => { clearTimeout(artim) })

  const guard = new PduGuard(pduLimit, {
    acceptedContexts: () => association.acceptedContexts,
    onPdu: (type) => {
      if (type === PDU.associateRq) clearTimeout(artim)
      association.touch()
    }
  })
  const forward = (bytes: Buffer): void => {
    for (const listener of library) {
      if (socket.destroyed) return
      try {
        listener.call(socket, bytes)
      } catch (error) {
        log.warn('dimse.connection.parse-failed', { peer: plainAddress(socket.remoteAddress), error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' })
        association.shutdown()
        return
      }
    }
  }
  socket.on('data', (chunk: Buffer) => {
    if (socket.destroyed || guard.done) return
    const problem = guard.push(chunk, forward)
    if (problem !== undefined) association.refuse(problem)
  })
  return association
}
