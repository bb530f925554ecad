/** Errors about key material. None of their messages ever includes a secret. */
import { PeerpacsError } from '../../protocol/errors.ts'

export class PassphraseRequiredError extends PeerpacsError {
  static readonly code = 'PASSPHRASE_REQUIRED'
  constructor (message: string, hint: string) { super(PassphraseRequiredError.code, message, { hint }) }
}

export class WrongPassphraseError extends PeerpacsError {
  static readonly code = 'WRONG_PASSPHRASE'
  constructor (message: string, hint: string) { super(WrongPassphraseError.code, message, { hint }) }
}

/** A key file that is missing, unreadable or does not belong with the rest of the data dir. */
export class KeyFileError extends PeerpacsError {
  static readonly code = 'KEY_FILE'
  constructor (message: string, hint?: string) { super(KeyFileError.code, message, hint === undefined ? {} : { hint }) }
}
