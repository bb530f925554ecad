/**
 * Takes one DICOM Part 10 instance from a byte stream into the archive, in one pass and bounded
 * memory: the structure is checked and the plaintext hashed as bytes arrive; once the header has
 * gone by, the instance's study is known and the bytes are sealed (STREAM) straight into a blob
 * writer. Nothing is acknowledged until the blob is fsynced and the index batch that names it
 * is written with sync, so an instance reported stored survives kill -9. A stream that turns out
 * malformed leaves nothing behind.
 *
 * The same SOPInstanceUID again is a duplicate when its bytes are identical, and a conflict
 * (rejected, the stored one kept) when they differ: nothing stored is ever silently replaced.
 */
import { StreamSealer } from '../../protocol/aead-stream.ts'
import type { BlobId } from '../../protocol/blob-id.ts'
import { equalBytes, utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { Part10Inspector } from '../dicom/part10-inspector.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'
import type { BlobWriter } from '../store/blob-store.ts'
import type { KvOperation } from '../store/kv.ts'
import type { Archive, StudyContext } from './archive.ts'
import { InstanceConflictError } from './errors.ts'
import {
  decodeInstanceAttributes, decodeInstanceRecord, encodeBlobRecord, encodeInstanceAttributes, encodeInstanceRecord,
  keys, studyAttributesOf
} from './index-layout.ts'

export interface IngestResult {
  readonly status: 'imported' | 'duplicate'
  readonly studyId: StudyId
  readonly studyInstanceUid: string
  readonly sopInstanceUid: string
  readonly blob: BlobId
  readonly size: number
}

type Claim =
  | { kind: 'new', study: StudyContext, sopLookup: string }
  | { kind: 'existing', studyId: StudyId, sha256: Uint8Array, size: number, blob: BlobId }

export class Ingester {
  readonly #archive: Archive
  /** SOP lookups being ingested now: a second copy waits, then meets the first as a duplicate. */
  readonly #inFlight = new Map<string, Promise<void>>()

  constructor (archive: Archive) { this.#archive = archive }

  async ingest (source: AsyncIterable<Uint8Array>, size: number): Promise<IngestResult> {
    const archive = this.#archive
    const inspector = new Part10Inspector(size)
    const plainHash = archive.provider.createSha256()
    let held: Uint8Array[] = []
    let claim: Claim | undefined
    let release: (() => void) | undefined
    let sealer: StreamSealer | undefined
    let writer: BlobWriter | undefined

    const decide = async (header: InstanceHeader): Promise<void> => {
      ({ claim, release } = await this.#claim(header))
      if (claim.kind === 'new') {
        sealer = new StreamSealer({ dataKey: claim.study.dataKey, provider: archive.provider, random: archive.random })
        writer = await archive.blobs.create()
        await writer.write(sealer.header)
        for (const piece of held) for (const sealed of sealer.push(piece)) await writer.write(sealed)
      }
      held = []
    }

    try {
      for await (const chunk of source) {
        inspector.push(chunk)
        plainHash.update(chunk)
        if (sealer !== undefined) {
          for (const sealed of sealer.push(chunk)) await writer!.write(sealed)
        } else if (claim === undefined) {
          held.push(chunk)
          if (inspector.header !== undefined) await decide(inspector.header)
        }
      }
      const header = inspector.finish()
      if (claim === undefined) await decide(header)
      const sha256 = plainHash.digest()
      const decided = claim!
      if (decided.kind === 'existing') {
        if (decided.size === size && equalBytes(decided.sha256, sha256)) {
          return { status: 'duplicate', studyId: decided.studyId, studyInstanceUid: header.studyInstanceUid, sopInstanceUid: header.sopInstanceUid, blob: decided.blob, size }
        }
        throw new InstanceConflictError(`SOPInstanceUID ${header.sopInstanceUid} is already stored with different content; the stored instance was kept`)
      }
      await writer!.write(sealer!.finish())
      const digest = await writer!.commit()
      writer = undefined
      const study = decided.study
      const instanceKey = keys.instance(study.studyId, decided.sopLookup)
      const attributes = encodeInstanceAttributes({ ...header, size, sha256 })
      const operations: KvOperation[] = [
        { type: 'put', key: keys.blob(digest.id), value: encodeBlobRecord(digest) },
        { type: 'put', key: instanceKey, value: encodeInstanceRecord({ blob: digest.id, sealedAttributes: archive.sealRecord(study, instanceKey, attributes) }) },
        { type: 'put', key: keys.sop(decided.sopLookup), value: utf8Encode(study.studyId) },
        ...(study.pendingCreation ?? [])
      ]
      await archive.kv.batch(operations)
      study.pendingCreation = undefined
      return { status: 'imported', studyId: study.studyId, studyInstanceUid: header.studyInstanceUid, sopInstanceUid: header.sopInstanceUid, blob: digest.id, size }
    } catch (error) {
      await writer?.abort()
      throw error
    } finally {
      release?.()
    }
  }

  async #claim (header: InstanceHeader): Promise<{ claim: Claim, release: () => void }> {
    const archive = this.#archive
    const sopLookup = archive.lookup('sop', header.sopInstanceUid)
    for (let busy = this.#inFlight.get(sopLookup); busy !== undefined; busy = this.#inFlight.get(sopLookup)) await busy
    let release!: () => void
    this.#inFlight.set(sopLookup, new Promise<void>((resolve) => { release = resolve }))
    const done = (): void => { this.#inFlight.delete(sopLookup); release() }
    try {
      const stored = await archive.kv.get(keys.sop(sopLookup))
      if (stored !== undefined) {
        const study = await archive.study(utf8Decode(stored) as StudyId)
        const instanceKey = keys.instance(study.studyId, sopLookup)
        const recordBytes = await archive.kv.get(instanceKey)
        if (recordBytes !== undefined) {
          const record = decodeInstanceRecord(recordBytes)
          const attributes = decodeInstanceAttributes(archive.openRecord(study, instanceKey, record.sealedAttributes))
          return { claim: { kind: 'existing', studyId: study.studyId, sha256: attributes.sha256, size: attributes.size, blob: record.blob }, release: done }
        }
      }
      return { claim: { kind: 'new', study: await archive.studyFor(studyAttributesOf(header)), sopLookup }, release: done }
    } catch (error) {
      done()
      throw error
    }
  }
}
