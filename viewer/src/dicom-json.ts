/**
 * Reading DICOM JSON (PS3.18 F.2), as QIDO-RS and WADO-RS metadata answer it: the first value of
 * an attribute as text or a number, person names for display, DA dates as ISO dates.
 */
export interface DicomAttribute {
  readonly vr?: string
  readonly Value?: ReadonlyArray<unknown>
  readonly BulkDataURI?: string
  readonly InlineBinary?: string
}
export type DicomJson = Readonly<Record<string, DicomAttribute | undefined>>

export const TAG = {
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  SOPInstanceUID: '00080018',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  PixelData: '7FE00010',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209'
} as const

export function values (ds: DicomJson, tag: string): ReadonlyArray<unknown> {
  return ds[tag]?.Value ?? []
}

export function text (ds: DicomJson, tag: string): string {
  const value = values(ds, tag)[0]
  if (value === undefined || value === null) return ''
  if (typeof value === 'object' && 'Alphabetic' in value) return String((value as { Alphabetic?: unknown }).Alphabetic ?? '')
  return String(value)
}

export function allText (ds: DicomJson, tag: string): string[] {
  return values(ds, tag).filter((v) => v !== null && v !== undefined).map(String)
}

export function num (ds: DicomJson, tag: string): number | undefined {
  const value = values(ds, tag)[0]
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN
  return Number.isFinite(n) ? n : undefined
}

export function numbers (ds: DicomJson, tag: string): number[] {
  return values(ds, tag).map((v) => typeof v === 'number' ? v : Number(v)).filter(Number.isFinite)
}

/** "DOE^JANE^Q" → "DOE, JANE Q" (family name first, as worklists show it). */
export function personName (ds: DicomJson, tag: string): string {
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = text(ds, tag).split('=')[0]!.split('^')
  const rest = [prefix, given, middle, suffix].filter((p) => p !== '').join(' ')
  return family === '' ? rest : rest === '' ? family : `${family}, ${rest}`
}

/** "20240131" → "2024-01-31"; anything else as it is. */
export function isoDate (da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : da
}

/** "2024-01-31" (an <input type=date> value) → "20240131". */
export function dicomDate (iso: string): string {
  return iso.replaceAll('-', '')
}
