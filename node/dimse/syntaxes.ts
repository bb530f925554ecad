/**
 * The SOP classes and transfer syntaxes the DIMSE edge negotiates. peerpacs never transcodes:
 * a dataset is stored and sent in the transfer syntax it arrived in, so every syntax it can
 * structurally check (node/dicom/transfer-syntax.ts) is accepted as the sender proposes it.
 */

export const VERIFICATION = '1.2.840.10008.1.1'

export const FIND = { patientRoot: '1.2.840.10008.5.1.4.1.2.1.1', studyRoot: '1.2.840.10008.5.1.4.1.2.2.1' } as const
export const MOVE = { patientRoot: '1.2.840.10008.5.1.4.1.2.1.2', studyRoot: '1.2.840.10008.5.1.4.1.2.2.2' } as const
export const GET = { patientRoot: '1.2.840.10008.5.1.4.1.2.1.3', studyRoot: '1.2.840.10008.5.1.4.1.2.2.3' } as const

export type QueryModel = 'patientRoot' | 'studyRoot'

export function modelOf (sopClassUid: string): QueryModel | undefined {
  for (const group of [FIND, MOVE, GET]) {
    if (sopClassUid === group.patientRoot) return 'patientRoot'
    if (sopClassUid === group.studyRoot) return 'studyRoot'
  }
  return undefined
}

/** Storage SOP classes (PS3.4 Annex B.5 and the RT second generation ones under 5.1.4.34). */
export function isStorageClass (uid: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.') || uid.startsWith('1.2.840.10008.5.1.4.34.')
}

export const IMPLICIT_LE = '1.2.840.10008.1.2'
export const EXPLICIT_LE = '1.2.840.10008.1.2.1'
export const EXPLICIT_BE = '1.2.840.10008.1.2.2'

/** Command sets travel in implicit VR little endian; non-storage contexts need nothing else. */
export const UNCOMPRESSED = new Set([IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE])

export const STORAGE_SYNTAXES = new Set([
  IMPLICIT_LE, EXPLICIT_LE, '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203',
  '1.2.840.10008.1.2.5'
])
