/**
 * Writes the `study.instances` ops of instances stored here (docs/protocol.md "Instances"): one
 * op per study and burst of arrivals instead of one op per instance, so the log grows by about a
 * hundred bytes per instance, not a kilobyte and a half.
 *
 * Ingest stays as durable as before: an instance is acknowledged once its blob, its index records
 * and an `unlogged` marker (store/key-space.ts) are written with sync. The marker says "its op is
 * still to be written". The batcher writes the op when the study has been quiet for `lingerMs`,
 * or when `maxPerOp` instances wait, in one batch with the removal of the markers it covers; so
 * a crash between the two leaves markers, and the next open writes their op (`flushAll`). Only
 * then do peers learn of the instances: replication starts at the end of a burst, not per instance.
 */
import { InvalidArgumentError } from '../../protocol/errors.ts'
import { MAX_BATCH_INSTANCES } from '../../protocol/log/index.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { Logger } from '../logging/logger.ts'
import type { KvKey, KvOperation } from '../store/kv.ts'
import type { Archive } from './archive.ts'
import { openInstanceEntry } from './catalogue.ts'
import { decodeBlobRecord, keys, type InstanceAttributes } from './index-layout.ts'
import { sealInstanceList } from './instance-list.ts'
import type { BlobDigest } from '../../protocol/blob-id.ts'

export interface InstanceBatcherOptions {
  /** Quiet time after a study's last arrival before its op is written (default 250 ms). */
  readonly lingerMs?: number
  /** Most instances per op (default and at most MAX_BATCH_INSTANCES). */
  readonly maxPerOp?: number
}

interface Unlogged { readonly marker: KvKey, readonly attributes: InstanceAttributes, readonly digest: BlobDigest }

export class InstanceBatcher {
  readonly #archive: Archive
  readonly #logger: () => Logger
  readonly #lingerMs: number
  readonly #maxPerOp: number
  readonly #timers = new Map<StudyId, NodeJS.Timeout>()
  readonly #waiting = new Map<StudyId, number>()
  #queue: Promise<unknown> = Promise.resolve()

  constructor (archive: Archive, logger: () => Logger, options: InstanceBatcherOptions = {}) {
    this.#archive = archive
    this.#logger = logger
    this.#lingerMs = options.lingerMs ?? 250
    this.#maxPerOp = Math.min(options.maxPerOp ?? MAX_BATCH_INSTANCES, MAX_BATCH_INSTANCES)
  }

  /** An instance of `study` was stored with its marker: its op follows when the study is quiet. */
  noted (study: StudyId): void {
    const waiting = (this.#waiting.get(study) ?? 0) + 1
    this.#waiting.set(study, waiting)
    clearTimeout(this.#timers.get(study))
    if (waiting >= this.#maxPerOp) {
      this.#timers.delete(study)
      this.#background(study)
      return
    }
    const timer = setTimeout(() => { this.#timers.delete(study); this.#background(study) }, this.#lingerMs)
    timer.unref()
    this.#timers.set(study, timer)
  }

  #background (study: StudyId): void {
    this.flush(study).catch((error: unknown) => {
      // The markers stay: the next burst, flushAll or the next open writes the op.
      this.#logger().warn('log.instances.deferred', { studyId: study, error: error instanceof Error ? error.message : String(error) })
    })
  }

  /** Writes the ops of every unlogged instance of `study`; resolves with how many instances they name. */
  async flush (study: StudyId): Promise<number> {
    return await this.#serial(async () => await this.#flushStudy(study))
  }

  /** Writes the ops of every unlogged instance of every study (at open, at close, before fsck). */
  async flushAll (): Promise<number> {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    return await this.#serial(async () => {
      const studies = new Set<StudyId>()
      for await (const [key] of this.#archive.kv.entries(keys.unloggedAll)) studies.add(key[1] as StudyId)
      let n = 0
      for (const study of studies) n += await this.#flushStudy(study)
      return n
    })
  }

  async #serial<T> (task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return await run
  }

  async #flushStudy (study: StudyId): Promise<number> {
    this.#waiting.delete(study)
    const archive = this.#archive
    const context = await archive.study(study)
    let chunk: Unlogged[] = []
    let written = 0
    const stale: KvOperation[] = []
    for await (const [marker] of archive.kv.entries(keys.unloggedOf(study))) {
      const instanceKey = keys.instance(study, marker[2]!)
      const record = await archive.kv.get(instanceKey)
      if (record === undefined) { stale.push({ type: 'del', key: marker }); continue }
      const entry = openInstanceEntry(archive, context, instanceKey, record)
      const blobRecord = await archive.kv.get(keys.blob(entry.blob))
      if (blobRecord === undefined) { stale.push({ type: 'del', key: marker }); continue }
      chunk.push({ marker, attributes: entry.attributes, digest: decodeBlobRecord(entry.blob, blobRecord) })
      if (chunk.length === this.#maxPerOp) {
        written += await this.#write(study, chunk)
        chunk = []
      }
    }
    if (chunk.length > 0) written += await this.#write(study, chunk)
    if (stale.length > 0) await archive.kv.batch(stale)
    return written
  }

  /** One op for `chunk` with the removal of its markers; halves a chunk whose op would be too large. */
  async #write (study: StudyId, chunk: readonly Unlogged[]): Promise<number> {
    const archive = this.#archive
    const context = await archive.study(study)
    const log = await archive.log()
    const blockSizes = new Set(chunk.map((u) => u.digest.blockSize))
    if (blockSizes.size > 1 && chunk.length > 1) {
      let n = 0
      for (const size of blockSizes) n += await this.#write(study, chunk.filter((u) => u.digest.blockSize === size))
      return n
    }
    let prepared
    try {
      prepared = log.prepare('study.instances', {
        study,
        blobs: chunk.map((u) => u.digest),
        sealed: sealInstanceList(archive.provider, archive.random, context.recordKey, archive.keyring.orgId, study, chunk.map((u) => u.attributes))
      })
    } catch (error) {
      if (!(error instanceof InvalidArgumentError) || chunk.length === 1) throw error
      const half = Math.ceil(chunk.length / 2)
      return await this.#write(study, chunk.slice(0, half)) + await this.#write(study, chunk.slice(half))
    }
    try {
      await archive.kv.batch([prepared.write, ...chunk.map((u): KvOperation => ({ type: 'del', key: u.marker }))])
    } catch (error) {
      prepared.failed(error)
      throw error
    }
    return chunk.length
  }
}
