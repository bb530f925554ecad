/**
 * Every error code node/ raises, and the one place they join protocol's: `ErrorCode` (from
 * protocol/errors.ts) is protocol's codes plus these, by augmenting `ErrorCodeRegistry`. A class
 * whose code is not listed here does not compile; a code listed here without a row in each
 * surface's table does not compile either. The tables, one per surface:
 *
 *   CLI exit code        node/cli/exit-codes.ts        EXIT_BY_CODE
 *   DIMSE status         node/dimse/error-statuses.ts  DIMSE_STATUS_BY_CODE (also the STOW-RS
 *                        FailureReason, which PS3.18 takes from the PS3.4 statuses)
 *   HTTP status          node/dicomweb/http-errors.ts  HTTP_BY_CODE (every DICOMweb route, the
 *                        daemon's onError, and any JSON API)
 *   wire                 the code's own text: an enroll refusal sends it as is (protocol/wire/
 *                        enroll.ts); the blocks protocol's three answers are its own vocabulary
 *                        (protocol/wire/blocks.ts), not error codes.
 */
import { PROTOCOL_ERROR_CODES, type ErrorCode } from '../protocol/errors.ts'

export const NODE_ERROR_CODES = [
  // anything unexpected: a bug, an error that is not a PeerpacsError
  'INTERNAL',
  // command line, settings, tokens, the running node
  'USAGE', 'CONFIG', 'TOKEN', 'LISTEN', 'NOT_FOUND', 'NODE_UNREACHABLE', 'NODE_NOT_RUNNING',
  // data dir and stores
  'NOT_INITIALISED', 'ALREADY_INITIALISED', 'DATA_DIR_NOT_EMPTY', 'DATA_DIR_BUSY', 'DATA_DIR_FORMAT',
  'STORE_LOCKED', 'STORE_MISSING', 'BLOB_MISSING', 'BLOCK_MISMATCH',
  // keys
  'PASSPHRASE_REQUIRED', 'WRONG_PASSPHRASE', 'PASSPHRASE_FILE', 'KEY_FILE', 'KEYS_NOT_LOADED', 'KEYLESS_NODE',
  // archive: import, export, index
  'STUDY_NOT_FOUND', 'INSTANCE_CONFLICT', 'INDEX_DAMAGED', 'EXPORT_TARGET', 'SOURCE_READ',
  // DICOM input and pixel data
  'NOT_DICOM', 'NOT_AN_INSTANCE', 'INVALID_DICOM', 'QUERY_KEY',
  'PIXEL_DATA_UNSUPPORTED', 'PIXEL_DATA_CORRUPT', 'DECODER_BUSY',
  // DIMSE C-STORE
  'DATASET_MISMATCH', 'STORE_REFUSED',
  // HTTP requests (DICOMweb): what the client asked for is malformed or cannot be served
  'BAD_REQUEST', 'NOT_ACCEPTABLE', 'UNSUPPORTED_MEDIA_TYPE', 'TOO_LARGE', 'UNREADABLE', 'MULTIPART', 'STUDY_MISMATCH',
  // the op log and the audit trail
  'LOG_DAMAGED', 'LOG_HELD', 'LOG_WRITE', 'LOG_NOT_MEMBER', 'LOG_MARK', 'AUDIT_WRITE',
  // members, invites, enrollment
  'MEMBER_CHANGE_REFUSED', 'INVITE_UNKNOWN', 'INVITE_USED', 'INVITE_OPTIONS',
  'INVITER_UNREACHABLE', 'INVITE_REFUSED', 'ENROLL_REFUSED', 'ENROLL_WRONG_ORG', 'JOIN_WRITE',
  'ENROLL_NOT_INVITE', 'ENROLL_BAD_SIGNATURE', 'ENROLL_INVITE_KEY',
  // mesh wire
  'MESH_FRAME', 'BLOCKS_STREAM',
  // recovery key and restore
  'RECOVERY_KEY_OUT', 'RECOVERY_KEY_REFUSED', 'RECOVERY_KEY_FILE', 'BACKUP_UNREACHABLE',
  'RESTORE_ADDRESS', 'RESTORE_REPLACE', 'RESTORE_DONE', 'RESTORE_SYNC', 'RESTORE_REFUSED', 'RESTORE_GENESIS',
  // people: passwords and second factors (node/people/errors.ts)
  'PASSWORD_POLICY', 'PASSWORD_HASH', 'TOTP_CODE', 'PASSKEY',
  // people: accounts, sign-in, sessions and what a role may do (node/people/)
  'ACCOUNT_CHANGE', 'USER_NOT_FOUND', 'SIGN_IN_REFUSED', 'SIGN_IN_THROTTLED', 'NOT_SIGNED_IN', 'FORBIDDEN', 'CSRF'
] as const

export type NodeErrorCode = typeof NODE_ERROR_CODES[number]

declare module '../protocol/errors.ts' {
  interface ErrorCodeRegistry extends Record<NodeErrorCode, true> {}
}

/** Every code of the program, protocol's first. */
export const ERROR_CODES: readonly ErrorCode[] = [...PROTOCOL_ERROR_CODES, ...NODE_ERROR_CODES]

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES)

/** A code that arrived as text (a log, a worker's reply, a peer's answer) and is one of ours. */
export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN.has(code)
}

/** The code of any thrown value: its own if it is one of ours, else INTERNAL. */
export function errorCodeOf (error: unknown): ErrorCode {
  const code = (error as { code?: unknown } | null)?.code
  return isErrorCode(code) ? code : 'INTERNAL'
}
