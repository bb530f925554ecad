/**
 * `peerpacs import`: finds the files under the given paths and ingests them, a few at a time
 * so that reading, sealing and fsync overlap. Each file ends as imported, duplicate, rejected
 * (it claims to be DICOM but is broken, or conflicts with what is stored) or skipped (not
 * DICOM Part 10). A problem with one file never stops the others; a problem with the archive
 * itself (disk full, index failure) stops the import.
 *
 * The run is audited once at its end as one 110107 Import naming every study and patient it
 * brought in: as several records (parts) when the studies do not fit in one (protocol/audit/
 * parts.ts). The files are stored before that: a failure to write the audit record is reported
 * (an `audit` event, and `audit.problem` in the summary), never turned into a failed import.
 */
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { InvalidDicomError, NotAnInstanceError, NotDicomError } from '../dicom/errors.ts'
import type { Archive } from './archive.ts'
import { IndexDamagedError, InstanceConflictError } from './errors.ts'
import { Ingester, type IngestResult } from './ingest.ts'
import { clipText, importEvent, nodeSource, MEDIA_TYPE, OUTCOME, type AuditRecord } from '../../protocol/audit/index.ts'
import type { Auditor } from '../audit/auditor.ts'
import { AuditWriteError } from '../audit/errors.ts'
import { cliUser, StudyTally } from '../audit/actors.ts'

export type FileStatus = 'imported' | 'duplicate' | 'rejected' | 'skipped'

export interface FileOutcome {
  readonly type: 'file'
  readonly path: string
  readonly status: FileStatus
  readonly size: number
  readonly reason?: string
  readonly studyInstanceUid?: string
  readonly sopInstanceUid?: string
}

export interface ImportSummary {
  readonly files: number
  readonly imported: number
  readonly duplicates: number
  readonly rejected: number
  readonly skipped: number
  readonly bytesImported: number
  readonly bytesRead: number
  readonly seconds: number
  readonly audit: ImportAudit
}

/** How the run's 110107 Import was written: how many records (parts) it took and how many are in the log. */
export interface ImportAudit {
  readonly type: 'audit'
  readonly studies: number
  readonly records: number
  readonly written: number
  /** Why the record (or some of its parts) could not be written; the files are stored regardless. */
  readonly problem?: string
}

export type ImportEvent = { readonly type: 'scanned', readonly files: number, readonly bytes: number } | FileOutcome | ImportAudit

/** Reading the source file failed (permissions, vanished): that file's problem, not the archive's. */
class SourceReadError extends PeerpacsError {
  constructor (message: string) { super('SOURCE_READ', message) }
}

async function * readSource (path: string): AsyncIterable<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 })
  try {
    for await (const chunk of stream) yield chunk as Buffer
  } catch (error) {
    throw new SourceReadError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  } finally {
    stream.destroy()
  }
}

interface Candidate { path: string, size: number, problem?: string, skip?: string }

/**
 * Lists regular files under `paths` (recursively, in name order). Symbolic links are followed,
 * but each folder is visited once (by device and inode), so a link loop ends instead of recursing.
 */
export async function collectFiles (paths: readonly string[], dataDir?: string): Promise<Candidate[]> {
  const out: Candidate[] = []
  const seenFolders = new Set<string>()
  const visit = async (path: string): Promise<void> => {
    if (dataDir !== undefined && path === dataDir) {
      out.push({ path, size: 0, skip: 'the peerpacs data dir itself (its files are not DICOM to import)' })
      return
    }
    let info
    try {
      info = await stat(path)
    } catch (error) {
      out.push({ path, size: 0, problem: `cannot open: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` })
      return
    }
    if (info.isDirectory()) {
      const id = `${info.dev}:${info.ino}`
      if (seenFolders.has(id)) return
      seenFolders.add(id)
      let names: string[]
      try {
        names = (await readdir(path)).sort()
      } catch (error) {
        out.push({ path, size: 0, problem: `cannot list folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` })
        return
      }
      for (const name of names) await visit(join(path, name))
    } else if (info.isFile()) {
      out.push({ path, size: info.size })
    } else {
      out.push({ path, size: 0, problem: 'not a regular file' })
    }
  }
  for (const path of paths) await visit(resolve(path))
  return out
}

