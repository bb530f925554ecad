/**
 * Compressed test instances made by independent encoders from uncompressed synthetic ones:
 * dcmtk (dcmcjpeg, dcmcjpls, dcmcrle) for JPEG, JPEG-LS and RLE, GDCM (gdcmconv, Debian
 * libgdcm-tools) for JPEG 2000. Each compressed copy gets a new SOP Instance UID (dcmodify -gin)
 * so it can be stored beside its source. A missing tool fails with what to install.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import dcmjs from 'dcmjs'
import type { FrameGeometry } from '../../../../node/imaging/geometry.ts'
import { syntheticStudy } from '../../../synthetic/study.ts'

export type SourceName = 'mono8' | 'mono16' | 'rgb8' | 'cine8'

export interface CompressedCase {
  readonly name: string
  readonly transferSyntaxUid: string
  readonly source: SourceName
  readonly lossless: boolean
  readonly bytes: Uint8Array
}

const PACKAGE: Record<string, string> = { gdcmconv: 'libgdcm-tools', dcmcjpeg: 'dcmtk', dcmcjpls: 'dcmtk', dcmcrle: 'dcmtk', dcmconv: 'dcmtk', dcmodify: 'dcmtk' }

export function tool (command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20 })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${command} is not on PATH: install the Debian package ${PACKAGE[command] ?? command} (apt-get install -y ${PACKAGE[command] ?? command})`)
  }
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
}

/** [name, transfer syntax, source, lossless, command, args before input and output]. */
const CASES: Array<[string, string, SourceName, boolean, string, string[]]> = [
  ['jpeg-baseline-mono8', '1.2.840.10008.1.2.4.50', 'mono8', false, 'dcmcjpeg', ['+eb']],
  ['jpeg-baseline-rgb8', '1.2.840.10008.1.2.4.50', 'rgb8', false, 'dcmcjpeg', ['+eb']],
  ['jpeg-extended-mono8', '1.2.840.10008.1.2.4.51', 'mono8', false, 'dcmcjpeg', ['+ee']],
  ['jpeg-lossless-mono16', '1.2.840.10008.1.2.4.57', 'mono16', true, 'dcmcjpeg', ['+el']],
  ['jpeg-lossless-sv1-mono16', '1.2.840.10008.1.2.4.70', 'mono16', true, 'dcmcjpeg', ['+e1']],
  ['jpeg-lossless-sv1-rgb8', '1.2.840.10008.1.2.4.70', 'rgb8', true, 'dcmcjpeg', ['+e1']],
  ['jpeg-lossless-sv1-cine8', '1.2.840.10008.1.2.4.70', 'cine8', true, 'dcmcjpeg', ['+e1']],
  ['jpeg-ls-mono16', '1.2.840.10008.1.2.4.80', 'mono16', true, 'dcmcjpls', ['+el']],
  ['jpeg-ls-rgb8', '1.2.840.10008.1.2.4.80', 'rgb8', true, 'dcmcjpls', ['+el']],
  ['jpeg-ls-near-mono16', '1.2.840.10008.1.2.4.81', 'mono16', false, 'dcmcjpls', ['+en']],
  ['jpeg-ls-near-rgb8', '1.2.840.10008.1.2.4.81', 'rgb8', false, 'dcmcjpls', ['+en']],
  ['jpeg-2000-lossless-mono16', '1.2.840.10008.1.2.4.90', 'mono16', true, 'gdcmconv', ['--j2k']],
  ['jpeg-2000-lossless-rgb8', '1.2.840.10008.1.2.4.90', 'rgb8', true, 'gdcmconv', ['--j2k']],
  ['jpeg-2000-mono16', '1.2.840.10008.1.2.4.91', 'mono16', false, 'gdcmconv', ['--j2k', '--lossy', '-q', '80']],
  ['jpeg-2000-rgb8', '1.2.840.10008.1.2.4.91', 'rgb8', false, 'gdcmconv', ['--j2k', '--lossy', '-q', '40']],
  ['rle-mono16', '1.2.840.10008.1.2.5', 'mono16', true, 'dcmcrle', []],
  ['rle-rgb8', '1.2.840.10008.1.2.5', 'rgb8', true, 'dcmcrle', []],
  ['rle-cine8', '1.2.840.10008.1.2.5', 'cine8', true, 'dcmcrle', []]
]

/** The uncompressed sources (Explicit VR Little Endian) and every compressed case, written under `dir`. */
export function makeCompressedSet (dir: string, seed = 7): { sources: Record<SourceName, Uint8Array>, cases: CompressedCase[] } {
  const study = syntheticStudy({ seed })
  const explicit = '1.2.840.10008.1.2.1'
  const pick: Record<SourceName, Uint8Array> = {
    mono16: study.find((i) => i.modality === 'MR' && i.transferSyntaxUid === explicit)!.bytes,
    rgb8: study.find((i) => i.modality === 'OT' && i.transferSyntaxUid === explicit)!.bytes,
    cine8: study.find((i) => i.numberOfFrames > 1)!.bytes,
    mono8: study.find((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.1.99')!.bytes
  }
  const sources = {} as Record<SourceName, Uint8Array>
  for (const [name, bytes] of Object.entries(pick) as Array<[SourceName, Uint8Array]>) {
    const path = join(dir, `${name}.dcm`)
    writeFileSync(join(dir, `${name}-as-sent.dcm`), bytes)
    tool('dcmconv', ['+te', join(dir, `${name}-as-sent.dcm`), path]) // the deflated one inflated
    sources[name] = new Uint8Array(readFileSync(path))
  }
  const cases = CASES.map(([name, transferSyntaxUid, source, lossless, command, args]) => {
    const out = join(dir, `${name}.dcm`)
    tool(command, [...args, join(dir, `${source}.dcm`), out])
    tool('dcmodify', ['-nb', '-gin', out])
    return { name, transferSyntaxUid, source, lossless, bytes: new Uint8Array(readFileSync(out)) }
  })
  return { sources, cases }
}

/**
 * The geometry and the frames of a file, read with dcmjs: codestreams (one fragment per frame,
 * as dcmtk and GDCM write them) for a compressed file, native bytes cut per frame otherwise.
 */
export function framesOf (file: Uint8Array): { geometry: FrameGeometry, frames: Uint8Array[] } {
  const parsed = dcmjs.data.DicomMessage.readFile(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer)
  const ds = parsed.dict as Record<string, { Value?: unknown[] }>
  const value = (tag: string): unknown => ds[tag]?.Value?.[0]
  const geometry: FrameGeometry = {
    rows: Number(value('00280010')),
    columns: Number(value('00280011')),
    samples: Number(value('00280002')) as 1 | 3,
    bitsAllocated: Number(value('00280100')) as 8 | 16,
    signed: Number(value('00280103')) === 1,
    photometric: String(value('00280004'))
  }
  const values = (ds['7FE00010']?.Value ?? []) as ArrayBuffer[]
  const count = Math.max(1, Number(value('00280008') ?? 1))
  if (String((parsed.meta as Record<string, { Value?: unknown[] }>)['00020010']?.Value?.[0]).startsWith('1.2.840.10008.1.2.1')) {
    const all = new Uint8Array(values[0]!)
    const size = all.length / count
    return { geometry, frames: Array.from({ length: count }, (_, i) => all.slice(i * size, (i + 1) * size)) }
  }
  return { geometry, frames: values.map((v) => new Uint8Array(v)) }
}
