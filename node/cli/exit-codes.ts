/** Exit codes, and the one mapping from error codes to them (complete: a new code needs a row). */
import type { ErrorCode } from '../../protocol/errors.ts'

export const EXIT = {
  OK: 0,
  /** The command ran, but something was wrong: fsck found problems, files were rejected, instances failed to export. */
  PROBLEMS: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The data dir is missing, already initialised, busy, or of another format. */
  DATA_DIR: 3,
  /** Keys: passphrase missing or wrong, key files damaged. */
  KEYS: 4,
  /** The study (or other object) named does not exist. */
  NOT_FOUND: 5,
  /** A bug or an unexpected failure (disk full, I/O error): see the message. */
  INTERNAL: 70
} as const

const I = EXIT.INTERNAL

export const EXIT_BY_CODE: Record<ErrorCode, number> = {
  INTERNAL: I,
  USAGE: EXIT.USAGE,
  EXPORT_TARGET: EXIT.USAGE,
  NOT_INITIALISED: EXIT.DATA_DIR,
  ALREADY_INITIALISED: EXIT.DATA_DIR,
  DATA_DIR_NOT_EMPTY: EXIT.DATA_DIR,
  DATA_DIR_BUSY: EXIT.DATA_DIR,
  DATA_DIR_FORMAT: EXIT.DATA_DIR,
  PASSPHRASE_REQUIRED: EXIT.KEYS,
  WRONG_PASSPHRASE: EXIT.KEYS,
  PASSPHRASE_FILE: EXIT.KEYS,
  KEY_FILE: EXIT.KEYS,
  KEYS_NOT_LOADED: EXIT.KEYS,
  // A backup asked for something that needs keys it never holds.
  KEYLESS_NODE: EXIT.KEYS,
  // Restore: a recovery key that is not the org's, or a file that holds none.
  RECOVERY_KEY_REFUSED: EXIT.KEYS,
  RECOVERY_KEY_FILE: EXIT.KEYS,
  RESTORE_ADDRESS: EXIT.USAGE,
  RESTORE_REPLACE: EXIT.USAGE,
  RESTORE_DONE: EXIT.DATA_DIR,
  BACKUP_UNREACHABLE: EXIT.PROBLEMS,
  RESTORE_SYNC: EXIT.PROBLEMS,
  RESTORE_REFUSED: EXIT.PROBLEMS,
  RESTORE_GENESIS: EXIT.PROBLEMS,
  RECOVERY_KEY_OUT: EXIT.USAGE,
  // A membership change the log's rules refuse: nothing was written.
  MEMBER_CHANGE_REFUSED: EXIT.USAGE,
  // Invite codes: damaged, expired, for another version, or options an invite cannot take.
  INVITE_DAMAGED: EXIT.USAGE,
  INVITE_EXPIRED: EXIT.USAGE,
  INVITE_INVALID: EXIT.USAGE,
  INVITE_OPTIONS: EXIT.USAGE,
  // Enrolling: the inviter refused the invite or the request, or is another org's node; nothing was set up.
  INVITE_REFUSED: EXIT.PROBLEMS,
  ENROLL_REFUSED: EXIT.PROBLEMS,
  ENROLL_WRONG_ORG: EXIT.PROBLEMS,
  INVITER_UNREACHABLE: EXIT.PROBLEMS,
  // A command that needs `peerpacs start` running on the data dir.
  NODE_NOT_RUNNING: EXIT.DATA_DIR,
  // Bad settings (config file, flags, environment) and token requests are the caller's to fix.
  CONFIG: EXIT.USAGE,
  TOKEN: EXIT.USAGE,
  // A password the policy refuses, a one-time code of the wrong shape: the person's to fix.
  PASSWORD_POLICY: EXIT.USAGE,
  TOTP_CODE: EXIT.USAGE,
  PASSKEY: EXIT.USAGE,
  ACCOUNT_CHANGE: EXIT.USAGE,
  USER_NOT_FOUND: EXIT.NOT_FOUND,
  SIGN_IN_REFUSED: EXIT.USAGE,
  SIGN_IN_THROTTLED: EXIT.USAGE,
  NOT_SIGNED_IN: EXIT.USAGE,
  FORBIDDEN: EXIT.USAGE,
  CSRF: EXIT.USAGE,
  LISTEN: EXIT.USAGE,
  NOT_FOUND: EXIT.NOT_FOUND,
  // A node runs on the data dir but cannot be reached: nothing was done.
  NODE_UNREACHABLE: EXIT.DATA_DIR,
  STUDY_NOT_FOUND: EXIT.NOT_FOUND,
  // Damage found while reading: the command could not finish for that data.
  INDEX_DAMAGED: EXIT.PROBLEMS,
  // The signed log does not load (an op fails verification, ops are missing): `peerpacs log verify` says which.
  LOG_DAMAGED: EXIT.PROBLEMS,
  INTEGRITY: EXIT.PROBLEMS,
  AUTH_FAILED: EXIT.PROBLEMS,
  // A stored password hash that is malformed or out of bounds: a damaged or hostile user record.
  PASSWORD_HASH: EXIT.PROBLEMS,
  // Failures inside a command that leave it unfinished: a bug or damage the message names.
  INVALID_ARGUMENT: I,
  DECODE_FAILED: I,
  NOT_CANONICAL: I,
  BAD_SIGNATURE: I,
  OP_REJECTED: I,
  CASE_UPDATE_REJECTED: I,
  LOG_SYNC_PROTOCOL: I,
  ENROLL_PROTOCOL: I,
  STORE_LOCKED: I,
  STORE_MISSING: I,
  BLOB_MISSING: I,
  BLOCK_MISMATCH: I,
  INSTANCE_CONFLICT: I,
  SOURCE_READ: I,
  NOT_DICOM: I,
  NOT_AN_INSTANCE: I,
  INVALID_DICOM: I,
  QUERY_KEY: I,
  PIXEL_DATA_UNSUPPORTED: I,
  PIXEL_DATA_CORRUPT: I,
  DECODER_BUSY: I,
  DATASET_MISMATCH: I,
  STORE_REFUSED: I,
  LOG_HELD: I,
  LOG_WRITE: I,
  LOG_NOT_MEMBER: I,
  LOG_MARK: I,
  AUDIT_WRITE: I,
  INVITE_UNKNOWN: I,
  INVITE_USED: I,
  JOIN_WRITE: I,
  MESH_FRAME: I,
  BLOCKS_PROTOCOL: I,
  BLOCKS_STREAM: I,
  // Raised by peers or HTTP handlers; never the outcome of a command here.
  ENROLL_NOT_INVITE: I,
  ENROLL_BAD_SIGNATURE: I,
  ENROLL_INVITE_KEY: I,
  BAD_REQUEST: I,
  NOT_ACCEPTABLE: I,
  UNSUPPORTED_MEDIA_TYPE: I,
  TOO_LARGE: I,
  UNREADABLE: I,
  MULTIPART: I,
  STUDY_MISMATCH: I
}

export function exitCodeFor (code: string | undefined): number {
  return (code !== undefined && Object.hasOwn(EXIT_BY_CODE, code) ? EXIT_BY_CODE[code as ErrorCode] : undefined) ?? EXIT.INTERNAL
}

export const EXIT_CODES_HELP = `Exit codes:
  0   success
  1   completed, but something was wrong (problems found, files rejected, instances not exported)
  2   usage error (including a bad config file or setting)
  3   data dir missing, already initialised, in use, or of an unknown format
  4   keys: passphrase required or wrong, key files damaged
  5   not found
  70  internal error`
