/**
 * The running node's view of its archive, shared by every edge (DIMSE, DICOMweb, the control
 * API): ingest from a Part 10 stream or from a bare dataset (C-STORE), queries, and verified
 * reads. Memory holds only the compact study-level index (query/study-index.ts), built at start
 * from the study records and their summary records (study-summary.ts: no instance record is
 * opened unless a summary is missing or stale) and kept current by each ingest and by the mesh
 * (`adopt`), which also bring the summaries up to date; series and instances are read from the
 * index on disk, one study at a time, when asked for. The index on disk stays the truth.
 */
import { utf8Decode } from '../../protocol/bytes.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { Archive } from '../archive/archive.ts'
import { openInstanceEntry, type InstanceEntry } from '../archive/catalogue.ts'
import { IndexDamagedError } from '../archive/errors.ts'
import { keys, studyAttributesOf } from '../archive/index-layout.ts'
import { Ingester, type IngestOptions, type IngestResult } from '../archive/ingest.ts'
import { readInstance } from '../archive/read-instance.ts'
import { buildFileMeta, type FileMetaFields } from '../dicom/file-meta-writer.ts'
import type { CatalogInstance, QueryLevel, StudyEntry } from '../query/attributes.ts'
import { runQuery, type QueryOptions, type QueryResult, type QuerySource } from '../query/query.ts'
import { StudyIndex, type InstanceFacts } from '../query/study-index.ts'
import type { KvOperation } from '../store/kv.ts'
import { readSnapshot, writeSnapshot } from './index-snapshot.ts'
import { FactsBuilder, readSummary, summarise, summaryWrite } from './study-summary.ts'

/** Studies opened in parallel at load. */
const LOAD_BATCH = 64

function catalogInstance (studyId: StudyId, entry: InstanceEntry): CatalogInstance {
  return { ...entry.attributes, storedIn: studyId }
}

/** Series by number then UID, instances by number then UID: the order WADO and retrieves send in. */
function byPosition (a: CatalogInstance, b: CatalogInstance): number {
  return (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) || a.seriesInstanceUid.localeCompare(b.seriesInstanceUid) ||
    (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0) || a.sopInstanceUid.localeCompare(b.sopInstanceUid)
}

export class Pacs {
  readonly archive: Archive
  readonly #ingester: Ingester
  readonly #index = new StudyIndex()
  readonly #source: QuerySource
  readonly #inflight = new Set<Promise<unknown>>()
  /** Instances added to each study since its summary record was last written. */
  readonly #unsummarised = new Map<StudyId, InstanceFacts[]>()
  /** The summary write under way for a study (one at a time per study). */
  readonly #summarising = new Map<StudyId, Promise<void>>()
  /** Set while an exclusive task (fsck) runs: new ingests wait for it. */
  #gate: Promise<void> | undefined
  /** Records that did not open at load; reported by status and fsck, never hidden. */
  readonly unreadable: Array<{ studyId: StudyId, message: string }> = []

