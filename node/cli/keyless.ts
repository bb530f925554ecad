/**
 * A backup node holds no key (DESIGN invariant 1): commands that need plaintext say so plainly
 * on one, instead of failing later with "no such study" or a key error.
 */
import { PeerpacsError } from '../../protocol/errors.ts'
import type { Archive } from '../archive/archive.ts'

export class KeylessNodeError extends PeerpacsError {
  static readonly code = 'KEYLESS_NODE'
  constructor (message: string, hint: string) { super(KeylessNodeError.code, message, { hint }) }
}

export async function refuseOnKeylessNode (archive: Archive, what: string): Promise<void> {
  const log = await archive.log()
  const role = log.oplog.state.members.get(archive.keyring.nodeId)?.role
  if (role === 'backup') {
    throw new KeylessNodeError(`this node is the org's backup: it holds no key, so it cannot ${what}`, 'run the command on a site node; a backup only keeps and serves the encrypted blobs')
  }
}
