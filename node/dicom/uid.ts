/** DICOM UIDs (PS3.5 §9): digits and dots, at most 64 characters. They also name exported files, so nothing else may pass. */

const UID = /^[0-9]+(\.[0-9]+)*$/

export function isValidUid (value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= 64 && UID.test(value)
}
