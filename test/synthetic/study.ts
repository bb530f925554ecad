// One synthetic DICOM study, fully determined by a seed: the fixture every import, storage,
// sync and DICOMweb test starts from. The 'mixed' profile covers the encodings a PACS meets
// (implicit/explicit LE, explicit BE, deflated, RLE, multi-frame, colour, sequences); the
// 'ct' profile is one plain CT series for benchmarks.

import { Prng } from './prng.ts';
import { syntheticFrame, KNOWN_PIXEL_PATTERN, type FrameSpec } from './pixels.ts';
import { encodeRleFrame } from './rle.ts';
import { writePart10, TRANSFER_SYNTAX as TS, type DicomElement } from './part10-writer.ts';

export { KNOWN_PIXEL_PATTERN };

export type Patient = { name: string; id: string; birthDate: string; sex: 'F' | 'M' | 'O' };

/** Fixed, distinctive patients: a byte scan for these strings finds plaintext PHI and nothing else. */
export const KNOWN_PATIENTS: readonly Patient[] = [
  { name: 'ZZTESTPATIENT^JANE^Q', id: 'PPX-90210-A', birthDate: '19710402', sex: 'F' },
  { name: 'ZZTESTPATIENT^JOHN^X', id: 'PPX-31337-B', birthDate: '19580917', sex: 'M' },
  { name: 'ZZQUOKKA^MARGOT', id: 'PPX-42424-C', birthDate: '20010110', sex: 'F' },
  { name: 'ZZVANDERLAY^ART^T', id: 'PPX-77007-D', birthDate: '19661231', sex: 'O' },
];

export const SOP_CLASS = {
  ct: '1.2.840.10008.5.1.4.1.1.2',
  mr: '1.2.840.10008.5.1.4.1.1.4',
  usMultiFrame: '1.2.840.10008.5.1.4.1.1.3.1',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
} as const;

export type StudyOptions = {
  seed: number;
  patient?: Patient;
  studyDescription?: string;
  /** YYYYMMDD */
  studyDate?: string;
  accessionNumber?: string;
  size?: 'small' | 'ct512';
  profile?: 'mixed' | 'ct';
  /** 'ct' profile only: number of slices (default 6 for 'small', 40 for 'ct512'). */
  slices?: number;
  /** Folder that prefixes every relativePath (default `study-<accessionNumber>`). */
  folder?: string;
};

export type SyntheticInstance = {
  relativePath: string;
  bytes: Uint8Array;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  transferSyntaxUid: string;
  modality: string;
  numberOfFrames: number;
  /** The file's bytes hold the dataset as written: names and UIDs are findable by a byte scan (false when deflated). */
  datasetVerbatim: boolean;
  /** The file's bytes hold KNOWN_PIXEL_PATTERN at the start of every frame (false when deflated or compressed). */
  pixelPatternVerbatim: boolean;
  /** Compressed instances only: the native (LE, interleaved) pixels that were compressed, to check a decoder. */
  nativePixelData?: Uint8Array;
};

type SeriesPlan = {
  modality: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  description: string;
  charset: 'ISO_IR 100' | 'ISO_IR 192';
  instances: number;
  frames: number;
  photometric: 'MONOCHROME2' | 'RGB';
  frame: Omit<FrameSpec, 'bigEndianFile'>;
  /** Cross-sectional images only: plane geometry (axial, or sagittal). */
  section?: { fovMm: number; thicknessMm: number; sagittal?: boolean };
  /** Modality-specific elements of instance i; `first` is the series' first SOP Instance UID, once written. */
  extra: (ctx: { i: number; first: string | undefined; studyDate: string }) => DicomElement[];
};

const e = (tag: number, vr: string, value: DicomElement['value']): DicomElement => ({ tag, vr, value });
/** Decimal String: at most 16 characters (PS3.5 Table 6.2-1). */
const ds = (...n: number[]): string[] => n.map((x) => { const s = String(Number(x.toFixed(6))); if (s.length > 16) throw new RangeError(`DS too long: ${s}`); return s; });

