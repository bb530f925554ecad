/** Transfer syntaxes: how a dataset's bytes are laid out, as far as walking its structure goes. */

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2'
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99'
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2'

export interface DatasetEncoding {
  readonly explicitVr: boolean
  readonly littleEndian: boolean
}

export const IMPLICIT_LE: DatasetEncoding = { explicitVr: false, littleEndian: true }
export const EXPLICIT_LE: DatasetEncoding = { explicitVr: true, littleEndian: true }
export const EXPLICIT_BE: DatasetEncoding = { explicitVr: true, littleEndian: false }

/** Every syntax other than these three (and deflate, handled apart) is explicit VR little endian with encapsulated pixel data. */
export function encodingOf (transferSyntaxUid: string): DatasetEncoding {
  if (transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN) return IMPLICIT_LE
  if (transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN) return EXPLICIT_BE
  return EXPLICIT_LE
}

export function isDeflated (transferSyntaxUid: string): boolean {
  return transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
}
