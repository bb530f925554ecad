/**
 * A study's instances as the state holds them: per op, not per instance. A study.instances op
 * names up to 1000 instances; keeping one record per op (its blob list is the op body's own)
 * instead of an object and a key string per instance saves a few hundred bytes of memory per
 * instance, which at a site's millions of instances is the difference that matters. Reads see
 * a ReadonlyMap of instanceKey → InstanceState, whose values are made as they are read.
 */
import type { NodeId } from '../identity.ts'
import type { BlobInfo } from './body-content.ts'
import type { OpIdHex } from './op.ts'
import { instanceKey, type InstanceState } from './state.ts'

interface InstanceOp {
  readonly op: OpIdHex
  readonly author: NodeId
  /** -1 for a one-instance study.instance op, else 0 (its instances are 0..blobs.length-1). */
  readonly single: boolean
  readonly blobs: readonly BlobInfo[]
  readonly sealed: Uint8Array
}

export class StudyInstances implements ReadonlyMap<string, InstanceState> {
  readonly #ops = new Map<OpIdHex, InstanceOp>()
  #size = 0

  /** Adds the instances of one op (a study.instance op: `single`, one blob). */
  addOp (op: OpIdHex, author: NodeId, blobs: readonly BlobInfo[], sealed: Uint8Array, single: boolean): void {
    if (this.#ops.has(op)) return
    this.#ops.set(op, { op, author, single, blobs, sealed })
    this.#size += blobs.length
  }

  get size (): number { return this.#size }

  get (key: string): InstanceState | undefined {
    const slash = key.indexOf('/')
    const record = this.#ops.get((slash < 0 ? key : key.slice(0, slash)) as OpIdHex)
    if (record === undefined || record.single !== (slash < 0)) return undefined
    const index = slash < 0 ? -1 : Number(key.slice(slash + 1))
    if (!record.single && (!Number.isInteger(index) || index < 0 || index >= record.blobs.length || key !== instanceKey(record.op, index))) return undefined
    return stateOf(record, index)
  }

  has (key: string): boolean { return this.get(key) !== undefined }

  * values (): MapIterator<InstanceState> {
    for (const record of this.#ops.values()) {
      if (record.single) yield stateOf(record, -1)
      else for (let i = 0; i < record.blobs.length; i++) yield stateOf(record, i)
    }
  }

  * keys (): MapIterator<string> {
    for (const value of this.values()) yield value.key
  }

  * entries (): MapIterator<[string, InstanceState]> {
    for (const value of this.values()) yield [value.key, value]
  }

  [Symbol.iterator] (): MapIterator<[string, InstanceState]> { return this.entries() }

  forEach (callback: (value: InstanceState, key: string, map: ReadonlyMap<string, InstanceState>) => void, thisArg?: unknown): void {
    for (const value of this.values()) callback.call(thisArg, value, value.key, this)
  }
}

function stateOf (record: InstanceOp, index: number): InstanceState {
  return {
    key: instanceKey(record.op, index),
    op: record.op,
    index,
    author: record.author,
    blob: record.blobs[index < 0 ? 0 : index]!,
    sealed: record.sealed,
    opBlobs: record.blobs
  }
}
