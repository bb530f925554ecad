/**
 * A Unix socket path the kernel accepts however deep its folder is: sun_path holds 108 bytes
 * with the NUL, so a longer path is reached through `/proc/self/fd/N/`, where N is an open
 * descriptor of the socket's folder (Linux resolves it as the folder itself). Kept apart from
 * the control socket's server so the CLI can use it without loading the HTTP stack.
 */
import { closeSync, openSync } from 'node:fs'
import { basename, dirname } from 'node:path'

/** sun_path's 108 bytes, less the terminating NUL. */
const MAX_SOCKET_PATH = 107

export interface SocketPath {
  /** The path to bind or connect to (possibly through /proc/self/fd). */
  readonly path: string
  /** Closes the folder descriptor a long path needed. */
  release: () => void
}

/** A path the kernel accepts for `file`, however deep its folder is. */
export function socketPathFor (file: string): SocketPath {
  if (Buffer.byteLength(file) <= MAX_SOCKET_PATH) return { path: file, release: () => {} }
  const fd = openSync(dirname(file), 'r')
  return { path: `/proc/self/fd/${fd}/${basename(file)}`, release: () => { closeSync(fd) } }
}

