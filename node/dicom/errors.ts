/** Errors for DICOM input: the message names what was wrong and where (byte offset, tag). */
import { PeerpacsError, type ErrorOptions } from '../../protocol/errors.ts'

/** The file is not DICOM Part 10 at all (no "DICM" marker): skipped, not rejected. */
export class NotDicomError extends PeerpacsError {
  static readonly code = 'NOT_DICOM'
  constructor (message: string, options?: ErrorOptions) { super(NotDicomError.code, message, options) }
}

/** A valid DICOM file that is not a storable instance (a DICOMDIR): skipped, not rejected. */
export class NotAnInstanceError extends PeerpacsError {
  static readonly code = 'NOT_AN_INSTANCE'
  constructor (message: string, options?: ErrorOptions) { super(NotAnInstanceError.code, message, options) }
}

/** The file claims to be DICOM but its structure or required attributes are broken. */
export class InvalidDicomError extends PeerpacsError {
  static readonly code = 'INVALID_DICOM'
  constructor (message: string, options?: ErrorOptions) { super(InvalidDicomError.code, message, options) }
}

export function tagString (tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0')
  return `(${hex.slice(0, 4)},${hex.slice(4)})`
}