/** How one file is taken in: the archive's own Ingester, or a running node's (which also catalogues it). */
export type IngestFn = (source: AsyncIterable<Uint8Array>, size: number) => Promise<IngestResult>

/** What writes the run's audit records: the archive's auditor, or one a test makes fail. */
export type ImportAuditor = Pick<Auditor, 'record'>

export async function importPaths (
  archive: Archive, paths: readonly string[], onEvent: (event: ImportEvent) => void, concurrency = 3, ingestFn?: IngestFn, auditor: ImportAuditor = archive.auditor
): Promise<ImportSummary> {
  const started = performance.now()
  const files = await collectFiles(paths, archive.layout.root)
  onEvent({ type: 'scanned', files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) })
  const ingester = new Ingester(archive)
  const ingest: IngestFn = ingestFn ?? (async (source, size) => await ingester.ingest(source, size))
  const counts = { imported: 0, duplicate: 0, rejected: 0, skipped: 0 }
  let bytesImported = 0
  let bytesRead = 0
  let next = 0
  let fatal: unknown
  const imported = new StudyTally()

  const one = async (file: Candidate): Promise<FileOutcome> => {
    if (file.skip !== undefined) return { type: 'file', path: file.path, status: 'skipped', size: 0, reason: file.skip }
    if (file.problem !== undefined) return { type: 'file', path: file.path, status: 'rejected', size: file.size, reason: file.problem }
    try {
      const result = await ingest(readSource(file.path), file.size)
      if (result.status === 'imported') bytesImported += file.size
      if (result.status === 'imported' && result.entry !== undefined) imported.add(result.entry.attributes)
      return {
        type: 'file', path: file.path, status: result.status, size: file.size, studyInstanceUid: result.studyInstanceUid, sopInstanceUid: result.sopInstanceUid,
        ...(result.replaced === undefined ? {} : { reason: 'replaced a damaged stored copy' })
      }
    } catch (error) {
      if (error instanceof NotDicomError || error instanceof NotAnInstanceError) return { type: 'file', path: file.path, status: 'skipped', size: file.size, reason: error.message }
      if (error instanceof InvalidDicomError || error instanceof InstanceConflictError || error instanceof IndexDamagedError || error instanceof SourceReadError) {
        return { type: 'file', path: file.path, status: 'rejected', size: file.size, reason: error.message }
      }
      throw error
    } finally {
      bytesRead += file.size
    }
  }

  const worker = async (): Promise<void> => {
    while (fatal === undefined && next < files.length) {
      const file = files[next++]!
      try {
        const outcome = await one(file)
        counts[outcome.status]++
        onEvent(outcome)
      } catch (error) {
        fatal ??= error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  const audit: ImportAudit = imported.studies > 0 || fatal !== undefined
    ? await auditImport(archive, auditor, paths, imported, fatal !== undefined)
    : { type: 'audit', studies: 0, records: 0, written: 0 }
  if (audit.records > 0) onEvent(audit)
  if (fatal !== undefined) throw fatal
  return {
    files: files.length,
    imported: counts.imported,
    duplicates: counts.duplicate,
    rejected: counts.rejected,
    skipped: counts.skipped,
    bytesImported,
    bytesRead,
    seconds: (performance.now() - started) / 1000,
    audit
  }
}

/** Writes the run's 110107 Import (all its parts); a failure is returned as the audit's problem, not thrown. */
async function auditImport (archive: Archive, auditor: ImportAuditor, paths: readonly string[], imported: StudyTally, stopped: boolean): Promise<ImportAudit> {
  const studies = imported.studies
  let records: AuditRecord[] = []
  try {
    records = importEvent({
      time: Date.now(),
      source: nodeSource(archive.keyring.nodeId),
      ...(stopped ? { outcome: OUTCOME.seriousFailure, outcomeDescription: 'the import stopped on an archive error' } : {}),
      importer: cliUser(),
      media: { id: clipText(paths.map((p) => `file://${resolve(p)}`).join(' '), 4000), type: MEDIA_TYPE.uri },
      studies: imported.refs()
    })
    await auditor.record(records)
    return { type: 'audit', studies, records: records.length, written: records.length }
  } catch (error) {
    const written = error instanceof AuditWriteError ? error.written : 0
    return { type: 'audit', studies, records: Math.max(1, records.length), written, problem: error instanceof Error ? error.message : String(error) }
  }
}
