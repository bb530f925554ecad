import { PeerpacsError } from '../../protocol/errors.ts'

/** A blob that the index names is not in the store. */
export class BlobMissingError extends PeerpacsError {
  static readonly code = 'BLOB_MISSING'
  constructor (message: string) { super(BlobMissingError.code, message) }
}
