import { PeerpacsError } from '../../protocol/errors.ts'

export class StudyNotFoundError extends PeerpacsError {
  static readonly code = 'STUDY_NOT_FOUND'
  constructor (message: string, hint?: string) { super(StudyNotFoundError.code, message, hint === undefined ? {} : { hint }) }
}

/** A different instance with the same SOPInstanceUID is already stored; the stored one is kept. */
export class InstanceConflictError extends PeerpacsError {
  static readonly code = 'INSTANCE_CONFLICT'
  constructor (message: string) { super(InstanceConflictError.code, message) }
}

/** The command needs the node's keys, but the archive was opened without them. */
export class KeysNotLoadedError extends PeerpacsError {
  static readonly code = 'KEYS_NOT_LOADED'
  constructor (message: string) { super(KeysNotLoadedError.code, message) }
}

/** A record in the index that does not open or decode: the index is damaged there. */
export class IndexDamagedError extends PeerpacsError {
  static readonly code = 'INDEX_DAMAGED'
  constructor (message: string, options?: { cause?: unknown }) {
    super(IndexDamagedError.code, message, { hint: 'run `peerpacs fsck` to see what is affected', ...(options ?? {}) })
  }
}
