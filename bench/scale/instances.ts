/**
 * The DICOM instances of one planned study (plan.ts): small Part 10 files (16×16 16-bit
 * pixels) with realistic UIDs (2.25 from seeded UUID bits), patient, study, series and image
 * attributes, the SOP class of the study's modality. Deterministic: study i is the same
 * bytes at every run.
 */
import { writePart10, TRANSFER_SYNTAX, type DicomElement } from '../../test/synthetic/part10-writer.ts'
import { Prng } from '../../test/synthetic/prng.ts'
import { syntheticFrame } from '../../test/synthetic/pixels.ts'
import type { StudyPlan } from './plan.ts'

const SOP_CLASS: Record<string, string> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  CR: '1.2.840.10008.5.1.4.1.1.1',
  US: '1.2.840.10008.5.1.4.1.1.6.1',
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
  MG: '1.2.840.10008.5.1.4.1.1.1.2'
}
const SIZE = 16

export interface PlannedInstance {
  readonly bytes: Uint8Array
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  readonly seriesInstanceUid: string
  readonly studyInstanceUid: string
}

const e = (tag: number, vr: string, value: DicomElement['value']): DicomElement => ({ tag, vr, value })

function uid (rng: Prng): string {
  const b = rng.bytes(16)
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  return `2.25.${BigInt('0x' + Buffer.from(b).toString('hex')).toString()}`
}

/** Every instance of the study, series by series. */
export function studyInstances (plan: StudyPlan): PlannedInstance[] {
  const rng = new Prng(plan.index + 1)
  const studyInstanceUid = uid(rng)
  const sopClassUid = SOP_CLASS[plan.modality]!
  const time = `${String(7 + (plan.index % 11)).padStart(2, '0')}${String(plan.index % 60).padStart(2, '0')}00`
  const study: DicomElement[] = [
    e(0x0008_0005, 'CS', 'ISO_IR 100'),
    e(0x0008_0020, 'DA', plan.studyDate), e(0x0008_0030, 'TM', time), e(0x0008_0050, 'SH', plan.accessionNumber),
    e(0x0008_0070, 'LO', 'PEERPACS SCALE'), e(0x0008_0080, 'LO', 'ZZ SCALE CLINIC'),
    e(0x0008_0090, 'PN', 'ZZREFERRER^GREGORY'), e(0x0008_1030, 'LO', `${plan.modality} SCALE STUDY`),
    e(0x0010_0010, 'PN', plan.patientName), e(0x0010_0020, 'LO', plan.patientId),
    e(0x0010_0030, 'DA', '19700101'), e(0x0010_0040, 'CS', plan.index % 2 === 0 ? 'F' : 'M'),
    e(0x0020_000d, 'UI', studyInstanceUid), e(0x0020_0010, 'SH', `S${plan.index}`)
  ]
  const out: PlannedInstance[] = []
  plan.series.forEach((count, s) => {
    const seriesInstanceUid = uid(rng)
    for (let i = 0; i < count; i++) {
      const sopInstanceUid = uid(rng)
      const pixels = syntheticFrame(rng, { rows: SIZE, columns: SIZE, samplesPerPixel: 1, bitsAllocated: 16, low: 900, high: 1200, noise: 20 })
      const elements: DicomElement[] = [
        ...study,
        e(0x0008_0008, 'CS', ['ORIGINAL', 'PRIMARY']),
        e(0x0008_0016, 'UI', sopClassUid), e(0x0008_0018, 'UI', sopInstanceUid),
        e(0x0008_0021, 'DA', plan.studyDate), e(0x0008_0031, 'TM', time),
        e(0x0008_0060, 'CS', plan.modality), e(0x0008_103e, 'LO', `SERIES ${s + 1}`),
        e(0x0020_000e, 'UI', seriesInstanceUid), e(0x0020_0011, 'IS', [String(s + 1)]), e(0x0020_0013, 'IS', [String(i + 1)]),
        e(0x0028_0002, 'US', [1]), e(0x0028_0004, 'CS', 'MONOCHROME2'),
        e(0x0028_0010, 'US', [SIZE]), e(0x0028_0011, 'US', [SIZE]),
        e(0x0028_0100, 'US', [16]), e(0x0028_0101, 'US', [16]), e(0x0028_0102, 'US', [15]), e(0x0028_0103, 'US', [0]),
        e(0x7fe0_0010, 'OW', pixels)
      ]
      const bytes = writePart10({ sopClassUid, sopInstanceUid, transferSyntaxUid: TRANSFER_SYNTAX.explicitVrLittleEndian, elements })
      out.push({ bytes, sopClassUid, sopInstanceUid, seriesInstanceUid, studyInstanceUid })
    }
  })
  return out
}