  private constructor (archive: Archive) {
    this.archive = archive
    this.#ingester = new Ingester(archive)
    this.#source = {
      studies: this.#index,
      instancesOf: async (entry) => await this.#instancesOf(entry.storedIn),
      studyOfInstance: async (uid) => await this.#studyOfInstance(uid)
    }
  }

  static async load (archive: Archive): Promise<Pacs> {
    const pacs = new Pacs(archive)
    await pacs.#load()
    return pacs
  }

  /**
   * Builds the study index: the instance records are counted in one scan (no record is opened);
   * a study the index snapshot holds with that many instances is taken from it (index-snapshot.ts);
   * the others are opened a batch at a time, in parallel, with their summaries, and a study whose
   * summary is missing or does not cover its records is summarised from them again. The snapshot
   * is rewritten when any study had to be opened.
   */
  async #load (): Promise<void> {
    const archive = this.archive
    this.#index.clear()
    this.#unsummarised.clear()
    this.unreadable.length = 0
    const records = new Map<StudyId, number>()
    for await (const [key] of archive.kv.entries(keys.instances)) {
      const id = key[1] as StudyId
      records.set(id, (records.get(id) ?? 0) + 1)
    }
    const snapshot = await readSnapshot(archive)
    let taken = 0
    let opened = 0
    let batch: StudyId[] = []
    // Summaries made again are written with their batch: one synced write per study would be slow.
    const flush = async (): Promise<void> => {
      const writes = (await Promise.all(batch.map(async (id) => await this.#loadStudy(id, records.get(id) ?? 0)))).filter((w) => w !== undefined)
      if (writes.length > 0) await archive.kv.batch(writes)
      batch = []
    }
    for await (const [key] of archive.kv.entries(keys.studies)) {
      const studyId = key[1] as StudyId
      const held = snapshot.get(studyId)
      if (held !== undefined && held.facts.instances === (records.get(studyId) ?? 0)) {
        taken++
        if (held.facts.instances > 0) this.#index.addStudy(studyId, held.attributes, held.facts)
        continue
      }
      opened++
      batch.push(studyId)
      if (batch.length >= LOAD_BATCH) await flush()
    }
    await flush()
    if (opened > 0 || taken !== snapshot.size) {
      const studies = [...this.#index.entries()].map((e) => ({ studyId: e.storedIn, attributes: e.attributes, facts: this.#index.facts(e.storedIn)! }))
      await writeSnapshot(archive, studies)
    }
  }

  /** One study into the index; returns its summary's write when it had to be made again. */
  async #loadStudy (studyId: StudyId, records: number): Promise<KvOperation | undefined> {
    try {
      const study = await this.archive.study(studyId)
      let facts = await readSummary(this.archive, study)
      let write: KvOperation | undefined
      if (facts === undefined || facts.instances !== records) {
        const made = await summarise(this.archive, study)
        for (const message of made.unreadable) this.unreadable.push({ studyId, message })
        facts = made.facts
        if (made.unreadable.length === 0) write = summaryWrite(this.archive, study, facts)
      }
      if (facts.instances > 0) this.#index.addStudy(studyId, study.attributes, facts)
      return write
    } catch (error) {
      if (!(error instanceof IndexDamagedError)) throw error
      this.unreadable.push({ studyId, message: error.message })
      return undefined
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
    const held = this.#index.byId(studyId)
    this.#index.addInstance(studyId, held?.attributes ?? studyAttributesOf(entry.attributes), entry.attributes)
    const pending = this.#unsummarised.get(studyId)
    if (pending === undefined) this.#unsummarised.set(studyId, [entry.attributes])
    else pending.push(entry.attributes)
    if (!this.#summarising.has(studyId)) this.#summarise(studyId)
  }

  /**
   * Brings a study's summary record up to date with the instances added since it was written,
   * one write at a time per study (a burst of ingests is folded into few writes). A failed write
   * only costs the next start a summary made again from the records.
   */
  #summarise (studyId: StudyId): void {
    const work = (async () => {
      for (let added = this.#unsummarised.get(studyId); added !== undefined; added = this.#unsummarised.get(studyId)) {
        this.#unsummarised.delete(studyId)
        const study = await this.archive.study(studyId)
        const stored = await readSummary(this.archive, study)
        let facts
        if (stored === undefined) {
          facts = (await summarise(this.archive, study)).facts
        } else {
          const builder = new FactsBuilder(stored)
          for (const instance of added) builder.add(instance)
          facts = builder.facts()
        }
        await this.archive.kv.batch([summaryWrite(this.archive, study, facts)])
      }
    })().catch(() => { this.#unsummarised.delete(studyId) }).finally(() => {
      this.#summarising.delete(studyId)
      this.#inflight.delete(work)
      // An instance added between the last look and now is summarised by a new round.
      if (this.#unsummarised.has(studyId)) this.#summarise(studyId)
    })
    this.#summarising.set(studyId, work)
    this.#inflight.add(work)
  }

  /** An instance indexed by someone else than ingest (the mesh, from a peer's op) joins the study index. */
  adopt (studyId: StudyId, entry: InstanceEntry): void {
    this.#hold(studyId, entry)
  }

  /** A new instance joins the study index from the entry ingest wrote (not read back: this is the hot path). */
  #remember (result: IngestResult): void {
    // A copy that replaced a damaged stored one is the same instance, already counted.
    if (result.entry !== undefined && result.replaced === undefined) this.#hold(result.studyId, result.entry)
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

  /** Studies and instances held (for status). */
  get studyCount (): number { return this.#index.studyCount }
  get instanceCount (): number { return this.#index.instanceCount }

  /** Transfer syntax → instances stored, for one SOP class (what a C-GET's syntax choice weighs). */
  storedSyntaxCounts (sopClassUid: string): ReadonlyMap<string, number> {
    return this.#index.syntaxCounts(sopClassUid)
  }

  /** Every study's compact entry, in no particular order. */
  studies (): readonly StudyEntry[] { return this.#index.entries() }

  /** Every instance, read from the index on disk one study at a time (fsck-like walks, tests). */
  async * everyInstance (): AsyncIterable<CatalogInstance> {
    for (const entry of [...this.#index.entries()]) yield * await this.#instancesOf(entry.storedIn)
  }

  /** A study's compact entry, by its StudyInstanceUID. */
  study (studyInstanceUid: string): StudyEntry | undefined {
    return this.#index.byUid(studyInstanceUid)
  }

  /** One instance by its SOP Instance UID, read from the index on disk (the SOP lookup names its study). */
  async findInstance (sopInstanceUid: string): Promise<CatalogInstance | undefined> {
    const studyId = await this.#studyOfInstance(sopInstanceUid)
    if (studyId === undefined) return undefined
    const sopLookup = this.archive.lookup('sop', sopInstanceUid)
    const key = keys.instance(studyId, sopLookup)
    const bytes = await this.archive.kv.get(key)
    if (bytes === undefined) return undefined
    try {
      return catalogInstance(studyId, openInstanceEntry(this.archive, await this.archive.study(studyId), key, bytes))
    } catch (error) {
      if (!(error instanceof IndexDamagedError)) throw error
      return undefined
    }
  }

  /** The instances of a study, optionally of one series of it, in series and instance order. */
  async instancesOf (studyInstanceUid: string, seriesInstanceUid?: string): Promise<CatalogInstance[]> {
    const entry = this.#index.byUid(studyInstanceUid)
    if (entry === undefined) return []
    if (seriesInstanceUid !== undefined && !entry.series.includes(seriesInstanceUid)) return []
    const all = await this.#instancesOf(entry.storedIn)
    return seriesInstanceUid === undefined ? all : all.filter((i) => i.seriesInstanceUid === seriesInstanceUid)
  }

  async query (level: QueryLevel, matchingKeys: Readonly<Record<string, string>>, options?: QueryOptions): Promise<QueryResult> {
    return await runQuery(this.#source, level, matchingKeys, options)
  }

  async #studyOfInstance (sopInstanceUid: string): Promise<StudyId | undefined> {
    const bytes = await this.archive.kv.get(keys.sop(this.archive.lookup('sop', sopInstanceUid)))
    return bytes === undefined ? undefined : utf8Decode(bytes) as StudyId
  }

  /** Every instance record of a study that opens, in series and instance order (damaged ones are left out: fsck names them). */
  async #instancesOf (studyId: StudyId): Promise<CatalogInstance[]> {
    let study
    try {
      study = await this.archive.study(studyId)
    } catch (error) {
      if (!(error instanceof IndexDamagedError)) throw error
      return []
    }
    const out: CatalogInstance[] = []
    for await (const [key, value] of this.archive.kv.entries(keys.instancesOf(studyId))) {
      try {
        out.push(catalogInstance(studyId, openInstanceEntry(this.archive, study, key, value)))
      } catch (error) {
        if (!(error instanceof IndexDamagedError)) throw error
      }
    }
    return out.sort(byPosition)
  }

  /**
   * The stored Part 10 file, verified as it is read (read-instance.ts): a damaged instance
   * throws before its last piece, so callers must not treat a partial read as the instance.
   */
  async * read (instance: CatalogInstance): AsyncIterable<Uint8Array> {
    const study = await this.archive.study(instance.storedIn)
    yield * readInstance(this.archive, study, { lookup: '', blob: instance.blob, attributes: instance })
  }
}
