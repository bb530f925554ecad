/**
 * Synthetic DICOM sets on disk for integration tests, with a map from SOPInstanceUID to the
 * bytes written, so an export can be compared byte for byte.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { KNOWN_PATIENTS, syntheticStudy, type StudyOptions, type SyntheticInstance } from '../synthetic/study.ts'

export interface WrittenInstance extends SyntheticInstance { path: string }

export interface WrittenSet {
  dir: string
  instances: WrittenInstance[]
  bySop: Map<string, WrittenInstance>
  studies: Map<string, WrittenInstance[]>
}

export async function writeStudies (dir: string, studies: StudyOptions[]): Promise<WrittenSet> {
  const instances: WrittenInstance[] = []
  for (const [i, options] of studies.entries()) {
    for (const instance of syntheticStudy({ folder: `study-${i + 1}`, ...options })) {
      const path = join(dir, instance.relativePath)
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, instance.bytes)
      instances.push({ ...instance, path })
    }
  }
  return indexSet(dir, instances)
}

export function indexSet (dir: string, instances: WrittenInstance[]): WrittenSet {
  const bySop = new Map(instances.map((i) => [i.sopInstanceUid, i]))
  const studies = new Map<string, WrittenInstance[]>()
  for (const i of instances) studies.set(i.studyInstanceUid, [...(studies.get(i.studyInstanceUid) ?? []), i])
  return { dir, instances, bySop, studies }
}

/** Two 'mixed' studies of two known patients: every encoding the generator has. */
export function mixedStudies (seed = 11): StudyOptions[] {
  return [
    { seed, patient: KNOWN_PATIENTS[0]!, profile: 'mixed', studyDescription: 'INTEGRATION MIXED A', accessionNumber: `ACC${seed}A` },
    { seed: seed + 1, patient: KNOWN_PATIENTS[1]!, profile: 'mixed', studyDescription: 'INTEGRATION MIXED B', accessionNumber: `ACC${seed}B` }
  ]
}
