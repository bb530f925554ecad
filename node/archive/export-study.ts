/**
 * `peerpacs export`: writes a study's instances back as the files that were imported, to
 * DIR/<SeriesInstanceUID>/<SOPInstanceUID>.dcm (UIDs are digits and dots, checked at import,
 * so they are safe as names). Each file is written to a temporary name and renamed only once
 * every check passed; a damaged instance is reported and skipped, the others still export.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { join, relative, resolve, isAbsolute } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { isValidUid } from '../dicom/uid.ts'
import type { Archive } from './archive.ts'
import { instancesOf, type InstanceEntry } from './catalogue.ts'
import { readInstance } from './read-instance.ts'
import { exportEvent, MEDIA_TYPE, nodeSource, OUTCOME } from '../../protocol/audit/index.ts'
import { cliUser, studyRefs } from '../audit/actors.ts'

export interface InstanceExport {
  readonly type: 'instance'
  readonly sopInstanceUid: string
  readonly seriesInstanceUid: string
  readonly status: 'exported' | 'failed'
  readonly path?: string
  readonly reason?: string
  readonly size: number
}

export interface ExportSummary {
  readonly studyInstanceUid: string
  readonly dir: string
  readonly instances: number
  readonly exported: number
  readonly failed: number
  readonly bytes: number
  readonly seconds: number
}

export class ExportTargetError extends PeerpacsError {
  static readonly code = 'EXPORT_TARGET'
  constructor (message: string) { super(ExportTargetError.code, message) }
}

function inside (child: string, parent: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

function order (a: InstanceEntry, b: InstanceEntry): number {
  const x = a.attributes
  const y = b.attributes
  return (x.seriesNumber ?? 0) - (y.seriesNumber ?? 0) || x.seriesInstanceUid.localeCompare(y.seriesInstanceUid) ||
    (x.instanceNumber ?? 0) - (y.instanceNumber ?? 0) || x.sopInstanceUid.localeCompare(y.sopInstanceUid)
}

export async function exportStudy (archive: Archive, reference: string, targetDir: string, onEvent: (event: InstanceExport) => void): Promise<ExportSummary> {
  const started = performance.now()
  const dir = resolve(targetDir)
  if (inside(dir, archive.layout.root)) throw new ExportTargetError(`refusing to export into the data dir (${dir} is inside ${archive.layout.root})`)
  const study = await archive.resolveStudy(reference)
  try {
    await mkdir(dir, { recursive: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ExportTargetError(code === 'EEXIST' || code === 'ENOTDIR' ? `${dir} exists and is not a folder` : `cannot create ${dir}: ${code ?? (error as Error).message}`)
  }
  const entries: InstanceEntry[] = []
  for await (const entry of instancesOf(archive, study)) entries.push(entry)
  entries.sort(order)
  let exported = 0
  let bytes = 0
  for (const entry of entries) {
    const { sopInstanceUid, seriesInstanceUid, size } = entry.attributes
    const base = { type: 'instance' as const, sopInstanceUid, seriesInstanceUid, size }
    if (!isValidUid(sopInstanceUid) || !isValidUid(seriesInstanceUid)) {
      onEvent({ ...base, status: 'failed', reason: 'stored UIDs are not valid UIDs; refusing to use them as file names' })
      continue
    }
    const seriesDir = join(dir, seriesInstanceUid)
    const path = join(seriesDir, `${sopInstanceUid}.dcm`)
    const tmp = `${path}.partial-${process.pid}`
    try {
      await mkdir(seriesDir, { recursive: true })
      const handle = await open(tmp, 'w', 0o600)
      try {
        for await (const piece of readInstance(archive, study, entry)) await handle.write(piece)
      } finally {
        await handle.close()
      }
      await rename(tmp, path)
      exported++
      bytes += size
      onEvent({ ...base, status: 'exported', path })
    } catch (error) {
      await rm(tmp, { force: true })
      if (!(error instanceof PeerpacsError)) {
        // The target, not the archive: out of space, no permission, a file where a folder goes.
        const code = (error as NodeJS.ErrnoException).code
        if (code !== undefined) throw new ExportTargetError(`cannot write ${path}: ${code}`)
        throw error
      }
      onEvent({ ...base, status: 'failed', reason: error.message })
    }
  }
  // One 110106 Export per run: who wrote which study out of the archive, and where.
  const written = entries.map((e) => e.attributes)
  await archive.auditor.record(exportEvent({
    time: Date.now(),
    source: nodeSource(archive.keyring.nodeId),
    ...(exported === entries.length ? {} : { outcome: exported === 0 ? OUTCOME.seriousFailure : OUTCOME.minorFailure, outcomeDescription: `${entries.length - exported} of ${entries.length} instances failed` }),
    exporter: cliUser(),
    media: { id: `file://${dir}`.slice(0, 4000), type: MEDIA_TYPE.uri },
    studies: studyRefs(written)
  }))
  return {
    studyInstanceUid: study.attributes.studyInstanceUid,
    dir,
    instances: entries.length,
    exported,
    failed: entries.length - exported,
    bytes,
    seconds: (performance.now() - started) / 1000
  }
}
