// Writes many small one-instance CT studies, each of its own fictitious "ZZ" patient, to a
// folder: the shape of a busy site's import (issue 18), fast enough for tests of 1,000+ studies.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syntheticStudy } from './study.ts';

export type ManyStudies = { dir: string; studies: { studyInstanceUid: string; patientId: string }[] };

export async function writeManyStudies(dir: string, count: number, seed = 1): Promise<ManyStudies> {
  const studies: ManyStudies['studies'] = [];
  for (let i = 0; i < count; i++) {
    const patient = { name: `ZZ${String.fromCharCode(65 + (i % 26))}SON^P${i}`, id: `ZZM-${seed}-${i}`, birthDate: '19700101', sex: i % 2 === 0 ? 'M' as const : 'F' as const };
    const [instance] = syntheticStudy({ seed: seed * 100_000 + i, patient, profile: 'ct', size: 'small', slices: 1, accessionNumber: `ZZM${i}`, folder: `s${String(i).padStart(5, '0')}` });
    const path = join(dir, instance!.relativePath);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, instance!.bytes);
    studies.push({ studyInstanceUid: instance!.studyInstanceUid, patientId: patient.id });
  }
  return { dir, studies };
}
