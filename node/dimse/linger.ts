/**
 * How the edge ends a connection after it answered with A-ASSOCIATE-RJ, A-RELEASE-RP or A-ABORT
 * (PS3.8 9.1.2 and the state machine's ARTIM): it stops sending, reads and drops whatever still
 * arrives, and waits for the peer to close the transport; a peer that has not closed when ARTIM
 * expires is closed on. The answer is never cut off by an early reset.
 */
import type { Socket } from 'node:net'

export function closeWithArtim (socket: Socket, artimMs: number): void {
  if (socket.destroyed) return
  const timer = setTimeout(() => { socket.destroy() }, artimMs)
  timer.unref()
  socket.once('close', () => { clearTimeout(timer) })
  socket.end()
  socket.resume()
}