/** A 2.25 UID from 128 seeded bits shaped as a version-4 UUID (PS3.5 B.2). */
function uidFrom(rng: Prng): string {
  const b = rng.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt('0x' + Buffer.from(b).toString('hex')).toString()}`;
}

function ageAt(birth: string, on: string): string {
  const years = Number(on.slice(0, 4)) - Number(birth.slice(0, 4)) - (on.slice(4) < birth.slice(4) ? 1 : 0);
  return `${String(Math.max(0, years)).padStart(3, '0')}Y`;
}

const CT_EXTRA = (thickness: number) => ({ i, first }: { i: number; first: string | undefined }): DicomElement[] => [
  e(0x0008_0008, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']),
  e(0x0018_0050, 'DS', ds(thickness)),
  e(0x0018_0060, 'DS', ds(120)),
  e(0x0018_5100, 'CS', 'HFS'),
  e(0x0020_1041, 'DS', ds(-100 + i * thickness)),
  e(0x0028_1050, 'DS', ds(40)),
  e(0x0028_1051, 'DS', ds(400)),
  e(0x0028_1052, 'DS', ds(-1024)),
  e(0x0028_1053, 'DS', ds(1)),
  e(0x0028_1054, 'LO', 'HU'),
  ...(first ? [referencedImage(SOP_CLASS.ct, first)] : []),
];

const MR_EXTRA = (thickness: number) => ({ i, first, studyDate }: { i: number; first: string | undefined; studyDate: string }): DicomElement[] => [
  e(0x0008_0008, 'CS', ['ORIGINAL', 'PRIMARY', 'M', 'ND']),
  e(0x0008_002a, 'DT', `${studyDate}${String(101500 + i).padStart(6, '0')}.250000`),
  e(0x0018_0050, 'DS', ds(thickness)),
  e(0x0018_0080, 'DS', ds(3000 + 10 * i)),
  e(0x0018_0081, 'DS', ds(95.5)),
  e(0x0018_0087, 'DS', ds(1.5)),
  e(0x0018_5100, 'CS', 'HFS'),
  e(0x0018_9087, 'FD', [0]),
  e(0x0020_1041, 'DS', ds(-100 + i * thickness)),
  e(0x0028_1050, 'DS', ds(500)),
  e(0x0028_1051, 'DS', ds(1000)),
  ...(first ? [referencedImage(SOP_CLASS.mr, first)] : []),
];

// A defined-length sequence; the study-level ProcedureCodeSequence uses undefined length.
function referencedImage(sopClassUid: string, sopInstanceUid: string): DicomElement {
  return e(0x0008_1140, 'SQ', [[e(0x0008_1150, 'UI', sopClassUid), e(0x0008_1155, 'UI', sopInstanceUid)]]);
}

function ultrasoundRegions(rows: number, columns: number): DicomElement {
  return e(0x0018_6011, 'SQ', [[
    e(0x0018_6012, 'US', [1]), e(0x0018_6014, 'US', [1]), e(0x0018_6016, 'UL', [0]),
    e(0x0018_6018, 'UL', [0]), e(0x0018_601a, 'UL', [0]),
    e(0x0018_601c, 'UL', [columns - 1]), e(0x0018_601e, 'UL', [rows - 1]),
    e(0x0018_6020, 'SL', [-Math.floor(columns / 2)]),
    e(0x0018_6024, 'US', [3]), e(0x0018_6026, 'US', [3]),
    e(0x0018_602c, 'FD', [0.0275]), e(0x0018_602e, 'FD', [0.0275]),
  ]]);
}

function plans(profile: 'mixed' | 'ct', size: 'small' | 'ct512', slices: number | undefined): SeriesPlan[] {
  const big = size === 'ct512';
  const ctN = big ? 512 : 64;
  const mrN = big ? 256 : 64;
  const mono = { samplesPerPixel: 1, bitsAllocated: 16 as const };
  const ctFrame = { rows: ctN, columns: ctN, ...mono, low: 900, high: 1200, noise: 20, background: 0 };
  const mrFrame = { rows: mrN, columns: mrN, ...mono, low: 100, high: 900, noise: 15, background: 0 };
  const ct: SeriesPlan = {
    modality: 'CT', sopClassUid: SOP_CLASS.ct, transferSyntaxUid: TS.implicitVrLittleEndian, description: 'Thorax nativ 2.5mm',
    charset: 'ISO_IR 100', instances: 6, frames: 1, photometric: 'MONOCHROME2', frame: ctFrame, section: { fovMm: 350, thicknessMm: 2.5 }, extra: CT_EXTRA(2.5),
  };
  if (profile === 'ct') {
    return [{ ...ct, transferSyntaxUid: TS.explicitVrLittleEndian, description: 'CT Thorax axial', instances: slices ?? (big ? 40 : 6) }];
  }
  const sc = { modality: 'OT', sopClassUid: SOP_CLASS.secondaryCapture, transferSyntaxUid: TS.explicitVrLittleEndian, instances: 1, frames: 1 };
  const scExtra = (comment: string) => (): DicomElement[] => [
    e(0x0008_0008, 'CS', ['DERIVED', 'SECONDARY']), e(0x0008_0064, 'CS', 'WSD'), e(0x0020_4000, 'LT', comment),
  ];
  return [
    ct,
    { modality: 'MR', sopClassUid: SOP_CLASS.mr, transferSyntaxUid: TS.explicitVrLittleEndian, description: 'Schädel T2 axial',
      charset: 'ISO_IR 192', instances: 4, frames: 1, photometric: 'MONOCHROME2', frame: mrFrame, section: { fovMm: 230, thicknessMm: 5 }, extra: MR_EXTRA(5) },
    { modality: 'MR', sopClassUid: SOP_CLASS.mr, transferSyntaxUid: TS.explicitVrBigEndian, description: 'Schädel T1 sagittal',
      charset: 'ISO_IR 100', instances: 2, frames: 1, photometric: 'MONOCHROME2', frame: mrFrame, section: { fovMm: 230, thicknessMm: 4, sagittal: true }, extra: MR_EXTRA(4) },
    { modality: 'US', sopClassUid: SOP_CLASS.usMultiFrame, transferSyntaxUid: TS.explicitVrLittleEndian, description: 'Abdomen cine',
      charset: 'ISO_IR 192', instances: 1, frames: 12, photometric: 'MONOCHROME2',
      frame: { rows: big ? 480 : 64, columns: big ? 640 : 80, samplesPerPixel: 1, bitsAllocated: 8, low: 10, high: 200, noise: 12, background: 0 },
      extra: () => [
        e(0x0008_0008, 'CS', ['ORIGINAL', 'PRIMARY', 'ABDOMINAL']), e(0x0018_1063, 'DS', ds(33.3)),
        e(0x0028_0009, 'AT', [0x0018_1063]), ultrasoundRegions(big ? 480 : 64, big ? 640 : 80),
      ] },
    { ...sc, description: 'Screenshot RGB', charset: 'ISO_IR 100', photometric: 'RGB',
      frame: { rows: big ? 512 : 64, columns: big ? 512 : 64, samplesPerPixel: 3, bitsAllocated: 8, low: 0, high: 255, noise: 8 },
      extra: scExtra('Synthetic colour secondary capture') },
    { ...ct, transferSyntaxUid: TS.rleLossless, description: 'Thorax RLE', charset: 'ISO_IR 192', instances: 1 },
    { ...sc, transferSyntaxUid: TS.deflatedExplicitVrLittleEndian, description: 'Report page (deflated)', charset: 'ISO_IR 192',
      photometric: 'MONOCHROME2', frame: { rows: mrN, columns: mrN, samplesPerPixel: 1, bitsAllocated: 8, low: 30, high: 220, noise: 4 },
      extra: scExtra('Synthetic deflated secondary capture – Übersicht') },
  ];
}

export function syntheticStudy(opts: StudyOptions): SyntheticInstance[] {
  const { seed, patient = KNOWN_PATIENTS[0]!, size = 'small', profile = 'mixed' } = opts;
  const rng = new Prng(seed);
  const studyDate = opts.studyDate ?? '20240315';
  if (!/^\d{8}$/.test(studyDate)) throw new RangeError(`studyDate: YYYYMMDD expected, got ${JSON.stringify(studyDate)}`);
  if (opts.slices !== undefined && !(Number.isInteger(opts.slices) && opts.slices > 0)) throw new RangeError(`slices: positive integer expected, got ${opts.slices}`);
  const studyInstanceUid = uidFrom(rng);
  const frameOfReferenceUid = uidFrom(rng);
  const studyTime = `${String(rng.int(7, 18)).padStart(2, '0')}${String(rng.int(0, 59)).padStart(2, '0')}${String(rng.int(0, 59)).padStart(2, '0')}`;
  const accessionNumber = opts.accessionNumber ?? `A${rng.int(1_000_000, 9_999_999)}`;
  const studyId = `S${rng.int(1000, 99999)}`;
  const studyDescription = opts.studyDescription ?? (profile === 'ct' ? 'CT THORAX SYNTHETIC' : 'SYNTHETIC MIXED STUDY');
  const folder = opts.folder ?? `study-${accessionNumber.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  const study: DicomElement[] = [
    e(0x0008_0020, 'DA', studyDate), e(0x0008_0030, 'TM', studyTime), e(0x0008_0050, 'SH', accessionNumber),
    e(0x0008_0070, 'LO', 'PEERPACS SYNTHETIC'), e(0x0008_0080, 'LO', 'ZZ SYNTHETIC CLINIC'),
    e(0x0008_0090, 'PN', 'ZZREFERRER^GREGORY'), e(0x0008_1030, 'LO', studyDescription),
    { ...e(0x0008_1032, 'SQ', [[e(0x0008_0100, 'SH', 'PPX001'), e(0x0008_0102, 'SH', '99PEERPACS'), e(0x0008_0104, 'LO', studyDescription)]]), undefinedLength: true },
    e(0x0010_0010, 'PN', patient.name), e(0x0010_0020, 'LO', patient.id), e(0x0010_0030, 'DA', patient.birthDate),
    e(0x0010_0040, 'CS', patient.sex), e(0x0010_1010, 'AS', ageAt(patient.birthDate, studyDate)),
    e(0x0020_000d, 'UI', studyInstanceUid), e(0x0020_0010, 'SH', studyId),
  ];

  const out: SyntheticInstance[] = [];
  plans(profile, size, opts.slices).forEach((plan, s) => {
    const seriesNumber = s + 1;
    const seriesInstanceUid = uidFrom(rng);
    let firstSop: string | undefined;
    for (let i = 0; i < plan.instances; i++) {
      const sopInstanceUid = uidFrom(rng);
      const { rows, columns, samplesPerPixel, bitsAllocated } = plan.frame;
      const bigEndian = plan.transferSyntaxUid === TS.explicitVrBigEndian;
      const frames = Array.from({ length: plan.frames }, () => syntheticFrame(rng, { ...plan.frame, bigEndianFile: bigEndian }));
      const encapsulated = plan.transferSyntaxUid === TS.rleLossless;
      const elements: DicomElement[] = [
        ...study,
        e(0x0008_0005, 'CS', plan.charset), e(0x0008_0016, 'UI', plan.sopClassUid), e(0x0008_0018, 'UI', sopInstanceUid),
        e(0x0008_0021, 'DA', studyDate), e(0x0008_0023, 'DA', studyDate), e(0x0008_0031, 'TM', studyTime), e(0x0008_0033, 'TM', studyTime),
        e(0x0008_0060, 'CS', plan.modality), e(0x0008_103e, 'LO', plan.description),
        e(0x0020_000e, 'UI', seriesInstanceUid), e(0x0020_0011, 'IS', [String(seriesNumber)]), e(0x0020_0013, 'IS', [String(i + 1)]),
        e(0x0028_0002, 'US', [samplesPerPixel]), e(0x0028_0004, 'CS', plan.photometric),
        e(0x0028_0010, 'US', [rows]), e(0x0028_0011, 'US', [columns]),
        e(0x0028_0100, 'US', [bitsAllocated]), e(0x0028_0101, 'US', [bitsAllocated]), e(0x0028_0102, 'US', [bitsAllocated - 1]),
        e(0x0028_0103, 'US', [0]),
        ...(samplesPerPixel > 1 ? [e(0x0028_0006, 'US', [0])] : []),
        ...(plan.frames > 1 ? [e(0x0028_0008, 'IS', [String(plan.frames)])] : []),
        ...(encapsulated ? [e(0x0028_2110, 'CS', '00')] : []),
        ...(plan.section ? geometry(plan.section, plan.frame.columns, i, frameOfReferenceUid) : []),
        ...plan.extra({ i, first: firstSop, studyDate }),
      ];
      const native = concatFrames(frames);
      if (!encapsulated) elements.push(e(0x7fe0_0010, bitsAllocated === 16 ? 'OW' : 'OB', native));
      const bytes = writePart10({
        sopClassUid: plan.sopClassUid, sopInstanceUid, transferSyntaxUid: plan.transferSyntaxUid, elements,
        ...(encapsulated ? { encapsulatedFrames: frames.map((f) => encodeRleFrame({ rows, columns, samplesPerPixel, bitsAllocated, pixels: f })) } : {}),
      });
      const deflated = plan.transferSyntaxUid === TS.deflatedExplicitVrLittleEndian;
      out.push({
        relativePath: `${folder}/${seriesNumber}/${i + 1}.dcm`, bytes, sopClassUid: plan.sopClassUid, sopInstanceUid,
        seriesInstanceUid, studyInstanceUid, transferSyntaxUid: plan.transferSyntaxUid, modality: plan.modality,
        numberOfFrames: plan.frames, datasetVerbatim: !deflated, pixelPatternVerbatim: !deflated && !encapsulated,
        ...(encapsulated ? { nativePixelData: native } : {}),
      });
      firstSop ??= sopInstanceUid;
    }
  });
  return out;
}

// Plane geometry of a cross-sectional slice, axial or sagittal.
function geometry(section: NonNullable<SeriesPlan['section']>, columns: number, i: number, frameOfReferenceUid: string): DicomElement[] {
  const { fovMm: fov, thicknessMm, sagittal } = section;
  const spacing = fov / columns;
  const z = -100 + i * thicknessMm; // matches SliceLocation in CT_EXTRA / MR_EXTRA
  return [
    e(0x0020_0032, 'DS', sagittal ? ds(z, -fov / 2, fov / 2) : ds(-fov / 2, -fov / 2, z)),
    e(0x0020_0037, 'DS', sagittal ? ds(0, 1, 0, 0, 0, -1) : ds(1, 0, 0, 0, 1, 0)),
    e(0x0020_0052, 'UI', frameOfReferenceUid),
    e(0x0028_0030, 'DS', ds(spacing, spacing)),
  ];
}

function concatFrames(frames: Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0]!;
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => { out.set(f, at); return at + f.length; }, 0);
  return out;
}
