/**
 * The one mapping from error codes to HTTP answers, for every route (DICOMweb today, the JSON
 * API next) and the daemon's onError. Complete by type: a new error code does not compile until
 * it has a row here. A handler refuses a request by throwing (RequestError for what only HTTP
 * has words for: a bad parameter, an Accept header nothing satisfies; any PeerpacsError
 * otherwise), and the router answers with the row's status and a JSON body
 * `{ error: <row's name>, message }`. The message is the error's own (it says what was wrong
 * with the request), except on rows that carry `says`: there the error's text may name
 * internals, and the client reads `says` instead while the log keeps the code.
 */
import { PeerpacsError, type ErrorCode } from '../../protocol/errors.ts'

export type ErrorStatus = 400 | 401 | 403 | 404 | 406 | 409 | 413 | 415 | 429 | 500 | 503

export interface HttpAnswer {
  readonly status: ErrorStatus
  /** The body's `error` field: a stable name for clients. */
  readonly error: string
  /** The message the client gets instead of the error's own (which may name internals). */
  readonly says?: string
}

const BAD_REQUEST: HttpAnswer = { status: 400, error: 'bad-request' }
const NOT_ACCEPTABLE: HttpAnswer = { status: 406, error: 'not-acceptable' }
const UNREADABLE: HttpAnswer = { status: 500, error: 'unreadable' }
const INTERNAL: HttpAnswer = { status: 500, error: 'internal', says: 'the node failed to answer this request; see its log' }
const DAMAGED: HttpAnswer = { status: 500, error: 'internal', says: 'a stored instance failed verification; the node operator should run `peerpacs fsck`' }

export const HTTP_BY_CODE: Record<ErrorCode, HttpAnswer> = {
  // The request is malformed: the client's to fix.
  BAD_REQUEST,
  QUERY_KEY: BAD_REQUEST,
  NOT_FOUND: { status: 404, error: 'not-found' },
  // Nothing the Accept header allows can be sent for this resource.
  NOT_ACCEPTABLE,
  PIXEL_DATA_UNSUPPORTED: NOT_ACCEPTABLE,
  UNSUPPORTED_MEDIA_TYPE: { status: 415, error: 'unsupported-media-type' },
  TOO_LARGE: { status: 413, error: 'too-large' },
  // The stored bytes do not read as what the resource needs; the instance can still be retrieved whole.
  UNREADABLE,
  PIXEL_DATA_CORRUPT: UNREADABLE,
  DECODER_BUSY: { status: 503, error: 'busy' },
  // A new password the policy refuses (the message names the rule, never the password); a one-time code of the wrong shape.
  PASSWORD_POLICY: { status: 400, error: 'password-policy' },
  TOTP_CODE: BAD_REQUEST,
  // A passkey answer that does not verify (the error's reason says which check refused it).
  PASSKEY: { status: 400, error: 'passkey-refused' },
  // Accounts and sign-in: a change that cannot be made as asked; wrong credentials (never saying
  // which part was wrong, or whether the account exists); too many attempts; no session; a role
  // or a missing CSRF token that does not allow the request.
  ACCOUNT_CHANGE: { status: 400, error: 'account-change-refused' },
  USER_NOT_FOUND: { status: 404, error: 'not-found' },
  SIGN_IN_REFUSED: { status: 401, error: 'sign-in-refused' },
  SIGN_IN_THROTTLED: { status: 429, error: 'too-many-attempts' },
  NOT_SIGNED_IN: { status: 401, error: 'not-signed-in' },
  FORBIDDEN: { status: 403, error: 'forbidden' },
  CSRF: { status: 403, error: 'csrf' },
  // Stored data that failed verification: the operator's to check.
  INTEGRITY: DAMAGED,
  INDEX_DAMAGED: DAMAGED,
  BLOB_MISSING: DAMAGED,
  // Everything else is this node's failure, not the client's.
  INTERNAL,
  INVALID_ARGUMENT: INTERNAL,
  DECODE_FAILED: INTERNAL,
  NOT_CANONICAL: INTERNAL,
  AUTH_FAILED: DAMAGED,
  BAD_SIGNATURE: INTERNAL,
  OP_REJECTED: INTERNAL,
  INVITE_DAMAGED: INTERNAL,
  INVITE_EXPIRED: INTERNAL,
  INVITE_INVALID: INTERNAL,
  CASE_UPDATE_REJECTED: INTERNAL,
  LOG_SYNC_PROTOCOL: INTERNAL,
  ENROLL_PROTOCOL: INTERNAL,
  USAGE: INTERNAL,
  CONFIG: INTERNAL,
  TOKEN: INTERNAL,
  LISTEN: INTERNAL,
  NODE_UNREACHABLE: INTERNAL,
  NODE_NOT_RUNNING: INTERNAL,
  NOT_INITIALISED: INTERNAL,
  ALREADY_INITIALISED: INTERNAL,
  DATA_DIR_NOT_EMPTY: INTERNAL,
  DATA_DIR_BUSY: INTERNAL,
  DATA_DIR_FORMAT: INTERNAL,
  STORE_LOCKED: INTERNAL,
  STORE_MISSING: INTERNAL,
  BLOCK_MISMATCH: INTERNAL,
  PASSPHRASE_REQUIRED: INTERNAL,
  WRONG_PASSPHRASE: INTERNAL,
  PASSPHRASE_FILE: INTERNAL,
  KEY_FILE: INTERNAL,
  KEYS_NOT_LOADED: INTERNAL,
  KEYLESS_NODE: INTERNAL,
  STUDY_NOT_FOUND: INTERNAL,
  INSTANCE_CONFLICT: INTERNAL,
  EXPORT_TARGET: INTERNAL,
  SOURCE_READ: INTERNAL,
  NOT_DICOM: INTERNAL,
  NOT_AN_INSTANCE: INTERNAL,
  INVALID_DICOM: INTERNAL,
  DATASET_MISMATCH: INTERNAL,
  STORE_REFUSED: INTERNAL,
  MULTIPART: INTERNAL,
  STUDY_MISMATCH: INTERNAL,
  LOG_DAMAGED: INTERNAL,
  LOG_HELD: INTERNAL,
  LOG_WRITE: INTERNAL,
  LOG_NOT_MEMBER: INTERNAL,
  LOG_MARK: INTERNAL,
  AUDIT_WRITE: INTERNAL,
  MEMBER_CHANGE_REFUSED: INTERNAL,
  INVITE_UNKNOWN: INTERNAL,
  INVITE_USED: INTERNAL,
  INVITE_OPTIONS: INTERNAL,
  INVITER_UNREACHABLE: INTERNAL,
  INVITE_REFUSED: INTERNAL,
  ENROLL_REFUSED: INTERNAL,
  ENROLL_WRONG_ORG: INTERNAL,
  JOIN_WRITE: INTERNAL,
  ENROLL_NOT_INVITE: INTERNAL,
  ENROLL_BAD_SIGNATURE: INTERNAL,
  ENROLL_INVITE_KEY: INTERNAL,
  MESH_FRAME: INTERNAL,
  BLOCKS_PROTOCOL: INTERNAL,
  BLOCKS_STREAM: INTERNAL,
  RECOVERY_KEY_OUT: INTERNAL,
  RECOVERY_KEY_REFUSED: INTERNAL,
  RECOVERY_KEY_FILE: INTERNAL,
  BACKUP_UNREACHABLE: INTERNAL,
  RESTORE_ADDRESS: INTERNAL,
  RESTORE_REPLACE: INTERNAL,
  RESTORE_DONE: INTERNAL,
  RESTORE_SYNC: INTERNAL,
  RESTORE_REFUSED: INTERNAL,
  RESTORE_GENESIS: INTERNAL,
  PASSWORD_HASH: INTERNAL
}

