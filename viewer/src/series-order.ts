/**
 * The order a series' images are read in: along the slice normal (from Image Orientation and
 * Position (Patient)) where every image has its geometry, else by Instance Number.
 */
import { type DicomJson, num, numbers, TAG } from './dicom-json.ts'

/** The images of a series in reading order: along the slice normal where geometry allows, else by Instance Number. */
export function readingOrder (instances: readonly DicomJson[]): DicomJson[] {
  const orientation = numbers(instances[0] ?? {}, TAG.ImageOrientationPatient)
  const positioned = orientation.length === 6 && instances.every((i) => numbers(i, TAG.ImagePositionPatient).length === 3)
  if (positioned) {
    const [a, b, c, d, e, f] = orientation as [number, number, number, number, number, number]
    const normal = [b * f - c * e, c * d - a * f, a * e - b * d] as const
    const along = (i: DicomJson): number => { const p = numbers(i, TAG.ImagePositionPatient); return p[0]! * normal[0] + p[1]! * normal[1] + p[2]! * normal[2] }
    return [...instances].sort((x, y) => along(x) - along(y) || (num(x, TAG.InstanceNumber) ?? 0) - (num(y, TAG.InstanceNumber) ?? 0))
  }
  return [...instances].sort((x, y) => (num(x, TAG.InstanceNumber) ?? 0) - (num(y, TAG.InstanceNumber) ?? 0))
}
