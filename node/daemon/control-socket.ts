/**
 * The local control channel between the CLI and a running node: a Unix socket, `control.sock`,
 * inside the data dir, mode 0600. Only a process that may write the data dir (its owner, or
 * root) can create that file, and only its owner can connect to it, so each side knows the other
 * without a secret on the wire: the CLI cannot be answered by a process of another user that
 * happens to reuse a crashed node's PID, and no other user can run commands in the node.
 */
import { createAdaptorServer } from '@hono/node-server'
import { chmod, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { Hono } from 'hono'
import type { Logger } from '../logging/logger.ts'
import { socketPathFor } from './socket-path.ts'

export interface ControlSocket {
  close: () => Promise<void>
}

/**
 * Serves `app` on `file`. The caller holds the data dir (LevelDB's lock), so a socket file
 * already there is a crashed node's leftover and is replaced.
 */
export async function listenControlSocket (app: Hono, file: string, log: Logger): Promise<ControlSocket> {
  await rm(file, { force: true })
  const server = createAdaptorServer({ fetch: app.fetch }) as Server
  const target = socketPathFor(file)
  // The socket is created with the process's umask: make it owner-only from the first instant.
  const umask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(target.path, () => { server.off('error', reject); resolve() })
    })
  } finally {
    process.umask(umask)
    target.release()
  }
  await chmod(file, 0o600)
  log.info('control.listening', { socket: file })
  return {
    close: async () => {
      // A command under way gets a moment to finish (its client then sees its exit code).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { server.closeAllConnections() }, 5000)
        server.close(() => { clearTimeout(timer); resolve() })
        server.closeIdleConnections()
      })
      await rm(file, { force: true })
    }
  }
}
