/**
 * The one mapping from error codes to DIMSE statuses (statuses.ts says why each status means
 * what it does). Complete by type: a new error code does not compile until it has a row here.
 * STOW-RS takes its FailureReason from the same table: PS3.18 reuses the PS3.4 status values.
 * Failures that are not error codes are decided where they happen: an errno on the way to disk
 * (Out of Resources, store.ts), a refusal before the dataset is read (StoreRefusedError carries
 * the status its site chose), a query level that does not fit the model (find.ts).
 */
import type { ErrorCode } from '../../protocol/errors.ts'
import { STATUS } from './statuses.ts'

const FAILED = STATUS.processingFailure
const MALFORMED = STATUS.cannotUnderstand

export type DimseFailureStatus = typeof STATUS[Exclude<keyof typeof STATUS, 'success' | 'pending' | 'cancel'>]

export const DIMSE_STATUS_BY_CODE: Record<ErrorCode, DimseFailureStatus> = {
  // The input is not what it claims to be: the peer's to fix.
  NOT_DICOM: MALFORMED,
  NOT_AN_INSTANCE: MALFORMED,
  INVALID_DICOM: MALFORMED,
  MULTIPART: MALFORMED,
  QUERY_KEY: MALFORMED,
  // The dataset disagrees with its command (C-STORE) or with the study in the URL (STOW-RS).
  DATASET_MISMATCH: STATUS.doesNotMatch,
  STUDY_MISMATCH: STATUS.doesNotMatch,
  // Another instance with this SOP Instance UID is stored; the stored one is kept.
  INSTANCE_CONFLICT: STATUS.duplicateInstance,
  // Carries its own status (association.ts picks it); this row is never read.
  STORE_REFUSED: FAILED,
  // Everything else is this node's failure: Processing Failure, with the code in the comment.
  INTERNAL: FAILED,
  INVALID_ARGUMENT: FAILED,
  DECODE_FAILED: FAILED,
  NOT_CANONICAL: FAILED,
  AUTH_FAILED: FAILED,
  BAD_SIGNATURE: FAILED,
  INTEGRITY: FAILED,
  OP_REJECTED: FAILED,
  INVITE_DAMAGED: FAILED,
  INVITE_EXPIRED: FAILED,
  INVITE_INVALID: FAILED,
  CASE_UPDATE_REJECTED: FAILED,
  LOG_SYNC_PROTOCOL: FAILED,
  ENROLL_PROTOCOL: FAILED,
  USAGE: FAILED,
  CONFIG: FAILED,
  TOKEN: FAILED,
  LISTEN: FAILED,
  NOT_FOUND: FAILED,
  NODE_UNREACHABLE: FAILED,
  NODE_NOT_RUNNING: FAILED,
  NOT_INITIALISED: FAILED,
  ALREADY_INITIALISED: FAILED,
  DATA_DIR_NOT_EMPTY: FAILED,
  DATA_DIR_BUSY: FAILED,
  DATA_DIR_FORMAT: FAILED,
  STORE_LOCKED: FAILED,
  STORE_MISSING: FAILED,
  BLOB_MISSING: FAILED,
  BLOCK_MISMATCH: FAILED,
  PASSPHRASE_REQUIRED: FAILED,
  WRONG_PASSPHRASE: FAILED,
  PASSPHRASE_FILE: FAILED,
  KEY_FILE: FAILED,
  KEYS_NOT_LOADED: FAILED,
  KEYLESS_NODE: FAILED,
  STUDY_NOT_FOUND: FAILED,
  INDEX_DAMAGED: FAILED,
  EXPORT_TARGET: FAILED,
  SOURCE_READ: FAILED,
  PIXEL_DATA_UNSUPPORTED: FAILED,
  PIXEL_DATA_CORRUPT: FAILED,
  DECODER_BUSY: FAILED,
  BAD_REQUEST: FAILED,
  NOT_ACCEPTABLE: FAILED,
  UNSUPPORTED_MEDIA_TYPE: FAILED,
  TOO_LARGE: FAILED,
  UNREADABLE: FAILED,
  LOG_DAMAGED: FAILED,
  LOG_HELD: FAILED,
  LOG_WRITE: FAILED,
  LOG_NOT_MEMBER: FAILED,
  LOG_MARK: FAILED,
  AUDIT_WRITE: FAILED,
  MEMBER_CHANGE_REFUSED: FAILED,
  INVITE_UNKNOWN: FAILED,
  INVITE_USED: FAILED,
  INVITE_OPTIONS: FAILED,
  INVITER_UNREACHABLE: FAILED,
  INVITE_REFUSED: FAILED,
  ENROLL_REFUSED: FAILED,
  ENROLL_WRONG_ORG: FAILED,
  JOIN_WRITE: FAILED,
  ENROLL_NOT_INVITE: FAILED,
  ENROLL_BAD_SIGNATURE: FAILED,
  ENROLL_INVITE_KEY: FAILED,
  MESH_FRAME: FAILED,
  BLOCKS_PROTOCOL: FAILED,
  BLOCKS_STREAM: FAILED,
  RECOVERY_KEY_OUT: FAILED,
  RECOVERY_KEY_REFUSED: FAILED,
  RECOVERY_KEY_FILE: FAILED,
  BACKUP_UNREACHABLE: FAILED,
  RESTORE_ADDRESS: FAILED,
  RESTORE_REPLACE: FAILED,
  RESTORE_DONE: FAILED,
  RESTORE_SYNC: FAILED,
  RESTORE_REFUSED: FAILED,
  RESTORE_GENESIS: FAILED,
  PASSWORD_POLICY: FAILED,
  PASSWORD_HASH: FAILED,
  TOTP_CODE: FAILED,
  PASSKEY: FAILED,
  ACCOUNT_CHANGE: FAILED,
  USER_NOT_FOUND: FAILED,
  SIGN_IN_REFUSED: FAILED,
  SIGN_IN_THROTTLED: FAILED,
  NOT_SIGNED_IN: FAILED,
  // A remote AE whose role does not allow the service (the DIMSE edge refuses it at association).
  FORBIDDEN: FAILED,
  CSRF: FAILED
}

/** The status for any thrown value: its code's row, or Processing Failure for what is not ours. */
export function dimseStatusOf (error: unknown): DimseFailureStatus {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && Object.hasOwn(DIMSE_STATUS_BY_CODE, code) ? DIMSE_STATUS_BY_CODE[code as ErrorCode] : FAILED
}
