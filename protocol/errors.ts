/**
 * Typed errors. Every error the project raises carries a stable `code`; node/ maps codes once
 * to CLI exit codes (and later to DIMSE, HTTP and wire statuses). Messages say what was
 * expected and what arrived; `hint` says what to do about it.
 */

export interface ErrorOptions {
  hint?: string
  cause?: unknown
}

export class PeerpacsError extends Error {
  readonly code: string
  readonly hint: string | undefined

  constructor (code: string, message: string, options: ErrorOptions = {}) {
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
