/**
 * The running node's view of its archive, shared by every edge (DIMSE, DICOMweb, the control
 * API): ingest from a Part 10 stream or from a bare dataset (C-STORE), the catalogue of every
 * instance held decrypted in memory for queries, and verified reads. The catalogue is built once
 * at start and kept current by each ingest; the index on disk stays the truth.
 */
import type { StudyId } from '../../protocol/study-id.ts'
import type { Archive } from '../archive/archive.ts'
import { instancesOf, openInstanceEntry, type InstanceEntry } from '../archive/catalogue.ts'
import { IndexDamagedError } from '../archive/errors.ts'
import { keys } from '../archive/index-layout.ts'
import { Ingester, type IngestOptions, type IngestResult } from '../archive/ingest.ts'
import { readInstance } from '../archive/read-instance.ts'
import { buildFileMeta, type FileMetaFields } from '../dicom/file-meta-writer.ts'
import type { CatalogInstance, QueryLevel } from '../query/attributes.ts'
import { runQuery, type QueryOptions, type QueryResult } from '../query/query.ts'

interface Held { readonly instance: CatalogInstance, readonly entry: InstanceEntry }

export class Pacs {
  readonly archive: Archive
  readonly #ingester: Ingester
  readonly #bySop = new Map<string, Held>()
  readonly #inflight = new Set<Promise<unknown>>()
  /** Set while an exclusive task (fsck) runs: new ingests wait for it. */
  #gate: Promise<void> | undefined
  /** Records that did not open at load; reported by status and fsck, never hidden. */
  readonly unreadable: Array<{ studyId: StudyId, message: string }> = []

  private constructor (archive: Archive) {
    this.archive = archive
    this.#ingester = new Ingester(archive)
  }

  static async load (archive: Archive): Promise<Pacs> {
    const pacs = new Pacs(archive)
    await pacs.#load()
    return pacs
  }

  async #load (): Promise<void> {
    const archive = this.archive
    const pacs = this
    this.#bySop.clear()
    this.unreadable.length = 0
    for await (const [key] of archive.kv.entries(keys.studies)) {
      const studyId = key[1] as StudyId
      try {
        const study = await archive.study(studyId)
        for await (const [instanceKey, value] of archive.kv.entries(keys.instancesOf(studyId))) {
          try {
            pacs.#hold(studyId, openInstanceEntry(archive, study, instanceKey, value))
          } catch (error) {
            if (!(error instanceof IndexDamagedError)) throw error
            pacs.unreadable.push({ studyId, message: error.message })
          }
        }
      } catch (error) {
        if (!(error instanceof IndexDamagedError)) throw error
        pacs.unreadable.push({ studyId, message: error.message })
      }
    }
  }

  /**
   * Runs `task` with no ingest under way and none starting (fsck must not meet a blob whose
   * index record is not yet written), then reloads the catalogue from the index it may have changed.
   */
  async exclusive<T> (task: () => Promise<T>): Promise<T> {
    while (this.#gate !== undefined) await this.#gate
    let open!: () => void
    this.#gate = new Promise<void>((resolve) => { open = resolve })
    try {
      await this.drain()
      return await task()
    } finally {
      await this.#load().catch(() => undefined)
      this.#gate = undefined
      open()
    }
  }

  #hold (studyId: StudyId, entry: InstanceEntry): void {
    this.#bySop.set(entry.attributes.sopInstanceUid, { instance: { ...entry.attributes, studyId }, entry })
  }

  /** An instance indexed by someone else than ingest (the mesh, from a peer's op) joins the catalogue. */
  adopt (studyId: StudyId, entry: InstanceEntry): void {
    this.#hold(studyId, entry)
  }

  /** A new instance joins the catalogue from the entry ingest wrote (not read back: this is the hot path). */
  #remember (result: IngestResult): void {
    if (result.entry !== undefined) this.#hold(result.studyId, result.entry)
  }

  /** One Part 10 instance (STOW-RS part, file); `size` when known in advance. */
  async ingest (source: AsyncIterable<Uint8Array>, size?: number, options?: IngestOptions): Promise<IngestResult> {
    while (this.#gate !== undefined) await this.#gate
    const work = this.#ingester.ingest(source, size, options).then((result) => { this.#remember(result); return result })
    this.#inflight.add(work)
    try {
      return await work
    } finally {
      this.#inflight.delete(work)
    }
  }

  /** Waits for every ingest under way to finish or fail (graceful stop); their sources must end. */
  async drain (): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
  }

  /**
   * A bare dataset as DIMSE delivers it: stored as a Part 10 file whose meta peerpacs writes and
   * whose dataset is exactly the bytes received. `accept` sees the instance's header before
   * anything is claimed (ingest.ts), read by the ingest's own single inspection of the stream.
   */
  async ingestDataset (dataset: AsyncIterable<Uint8Array>, fields: FileMetaFields, accept?: IngestOptions['accept']): Promise<IngestResult> {
    const meta = buildFileMeta(fields)
    async function * withMeta (): AsyncIterable<Uint8Array> {
      yield meta
      yield * dataset
    }
    // The meta is built from the command: it may not stand in for UIDs the dataset lacks.
    return await this.ingest(withMeta(), undefined, { uidsFromFileMeta: false, ...(accept === undefined ? {} : { accept }) })
  }

  /** Every instance held, in no particular order. */
  instances (): IterableIterator<CatalogInstance> {
    return (function * (held: Map<string, Held>) { for (const h of held.values()) yield h.instance })(this.#bySop)
  }

  instance (sopInstanceUid: string): CatalogInstance | undefined {
    return this.#bySop.get(sopInstanceUid)?.instance
  }

  /** The instances of a study, optionally of one series of it. */
  instancesOf (studyInstanceUid: string, seriesInstanceUid?: string): CatalogInstance[] {
    const out: CatalogInstance[] = []
    for (const { instance } of this.#bySop.values()) {
      if (instance.studyInstanceUid === studyInstanceUid && (seriesInstanceUid === undefined || instance.seriesInstanceUid === seriesInstanceUid)) out.push(instance)
    }
    return out.sort((a, b) => (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) || a.seriesInstanceUid.localeCompare(b.seriesInstanceUid) ||
      (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0) || a.sopInstanceUid.localeCompare(b.sopInstanceUid))
  }

  query (level: QueryLevel, matchingKeys: Readonly<Record<string, string>>, options?: QueryOptions): QueryResult {
    return runQuery(this.instances(), level, matchingKeys, options)
  }

  /**
   * The stored Part 10 file, verified as it is read (read-instance.ts): a damaged instance
   * throws before its last piece, so callers must not treat a partial read as the instance.
   */
  async * read (instance: CatalogInstance): AsyncIterable<Uint8Array> {
    const held = this.#bySop.get(instance.sopInstanceUid)
    if (held === undefined) throw new IndexDamagedError(`instance ${instance.sopInstanceUid} is not in the catalogue`)
    const study = await this.archive.study(held.instance.studyId)
    yield * readInstance(this.archive, study, held.entry)
  }
}
