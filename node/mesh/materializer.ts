/**
 * Turns what the log says exists into what this node holds and shows. For every instance the
 * log registers, the blob is either held and indexed, held but not yet indexed (indexed now), or
 * missing (wanted from peers). An instance joins the index and the catalogue only once its blob
 * is here and verified, so a half-received study is never shown as complete (invariant 4); its
 * state is 'partial' until then. A backup indexes blob records only: it holds no key.
 */
import type { BlobId } from '../../protocol/blob-id.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import type { BlobInfo, InstanceState, OrgState, StudyState } from '../../protocol/log/index.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { Archive, StudyContext } from '../archive/archive.ts'
import { blobRecordWrite, instanceFromLog, studyFromLog, type PutOperation } from '../archive/derive-index.ts'
import { keys } from '../archive/index-layout.ts'
import type { Logger } from '../logging/logger.ts'
import type { Pacs } from '../pacs/pacs.ts'

export type StudyHolding = 'local' | 'partial' | 'remote-only'

export interface Want { readonly info: BlobInfo, readonly priority: number }

export class Materializer {
  readonly #archive: Archive
  readonly #pacs: Pacs | undefined
  readonly #log: Logger
  readonly #keyless: () => boolean
  /** Blobs with a blob record: held and indexed. */
  readonly #indexed = new Set<string>()
  readonly #contexts = new Map<StudyId, StudyContext>()
  /** Studies this node cannot open (no key for their epoch yet): retried when epochs are learned. */
  readonly unopened = new Map<StudyId, string>()
  /** Wanted blobs → where the log names them (the instance's key in its study). */
  readonly #wanted = new Map<string, { study: StudyId, instance: string }>()
  /** Blobs fetched and waiting to be indexed in the next batch. */
  readonly #arrived = new Set<string>()
  #queue: Promise<unknown> = Promise.resolve()

  constructor (archive: Archive, pacs: Pacs | undefined, log: Logger, keyless: () => boolean) {
    this.#archive = archive
    this.#pacs = pacs
    this.#log = log
    this.#keyless = keyless
  }

  /** Reads which blobs are indexed; returns every blob the log names that is not here. */
  async start (state: OrgState): Promise<Want[]> {
    for await (const [key] of this.#archive.kv.entries(keys.blobs)) this.#indexed.add(key[1]!)
    return await this.reconcile(state)
  }

  /** Indexes every held blob that is not indexed yet; returns the wants for the missing ones. */
  async reconcile (state: OrgState, studies?: Iterable<StudyId>): Promise<Want[]> {
    return await this.#serial(async () => {
      const wants: Want[] = []
      const list = studies === undefined ? [...state.studies.values()] : [...studies].map((id) => state.studies.get(id)).filter((s) => s !== undefined)
      for (const study of list) {
        for (const instance of study.instances.values()) {
          const id = instance.blob.id
          if (this.#indexed.has(id)) continue
          if (await this.#archive.blobs.size(id as BlobId) === undefined) {
            this.#wanted.set(id, { study: study.id, instance: instance.key })
            wants.push({ info: instance.blob, priority: 0 })
            continue
          }
          await this.#index(study, instance)
        }
      }
      return wants
    })
  }

  /**
   * A blob arrived whole and verified: index the instances of the log that name it. Blobs that
   * arrive while an earlier batch is being written are indexed together, in one synced batch.
   */
  async fetched (state: OrgState, blob: string): Promise<void> {
    this.#arrived.add(blob)
    await this.#serial(async () => {
      const blobs = [...this.#arrived]
      this.#arrived.clear()
      const batch: Prepared[] = []
      const inBatch = { studies: new Set<StudyId>(), sops: new Set<string>() }
      for (const id of blobs) {
        const where = this.#wanted.get(id)
        const study = where === undefined ? undefined : state.studies.get(where.study)
        const instance = where === undefined ? undefined : study?.instances.get(where.instance)
        if (study === undefined || instance === undefined || this.#indexed.has(id)) continue
        this.#wanted.delete(id)
        const prepared = await this.#prepare(study, instance, inBatch)
        if (prepared !== undefined) batch.push(prepared)
      }
      await this.#commit(batch)
    })
  }

  /** Whether every instance of the study is here (per the log), some, or none. */
  holding (study: StudyState): StudyHolding {
    let held = 0
    for (const instance of study.instances.values()) if (this.#indexed.has(instance.blob.id)) held++
    if (held === study.instances.size) return 'local'
    return held === 0 ? 'remote-only' : 'partial'
  }

  isIndexed (blob: string): boolean { return this.#indexed.has(blob) }

  /** This node stored the instance itself (ingest wrote its records with the op). */
  noteLocal (blob: string): void { this.#indexed.add(blob) }

  async #serial<T> (task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return await run
  }

  async #index (study: StudyState, instance: InstanceState): Promise<void> {
    const prepared = await this.#prepare(study, instance, { studies: new Set(), sops: new Set() })
    if (prepared !== undefined) await this.#commit([prepared])
  }

  /** The index writes for one instance (and its study, when new here); undefined when it cannot be opened. */
  async #prepare (study: StudyState, instance: InstanceState, inBatch: { studies: Set<StudyId>, sops: Set<string> }): Promise<Prepared | undefined> {
    const archive = this.#archive
    if (this.#keyless()) return { blob: instance.blob.id, writes: [blobRecordWrite(instance)] }
    const writes: PutOperation[] = []
    try {
      let context = this.#contexts.get(study.id)
      if (context === undefined) {
        if (!inBatch.studies.has(study.id) && await archive.kv.get(keys.study(study.id)) === undefined) {
          const derived = studyFromLog(archive, study)
          context = derived.context
          writes.push(...derived.writes)
          inBatch.studies.add(study.id)
        } else {
          context = inBatch.studies.has(study.id) ? studyFromLog(archive, study).context : await archive.study(study.id)
        }
      }
      const derived = instanceFromLog(archive, context, instance)
      // The same SOP instance stored at two sites: the first copy indexed here stays.
      const taken = inBatch.sops.has(derived.sopLookup) || await archive.kv.get(keys.sop(derived.sopLookup)) !== undefined
      inBatch.sops.add(derived.sopLookup)
      if (taken) writes.push(derived.writes[2]!)
      else writes.push(...derived.writes)
      const known = context
      return {
        blob: instance.blob.id,
        writes,
        done: () => {
          this.#contexts.set(study.id, known)
          this.unopened.delete(study.id)
          if (!taken) this.#pacs?.adopt(study.id, derived.entry)
        }
      }
    } catch (error) {
      if (!(error instanceof PeerpacsError)) throw error
      if (!this.unopened.has(study.id)) this.#log.warn('mesh.study.unopened', { studyId: study.id, message: error.message })
      this.unopened.set(study.id, error.message)
      return undefined
    }
  }

  async #commit (batch: readonly Prepared[]): Promise<void> {
    if (batch.length === 0) return
    await this.#archive.kv.batch(batch.flatMap((p) => p.writes))
    for (const p of batch) {
      this.#indexed.add(p.blob)
      p.done?.()
    }
  }
}

interface Prepared {
  readonly blob: string
  readonly writes: PutOperation[]
  readonly done?: () => void
}
