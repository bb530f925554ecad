/**
 * The first phase of an ingest (ingest.ts): receive, inspect, claim. Each piece of the stream
 * goes once through the Part 10 inspector and the plaintext hash. As soon as the header has been
 * read, `accept` checks it and the claim is asked for (the index is read under the instance's
 * lock) while reading goes on; pieces arriving meanwhile are held, up to MAX_HELD, then:
 * - for a new instance (or one replacing a damaged copy), sealed in order (STREAM) into a new
 *   blob writer, and every later piece straight after them;
 * - for an instance already stored, hashed as a dataset and kept (ArrivingCopy) for the
 *   duplicate-or-conflict decision.
 * Nothing here writes the index; a failure aborts the blob being written.
 */
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'
import { StreamSealer } from '../../protocol/aead-stream.ts'
import type { Hasher } from '../../protocol/crypto-provider.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'
import { Part10Inspector, type InspectOptions } from '../dicom/part10-inspector.ts'
import type { BlobWriter } from '../store/blob-store.ts'
import type { Archive, StudyContext } from './archive.ts'
import type { InstanceEntry } from './catalogue.ts'
import { DatasetHasher } from './dataset-digest.ts'

/** How much of an instance may wait in memory for its claim before reading pauses. */
const MAX_HELD = 4 << 20

/** Copies up to this size are compared value by value when their bytes differ (both are held then). */
export const MAX_COMPARED = 64 << 20

export interface Recorded { sha256: Uint8Array, size: number, blob: BlobId }

/** A new instance, or (with `damaged`) one whose stored copy is damaged and will be replaced. */
export interface StoreClaim { kind: 'store', study: StudyContext, sopLookup: string, damaged?: Recorded }
/** Stored and intact: compare, store nothing. */
export interface ExistingClaim { kind: 'existing', studyId: StudyId, recorded: Recorded, study: StudyContext, entry: InstanceEntry }
export type Claim = StoreClaim | ExistingClaim

/** The claim and the release of the instance's lock. */
export type Claimer = (header: InstanceHeader) => Promise<{ claim: Claim, release: () => void }>

/** The whole instance, read, checked and hashed, with its claim. */
export interface Received {
  readonly header: InstanceHeader
  readonly size: number
  readonly sha256: Uint8Array
  readonly claim: Claim
}

/**
 * A copy of an instance already stored, as it arrives: its dataset hashed (its file may differ
 * from the stored one), and its bytes kept while they are few enough to compare value by value.
 */
export class ArrivingCopy {
  readonly dataset: DatasetHasher
  #pieces: Uint8Array[] | undefined = []
  #bytes = 0

  constructor (archive: Archive) { this.dataset = new DatasetHasher(archive.provider) }

  push (piece: Uint8Array): void {
    this.dataset.push(piece)
    if (this.#pieces === undefined) return
    this.#bytes += piece.length
    if (this.#bytes > MAX_COMPARED) this.#pieces = undefined
    else this.#pieces.push(piece)
  }

  /** The copy's bytes, or undefined once it outgrew MAX_COMPARED. */
  get pieces (): Uint8Array[] | undefined { return this.#pieces }
}

export class Reception {
  readonly #archive: Archive
  readonly #claimer: Claimer
  readonly #accept: ((header: InstanceHeader) => void) | undefined
  readonly #inspector: Part10Inspector
  readonly #plainHash: Hasher
  #held: Uint8Array[] = []
  #heldBytes = 0
  #deciding: Promise<void> | undefined
  #failed: { error: unknown } | undefined
  #claim: Claim | undefined
  #release: (() => void) | undefined
  /** Set only once nothing is held any more: from then on pieces are sealed as they come. */
  #sealer: StreamSealer | undefined
  #writer: BlobWriter | undefined
  #copy: ArrivingCopy | undefined

  constructor (archive: Archive, claimer: Claimer, size: number | undefined, options: InspectOptions & { accept?: (header: InstanceHeader) => void } = {}) {
    this.#archive = archive
    this.#claimer = claimer
    this.#accept = options.accept
    this.#inspector = new Part10Inspector(size, options)
    this.#plainHash = archive.provider.createSha256()
  }

  /** The copy of an instance already stored (an `existing` claim), as received. */
  get copy (): ArrivingCopy | undefined { return this.#copy }

  /** Takes the next piece of the stream. */
  async take (chunk: Uint8Array): Promise<void> {
    if (this.#failed !== undefined) throw this.#failed.error
    this.#inspector.push(chunk)
    this.#plainHash.update(chunk)
    if (this.#sealer !== undefined) {
      for (const sealed of this.#sealer.push(chunk)) await this.#writer!.write(sealed)
    } else if (this.#claim === undefined) {
      await this.#hold(chunk)
    } else {
      this.#copy?.push(chunk)
    }
  }

  /** At the end of the stream: throws unless it was a whole, well-formed instance. */
  async end (): Promise<Received> {
    if (this.#deciding !== undefined) await this.#deciding
    const header = this.#inspector.finish()
    const size = this.#inspector.received
    if (this.#claim === undefined) {
      this.#accept?.(header)
      await this.#decide(header)
    }
    return { header, size, sha256: this.#plainHash.digest(), claim: this.#claim! }
  }

  /** The sealed blob completed and made durable (a `store` claim). */
  async commit (): Promise<BlobDigest> {
    for (const sealed of this.#sealer!.finishParts()) await this.#writer!.write(sealed)
    const digest = await this.#writer!.commit()
    this.#writer = undefined
    return digest
  }

  /** After a failure: a claim still under way settles first (it may yet open a writer), then the blob is dropped. */
  async abort (): Promise<void> {
    await this.#deciding?.catch(() => {})
    await this.#writer?.abort()
  }

  /** Frees the instance's lock, if the claim took it. */
  release (): void { this.#release?.() }

  async #hold (chunk: Uint8Array): Promise<void> {
    this.#held.push(chunk)
    this.#heldBytes += chunk.length
    const header = this.#inspector.header
    if (this.#deciding === undefined && header !== undefined) {
      this.#accept?.(header)
      this.#deciding = this.#decide(header)
      this.#deciding.catch((error: unknown) => { this.#failed = { error } })
    }
    // Memory stays bounded when the claim is slow (a concurrent copy of this instance holds it).
    if (this.#deciding !== undefined && this.#heldBytes >= MAX_HELD) await this.#deciding
  }

  /** Runs while the stream goes on being read: pieces arriving meanwhile join `#held`, drained here in order. */
  async #decide (header: InstanceHeader): Promise<void> {
    const decided = await this.#claimer(header)
    this.#release = decided.release
    if (decided.claim.kind === 'store') {
      const archive = this.#archive
      const sealer = new StreamSealer({ dataKey: decided.claim.study.dataKey, provider: archive.provider, random: archive.random })
      this.#writer = await archive.blobs.create()
      await this.#writer.write(sealer.header)
      while (this.#held.length > 0) {
        const piece = this.#held.shift()!
        for (const sealed of sealer.push(piece)) await this.#writer.write(sealed)
      }
      this.#sealer = sealer
    } else {
      this.#copy = new ArrivingCopy(this.#archive)
      for (const piece of this.#held) this.#copy.push(piece)
    }
    this.#claim = decided.claim
    this.#held = []
    this.#heldBytes = 0
  }
}
