/**
 * The errors of people's sign-in: every people error class lives here, so the codes a person
 * (or a client acting for one) can meet are in one file. Their codes are listed in
 * node/errors.ts and mapped there once per surface (CLI exit code, DIMSE status, HTTP answer).
 * No message ever carries a password, a code or a secret: they name the rule that failed.
 */
import { PeerpacsError } from '../../protocol/errors.ts'

/** A new password that a policy rule refuses (too short, too common, contains the username...). */
export class PasswordPolicyError extends PeerpacsError {
  static readonly code = 'PASSWORD_POLICY'
  /** Which rule refused it: stable, for clients that show their own text. */
  readonly rule: PasswordPolicyRule
  constructor (rule: PasswordPolicyRule, message: string, hint: string) {
    super(PasswordPolicyError.code, message, { hint })
    this.rule = rule
  }
}

export type PasswordPolicyRule = 'too-short' | 'too-long' | 'common' | 'contains-username' | 'contains-name' | 'repeated' | 'not-text'

/** A stored password hash that is malformed or whose parameters are out of bounds (a damaged or hostile record). */
export class PasswordHashError extends PeerpacsError {
  static readonly code = 'PASSWORD_HASH'
  constructor (message: string) {
    super(PasswordHashError.code, message, { hint: 'the user record is damaged or was not written by peerpacs; an admin can set a new password with `peerpacs users passwd`' })
  }
}

/** A one-time code (TOTP or recovery code) that is not of the expected shape: wrong length or characters. */
export class TotpCodeError extends PeerpacsError {
  static readonly code = 'TOTP_CODE'
  constructor (message: string, hint: string) { super(TotpCodeError.code, message, { hint }) }
}

/** A WebAuthn ceremony refused: a passkey registration or sign-in answer that does not verify, or input it cannot use. */
export class PasskeyError extends PeerpacsError {
  static readonly code = 'PASSKEY'
  /** What was wrong: stable, for routes, audit outcomes and clients that show their own text. */
  readonly reason: PasskeyRefusal
  constructor (reason: PasskeyRefusal, message: string, hint: string) {
    super(PasskeyError.code, message, { hint })
    this.reason = reason
  }
}

export type PasskeyRefusal =
  | 'malformed' | 'name' | 'no-challenge' | 'challenge-expired' | 'challenge' | 'origin' | 'rp-id'
  | 'unknown-credential' | 'duplicate' | 'counter' | 'signature' | 'no-passkeys' | 'too-many' | 'rejected'
