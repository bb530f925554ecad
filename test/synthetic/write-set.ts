// Writes a synthetic data set of about a target size to a folder: one study after another,
// each for a different patient, all derived from one seed. Used by the CLI, by benchmarks and
// by tests that need many files on disk.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Prng } from './prng.ts';
import { KNOWN_PATIENTS, syntheticStudy, type Patient } from './study.ts';

export type SetOptions = {
  seed: number;
  targetBytes: number;
  profile: 'mixed' | 'ct';
  /** Image size; by default 'ct512' for the 'ct' profile and for targets of 64 MB and more, else 'small'. */
  size?: 'small' | 'ct512';
  /** Told after each study is written: bytes and files so far, against the target. */
  onProgress?: (done: { bytes: number; files: number; studies: number }) => void;
};

export type SetSummary = {
  dir: string;
  files: number;
  bytes: number;
  studies: {
    folder: string;
    studyInstanceUid: string;
    seriesInstanceUids: string[];
    patientName: string;
    patientId: string;
    accessionNumber: string;
    files: number;
    bytes: number;
  }[];
};

const MAX_CT_SLICES = 100; // a 512x512 CT study of ~50 MB; larger targets get more studies

export async function writeSyntheticSet(dir: string, opts: SetOptions): Promise<SetSummary> {
  const { seed, targetBytes, profile } = opts;
  if (!Number.isSafeInteger(targetBytes) || targetBytes <= 0) throw new RangeError(`targetBytes: positive integer expected, got ${targetBytes}`);
  const size = opts.size ?? (profile === 'ct' || targetBytes >= 64 * 1024 * 1024 ? 'ct512' : 'small');
  const sliceBytes = size === 'ct512' ? 512 * 512 * 2 + 2048 : 64 * 64 * 2 + 2048; // pixels plus header, roughly
  const rng = new Prng(seed);
  const summary: SetSummary = { dir, files: 0, bytes: 0, studies: [] };
  for (let n = 0; summary.bytes < targetBytes; n++) {
    const patient = KNOWN_PATIENTS[n] ?? extraPatient(rng, n);
    const accessionNumber = `PPX${String(n + 1).padStart(6, '0')}`;
    const folder = `${String(n + 1).padStart(4, '0')}-${patient.id}`;
    const slices = Math.min(MAX_CT_SLICES, Math.max(1, Math.ceil((targetBytes - summary.bytes) / sliceBytes)));
    const instances = syntheticStudy({
      seed: rng.nextU32(), patient, size, profile, accessionNumber, folder, studyDate: dateFrom(rng),
      studyDescription: profile === 'ct' ? 'CT THORAX SYNTHETIC' : `SYNTHETIC MIXED STUDY ${n + 1}`,
      ...(profile === 'ct' ? { slices } : {}),
    });
    let bytes = 0;
    for (const instance of instances) {
      const path = join(dir, instance.relativePath);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, instance.bytes);
      bytes += instance.bytes.length;
    }
    summary.files += instances.length;
    summary.bytes += bytes;
    summary.studies.push({
      folder, studyInstanceUid: instances[0]!.studyInstanceUid,
      seriesInstanceUids: [...new Set(instances.map((i) => i.seriesInstanceUid))],
      patientName: patient.name, patientId: patient.id, accessionNumber, files: instances.length, bytes,
    });
    opts.onProgress?.({ bytes: summary.bytes, files: summary.files, studies: summary.studies.length });
  }
  return summary;
}

// Patients after the known ones: still "ZZ"-prefixed so a scan for synthetic PHI finds them.
function extraPatient(rng: Prng, n: number): Patient {
  const given = rng.pick(['ALEX', 'BRIGID', 'CASIMIR', 'DELPHINE', 'EAMON', 'FENNA', 'GUSTAV', 'HILDE']);
  return { name: `ZZSYNTH${n + 1}^${given}`, id: `PPX-S${String(n + 1).padStart(5, '0')}`, birthDate: dateFrom(rng, 1930, 2020), sex: rng.pick(['F', 'M', 'O'] as const) };
}

function dateFrom(rng: Prng, fromYear = 2015, toYear = 2025): string {
  const d = new Date(Date.UTC(rng.int(fromYear, toYear), rng.int(0, 11), rng.int(1, 28)));
  return d.toISOString().slice(0, 10).replaceAll('-', '');
}
