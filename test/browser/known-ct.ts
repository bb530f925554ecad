/**
 * A small CT series whose pixel values are known, for the browser tests: 5 axial slices of
 * 64×64, 16-bit unsigned stored values with RescaleIntercept -1024 (so stored = HU + 1024),
 * 12 bits stored, pixel spacing 0.5 mm, slices 2 mm apart, a stored window of W 400 / L 40.
 *
 * Each slice has four 32×32 quadrants (rows from the top, columns from the left):
 *   top-left  -500 HU   top-right  +500 HU
 *   bottom-left +40 HU  bottom-right  -100 + 50·k HU on slice k (k = 0..4: -100, -50, 0, 50, 100)
 * so a window tells what grey each quadrant must be, and scrolling changes the bottom-right one.
 *
 * The study has the series twice: series 1 uncompressed (explicit VR little endian), series 2 the
 * same pixels as JPEG-LS lossless (dcmtk's dcmcjpls), which the viewer decodes with CharLS as
 * WebAssembly: the same greys prove the codec path (worker, WASM, CSP) as well.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { writePart10, TRANSFER_SYNTAX, type DicomElement } from '../synthetic/part10-writer.ts'
import { SOP_CLASS } from '../synthetic/study.ts'

export const SIZE = 64
export const SLICES = 5
export const PATIENT = { name: 'ZZVIEWER^KNOWN^CT', id: 'PPX-VIEW-01', birthDate: '19800101', sex: 'O' } as const
export const STUDY_DESCRIPTION = 'VIEWER KNOWN CT'
export const STORED_WINDOW = { width: 400, center: 40 } as const

export type Quadrant = 'tl' | 'tr' | 'bl' | 'br'

/** The HU of a quadrant on slice k. */
export function huOf (quadrant: Quadrant, k: number): number {
  return { tl: -500, tr: 500, bl: 40, br: -100 + 50 * k }[quadrant]
}

/**
 * The grey (0..255) the DICOM linear VOI function gives a value (PS3.3 C.11.2.1.2.1, rounded);
 * a viewer may differ by a little (8-bit rounding, texture interpolation), so tests compare
 * within a tolerance.
 */
export function greyOf (hu: number, width: number, center: number): number {
  if (hu <= center - 0.5 - (width - 1) / 2) return 0
  if (hu > center - 0.5 + (width - 1) / 2) return 255
  return Math.round(((hu - (center - 0.5)) / (width - 1) + 0.5) * 255)
}

export interface KnownCt {
  readonly studyInstanceUid: string
  /** Series 1, uncompressed. */
  readonly seriesInstanceUid: string
  /** Series 2, JPEG-LS lossless. */
  readonly jpegLsSeriesInstanceUid: string
  /** The folder holding both series' files. */
  readonly dir: string
}

const e = (tag: number, vr: string, value: DicomElement['value']): DicomElement => ({ tag, vr, value })

/** Writes the study (both series) as Part 10 files into `dir`. */
export async function writeKnownCt (dir: string, uidRoot = `2.25.${BigInt(Date.now()) * 1000n + BigInt(process.pid % 1000)}`): Promise<KnownCt> {
  const study = `${uidRoot}.1`
  const plain = { uid: `${uidRoot}.2`, number: 1, description: 'Known quadrants', sop: `${uidRoot}.3` }
  const jls = { uid: `${uidRoot}.5`, number: 2, description: 'Known quadrants JPEG-LS', sop: `${uidRoot}.6` }
  await mkdir(join(dir, 'tmp'), { recursive: true })
  for (let k = 0; k < SLICES; k++) {
    await writeFile(join(dir, `ct-${k + 1}.dcm`), slice(uidRoot, study, plain, k))
    const native = join(dir, 'tmp', `jls-${k + 1}.dcm`)
    await writeFile(native, slice(uidRoot, study, jls, k))
    await promisify(execFile)('dcmcjpls', ['--encode-lossless', native, join(dir, `jls-${k + 1}.dcm`)])
  }
  await rm(join(dir, 'tmp'), { recursive: true, force: true })
  return { studyInstanceUid: study, seriesInstanceUid: plain.uid, jpegLsSeriesInstanceUid: jls.uid, dir }
}

function slice (uidRoot: string, study: string, series: { uid: string, number: number, description: string, sop: string }, k: number): Uint8Array {
  const sop = `${series.sop}.${k + 1}`
  const pixels = new Uint16Array(SIZE * SIZE)
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const quadrant: Quadrant = y < SIZE / 2 ? (x < SIZE / 2 ? 'tl' : 'tr') : (x < SIZE / 2 ? 'bl' : 'br')
      pixels[y * SIZE + x] = huOf(quadrant, k) + 1024
    }
  }
  const elements: DicomElement[] = [
    e(0x0008_0005, 'CS', 'ISO_IR 100'),
    e(0x0008_0008, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    e(0x0008_0016, 'UI', SOP_CLASS.ct),
    e(0x0008_0018, 'UI', sop),
    e(0x0008_0020, 'DA', '20240315'),
    e(0x0008_0030, 'TM', '101500'),
    e(0x0008_0050, 'SH', 'ACCVIEW01'),
    e(0x0008_0060, 'CS', 'CT'),
    e(0x0008_1030, 'LO', STUDY_DESCRIPTION),
    e(0x0008_103e, 'LO', series.description),
    e(0x0010_0010, 'PN', PATIENT.name),
    e(0x0010_0020, 'LO', PATIENT.id),
    e(0x0010_0030, 'DA', PATIENT.birthDate),
    e(0x0010_0040, 'CS', PATIENT.sex),
    e(0x0018_0050, 'DS', '2'),
    e(0x0020_000d, 'UI', study),
    e(0x0020_000e, 'UI', series.uid),
    e(0x0020_0010, 'SH', 'VIEW1'),
    e(0x0020_0011, 'IS', String(series.number)),
    e(0x0020_0013, 'IS', String(k + 1)),
    e(0x0020_0032, 'DS', ['-16', '-16', String(2 * k)]),
    e(0x0020_0037, 'DS', ['1', '0', '0', '0', '1', '0']),
    e(0x0020_0052, 'UI', `${uidRoot}.4`),
    e(0x0020_1041, 'DS', String(2 * k)),
    e(0x0028_0002, 'US', [1]),
    e(0x0028_0004, 'CS', 'MONOCHROME2'),
    e(0x0028_0010, 'US', [SIZE]),
    e(0x0028_0011, 'US', [SIZE]),
    e(0x0028_0030, 'DS', ['0.5', '0.5']),
    e(0x0028_0100, 'US', [16]),
    e(0x0028_0101, 'US', [12]),
    e(0x0028_0102, 'US', [11]),
    e(0x0028_0103, 'US', [0]),
    e(0x0028_1050, 'DS', String(STORED_WINDOW.center)),
    e(0x0028_1051, 'DS', String(STORED_WINDOW.width)),
    e(0x0028_1052, 'DS', '-1024'),
    e(0x0028_1053, 'DS', '1'),
    e(0x0028_1054, 'LO', 'HU'),
    e(0x7fe0_0010, 'OW', new Uint8Array(pixels.buffer))
  ]
  return writePart10({ sopClassUid: SOP_CLASS.ct, sopInstanceUid: sop, transferSyntaxUid: TRANSFER_SYNTAX.explicitVrLittleEndian, elements })
}
