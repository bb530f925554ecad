/**
 * Typed errors. Every error the project raises carries a stable `code` from a closed list;
 * node/ maps each code once per surface (node/errors.ts lists the tables: CLI exit code, DIMSE
 * status, HTTP status). Messages say what was expected and what arrived; `hint` says what to do.
 *
 * The list is open to a host without protocol/ knowing it: `ErrorCode` is the keys of
 * `ErrorCodeRegistry`, which holds protocol's own codes, and a host adds its codes by augmenting
 * the interface (node/errors.ts does, with `declare module`). So an error built with a code
 * that is not listed fails to compile anywhere, and a table typed `Record<ErrorCode, X>` fails
 * to compile when a code is added without a row.
 */

/** The codes raised in protocol/ (a host's codes are added to ErrorCodeRegistry, see above). */
export const PROTOCOL_ERROR_CODES = [
  'INVALID_ARGUMENT', 'DECODE_FAILED', 'NOT_CANONICAL', 'AUTH_FAILED', 'BAD_SIGNATURE', 'INTEGRITY',
  'OP_REJECTED', 'INVITE_DAMAGED', 'INVITE_EXPIRED', 'INVITE_INVALID', 'CASE_UPDATE_REJECTED',
  'LOG_SYNC_PROTOCOL', 'ENROLL_PROTOCOL', 'BLOCKS_PROTOCOL'
] as const

export type ProtocolErrorCode = typeof PROTOCOL_ERROR_CODES[number]

/** One key per error code of the program; augmented by the host with its own codes. */
export interface ErrorCodeRegistry extends Record<ProtocolErrorCode, true> {}

export type ErrorCode = keyof ErrorCodeRegistry

export interface ErrorOptions {
  hint?: string
  cause?: unknown
}

export class PeerpacsError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined

  constructor (code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.hint = options.hint
  }
}

/** A function was given a value of the wrong type, length or range. */
export class InvalidArgumentError extends PeerpacsError {
  static readonly code = 'INVALID_ARGUMENT'
  constructor (message: string, options?: ErrorOptions) { super(InvalidArgumentError.code, message, options) }
}

/** Bytes that do not parse as the format they claim to be. */
export class DecodeError extends PeerpacsError {
  static readonly code = 'DECODE_FAILED'
  constructor (message: string, options?: ErrorOptions) { super(DecodeError.code, message, options) }
}

/** Well-formed bytes that are not in the one canonical encoding of their value. */
export class NotCanonicalError extends PeerpacsError {
  static readonly code = 'NOT_CANONICAL'
  constructor (message: string, options?: ErrorOptions) { super(NotCanonicalError.code, message, options) }
}

/** An AEAD tag did not verify: wrong key, or the ciphertext was damaged, truncated, reordered or spliced. */
export class AuthenticationError extends PeerpacsError {
  static readonly code = 'AUTH_FAILED'
  constructor (message: string, options?: ErrorOptions) { super(AuthenticationError.code, message, options) }
}

/** A signature did not verify, or was made for another purpose. */
export class SignatureError extends PeerpacsError {
  static readonly code = 'BAD_SIGNATURE'
  constructor (message: string, options?: ErrorOptions) { super(SignatureError.code, message, options) }
}

/** Bytes whose hash is not the one the signed record says they must have. */
export class IntegrityError extends PeerpacsError {
  static readonly code = 'INTEGRITY'
  constructor (message: string, options?: ErrorOptions) { super(IntegrityError.code, message, options) }
}
