/**
 * C-STORE into the archive, streamed: the dataset's bytes go from the PDVs into
 * pacs.ingestDataset as they arrive (chunk-queue.ts), and the response is sent only once the
 * ingest has resolved, that is once the instance is durable. On the way the dataset's own SOP
 * Class and Instance UIDs are compared with the command's before anything is claimed, so a
 * mismatched dataset stores nothing; the comparison reads the header the ingest's inspector
 * has just read (the dataset is parsed once, and its file meta built once, in pacs.ts). Every
 * failure maps to a PS3.4 status with a reason.
 */
import { PeerpacsError } from '../../protocol/errors.ts'
import type { FileMetaFields } from '../dicom/file-meta-writer.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'
import type { IngestResult } from '../archive/ingest.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { dimseStatusOf } from './error-statuses.ts'
import { STATUS } from './statuses.ts'

/** The dataset names another SOP Class or Instance than the C-STORE command that carries it. */
export class DatasetMismatchError extends PeerpacsError {
  static readonly code = 'DATASET_MISMATCH'
  constructor (message: string) { super(DatasetMismatchError.code, message) }
}

/** A C-STORE refused before its dataset was read (permission, presentation context). */
export class StoreRefusedError extends PeerpacsError {
  static readonly code = 'STORE_REFUSED'
  readonly status: number
  constructor (status: number, message: string) { super(StoreRefusedError.code, message); this.status = status }
}

/**
 * Refuses a dataset whose own SOP Class or Instance UID differs from the command's. Run by the
 * ingest on its one inspection of the stream, once the header is read and before the instance
 * is claimed, so a mismatched dataset stores nothing.
 */
export function checkAgainstCommand (header: InstanceHeader, fields: FileMetaFields): void {
  if (header.sopClassUid !== fields.sopClassUid) {
    throw new DatasetMismatchError('the dataset\'s SOP Class UID (0008,0016) differs from the command\'s Affected SOP Class UID')
  }
  if (header.sopInstanceUid !== fields.sopInstanceUid) {
    throw new DatasetMismatchError('the dataset\'s SOP Instance UID (0008,0018) differs from the command\'s Affected SOP Instance UID')
  }
}

export interface StoreOutcome {
  readonly status: number
  readonly comment?: string
  readonly result?: IngestResult
  /** For logs: an error code, never a message that could carry PHI. */
  readonly code?: string
}

const RESOURCE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'ENOMEM'])

function errnoOf (error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code
    if (typeof code === 'string' && RESOURCE_ERRNOS.has(code)) return code
  }
  return undefined
}

/** Ingest messages name what was wrong and where (offsets, tags): fit for an Error Comment (64 chars max). */
function comment (text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?')
  return ascii.length <= 64 ? ascii : ascii.slice(0, 61) + '...'
}

export function outcomeOfError (error: unknown): StoreOutcome {
  if (error instanceof StoreRefusedError) return { status: error.status, comment: comment(error.message), code: error.code }
  if (error instanceof DatasetMismatchError) return { status: dimseStatusOf(error), comment: comment(error.message), code: error.code }
  const errno = errnoOf(error)
  if (errno !== undefined) return { status: STATUS.outOfResources, comment: comment(`storage failed (${errno}); nothing was stored`), code: errno }
  if (error instanceof PeerpacsError) {
    // The status is the table's (error-statuses.ts); the comment says as much as is safe for it.
    const status = dimseStatusOf(error)
    if (status === STATUS.duplicateInstance) {
      return { status, comment: 'SOP Instance UID already stored with different content', code: error.code }
    }
    if (status === STATUS.cannotUnderstand) {
      // Ingest messages may quote a UID that failed validation; keep them out of the comment then.
      const safe = /\d+\.\d+\.\d+/.test(error.message) ? 'the dataset is malformed' : error.message
      return { status, comment: comment(safe), code: error.code }
    }
    if (status === STATUS.doesNotMatch) return { status, comment: comment(error.message), code: error.code }
    return { status, comment: comment(`not stored: ${error.code}`), code: error.code }
  }
  return { status: STATUS.processingFailure, comment: 'not stored: internal error', code: 'INTERNAL' }
}

export async function storeDataset (pacs: Pacs, dataset: AsyncIterable<Uint8Array>, fields: FileMetaFields): Promise<StoreOutcome> {
  try {
    const result = await pacs.ingestDataset(dataset, fields, (header) => { checkAgainstCommand(header, fields) })
    return { status: STATUS.success, result }
  } catch (error) {
    return outcomeOfError(error)
  }
}