/** The codes only HTTP has words for; everything else a route throws is already a PeerpacsError. */
export type RequestErrorCode = 'BAD_REQUEST' | 'NOT_FOUND' | 'NOT_ACCEPTABLE' | 'UNSUPPORTED_MEDIA_TYPE' | 'TOO_LARGE' | 'UNREADABLE' | 'SIGN_IN_REFUSED' | 'SIGN_IN_THROTTLED' | 'NOT_SIGNED_IN' | 'FORBIDDEN'

/** A request this node refuses, or a resource it cannot produce; HTTP_BY_CODE gives the status. */
export class RequestError extends PeerpacsError {
  constructor (code: RequestErrorCode, message: string) { super(code, message) }
  /** The HTTP status it is answered with (its row's). */
  get status (): ErrorStatus { return HTTP_BY_CODE[this.code].status }
}

export const badRequest = (message: string): RequestError => new RequestError('BAD_REQUEST', message)
export const notFound = (message: string): RequestError => new RequestError('NOT_FOUND', message)
export const notAcceptable = (message: string): RequestError => new RequestError('NOT_ACCEPTABLE', message)
export const unsupportedMediaType = (message: string): RequestError => new RequestError('UNSUPPORTED_MEDIA_TYPE', message)
export const payloadTooLarge = (message: string): RequestError => new RequestError('TOO_LARGE', message)
export const unreadable = (message: string): RequestError => new RequestError('UNREADABLE', message)

/** The row for any thrown value: its code's, or INTERNAL for what is not a PeerpacsError. */
export function httpAnswerOf (error: unknown): HttpAnswer {
  if (!(error instanceof PeerpacsError) || !Object.hasOwn(HTTP_BY_CODE, error.code)) return INTERNAL
  return HTTP_BY_CODE[error.code]
}

/** The JSON answer to a thrown value, by its row; `headers` are added (e.g. Connection: close). */
export function problemResponse (error: unknown, headers: Record<string, string> = {}): Response {
  const answer = httpAnswerOf(error)
  const message = answer.says ?? (error as Error).message
  return new Response(JSON.stringify({ error: answer.error, message }), {
    status: answer.status,
    headers: { 'Content-Type': 'application/json', ...headers }
  })
}
