/**
 * Takes one DICOM Part 10 instance from a byte stream into the archive, in one pass and bounded
 * memory: the structure is checked and the plaintext hashed as bytes arrive; once the header has
 * gone by, the instance's study is known and the bytes are sealed (STREAM) straight into a blob
 * writer. Nothing is acknowledged until the blob is fsynced and the index batch that names it
 * is written with sync, so an instance reported stored survives kill -9. A stream that turns out
 * malformed leaves nothing behind.
 *
 * The same SOPInstanceUID again is a duplicate when its dataset is identical and the stored copy
 * is intact; a conflict (rejected, the stored one kept) when the datasets differ: nothing stored
 * is ever silently replaced. Identity is the dataset's (dataset-digest.ts), not the file's: the
 * same instance re-sent from another AE, or over DIMSE after STOW, has another file meta
 * (Source AE Title, implementation) and is still a duplicate. A whole-file match is decided from
 * the recorded hash; only a copy whose file differs has its dataset compared with the stored
 * copy's, decrypted for that. When the stored copy is damaged, identical bytes replace it, so
 * re-sending the original heals the archive.
 */
import { StreamSealer } from '../../protocol/aead-stream.ts'
import type { BlobId } from '../../protocol/blob-id.ts'
import { concatBytes, equalBytes, utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import { AuthenticationError, DecodeError, IntegrityError, NotCanonicalError, PeerpacsError } from '../../protocol/errors.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { Part10Inspector, type InspectOptions } from '../dicom/part10-inspector.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'
import { sameInstanceContent } from '../dicom/same-content.ts'
import type { BlobWriter } from '../store/blob-store.ts'
import type { KvKey, KvOperation } from '../store/kv.ts'
import { readVerified } from '../store/verified-read.ts'
import type { Archive, StudyContext } from './archive.ts'
import { openInstanceEntry, type InstanceEntry } from './catalogue.ts'
import { datasetDigestOf, DatasetHasher, type DatasetDigest } from './dataset-digest.ts'
import { readInstance } from './read-instance.ts'
import { IndexDamagedError, InstanceConflictError } from './errors.ts'
import { instanceManifestAad } from './study-keys.ts'
import { secretboxSeal } from '../../protocol/secretbox.ts'
import type { PreparedOp } from '../log/node-log.ts'
import { decodeBlobRecord, encodeBlobRecord, encodeInstanceAttributes, encodeInstanceRecord, keys, studyAttributesOf, type InstanceAttributes } from './index-layout.ts'

export interface IngestResult {
  readonly status: 'imported' | 'duplicate'
  /** Set when this copy replaced a damaged stored one. */
  readonly replaced?: BlobId
  readonly studyId: StudyId
  readonly studyInstanceUid: string
  readonly sopInstanceUid: string
  readonly blob: BlobId
  readonly size: number
  /** For a newly stored instance: its catalogue entry, as written (so callers need not read it back). */
  readonly entry?: InstanceEntry
}

export interface IngestOptions extends InspectOptions {
  /**
   * Called once with the instance's header as soon as it has been read, before anything is
   * claimed or stored: throwing refuses the instance (the DIMSE edge compares the dataset's UIDs
   * with its command's here, on the ingest's own inspection instead of a second one).
   */
  readonly accept?: (header: InstanceHeader) => void
}

/** How much of an instance may wait in memory for its claim before reading pauses. */
const MAX_HELD = 4 << 20

interface Recorded { sha256: Uint8Array, size: number, blob: BlobId }

type Claim =
  /** A new instance, or (with `damaged`) one whose stored copy is damaged and will be replaced. */
  | { kind: 'store', study: StudyContext, sopLookup: string, damaged?: Recorded }
  /** Stored and intact: compare, store nothing. */
  | { kind: 'existing', studyId: StudyId, recorded: Recorded, study: StudyContext, entry: InstanceEntry }

/** Copies up to this size are compared value by value when their bytes differ (both are held then). */
const MAX_COMPARED = 64 << 20

/** Passes `pieces` through, keeping each in `into` when given. */
async function * tee (pieces: AsyncIterable<Uint8Array>, into: Uint8Array[] | undefined): AsyncIterable<Uint8Array> {
  for await (const piece of pieces) {
    into?.push(piece)
    yield piece
  }
}

/** What differs between the stored dataset and a new copy's, for the conflict's message (no PHI). */
function howDifferent (kept: DatasetDigest, incoming: DatasetDigest): string {
  if (kept.transferSyntaxUid !== incoming.transferSyntaxUid) {
    return `the stored dataset is in transfer syntax ${kept.transferSyntaxUid}, this copy's in ${incoming.transferSyntaxUid}, and its values differ too`
  }
  return `the datasets differ: ${kept.size} bytes stored, ${incoming.size} bytes in this copy, same transfer syntax ${kept.transferSyntaxUid}; a changed instance needs a new SOP Instance UID`
}

export class Ingester {
  readonly #archive: Archive

  constructor (archive: Archive) { this.#archive = archive }

  /**
   * Takes one Part 10 instance. `size`, when known (a file), is checked against what arrives;
   * network edges leave it out and the instance ends where the stream ends. `options` say how
   * the file is read (a file meta peerpacs wrote itself names no UIDs the dataset lacks).
   */
  async ingest (source: AsyncIterable<Uint8Array>, size?: number, options?: IngestOptions): Promise<IngestResult> {
    const archive = this.#archive
    const inspector = new Part10Inspector(size, options)
    const plainHash = archive.provider.createSha256()
    let held: Uint8Array[] = []
    let heldBytes = 0
    let claim: Claim | undefined
    let release: (() => void) | undefined
    let sealer: StreamSealer | undefined
    let writer: BlobWriter | undefined
    let deciding: Promise<void> | undefined
    let failed: { error: unknown } | undefined
    // For an instance already stored: its dataset, hashed in case its file is not the stored one,
    // and the copy itself while it is small enough to compare with the stored one value by value.
    let dataset: DatasetHasher | undefined
    let copy: { pieces: Uint8Array[], bytes: number } | undefined
    const keep = (piece: Uint8Array): void => {
      if (copy === undefined) return
      copy.bytes += piece.length
      if (copy.bytes > MAX_COMPARED) copy = undefined
      else copy.pieces.push(piece)
    }

    // Runs while the stream goes on being read, inspected and hashed (the claim waits on the
    // index): pieces arriving meanwhile are held, sealed in order once the blob is ready, and
    // `sealer` is set only when nothing is held any more.
    const decide = async (header: InstanceHeader): Promise<void> => {
      const decided = await this.#claim(header)
      release = decided.release
      if (decided.claim.kind === 'store') {
        const s = new StreamSealer({ dataKey: decided.claim.study.dataKey, provider: archive.provider, random: archive.random })
        writer = await archive.blobs.create()
        await writer.write(s.header)
        while (held.length > 0) {
          const piece = held.shift()!
          for (const sealed of s.push(piece)) await writer.write(sealed)
        }
        sealer = s
      } else {
        dataset = new DatasetHasher(archive.provider)
        copy = { pieces: [], bytes: 0 }
        for (const piece of held) { dataset.push(piece); keep(piece) }
      }
      claim = decided.claim
      held = []
      heldBytes = 0
    }

    try {
      for await (const chunk of source) {
        if (failed !== undefined) throw failed.error
        inspector.push(chunk)
        plainHash.update(chunk)
        if (sealer !== undefined) {
          for (const sealed of sealer.push(chunk)) await writer!.write(sealed)
        } else if (claim === undefined) {
          held.push(chunk)
          heldBytes += chunk.length
          if (deciding === undefined && inspector.header !== undefined) {
            options?.accept?.(inspector.header)
            deciding = decide(inspector.header)
            deciding.catch((error: unknown) => { failed = { error } })
          }
          // Memory stays bounded when the claim is slow (a concurrent copy of this instance holds it).
          if (deciding !== undefined && heldBytes >= MAX_HELD) await deciding
        } else {
          dataset?.push(chunk)
          keep(chunk)
        }
      }
      if (deciding !== undefined) await deciding
      const header = inspector.finish()
      const received = inspector.received
      if (claim === undefined) {
        options?.accept?.(header)
        await decide(header)
      }
      const sha256 = plainHash.digest()
      const decided = claim!
      const same = (r: Recorded): boolean => r.size === received && equalBytes(r.sha256, sha256)
      const base = { studyInstanceUid: header.studyInstanceUid, sopInstanceUid: header.sopInstanceUid, size: received }
      if (decided.kind === 'existing') {
        const duplicate = { status: 'duplicate' as const, studyId: decided.studyId, blob: decided.recorded.blob, ...base }
        if (same(decided.recorded)) return duplicate
        const incoming = dataset!.digest()
        const stored = decided.recorded.size <= MAX_COMPARED && copy !== undefined ? [] as Uint8Array[] : undefined
        const kept = await datasetDigestOf(archive.provider, tee(readInstance(archive, decided.study, decided.entry), stored), decided.recorded.size)
        if (incoming.size === kept.size && equalBytes(incoming.sha256, kept.sha256)) return duplicate
        // Re-encoded (another transfer syntax, defined lengths): the same instance if every value is.
        if (stored !== undefined && copy !== undefined && sameInstanceContent(concatBytes(...stored), concatBytes(...copy.pieces))) return duplicate
        throw new InstanceConflictError(`SOPInstanceUID ${header.sopInstanceUid} is already stored with different content; the stored instance was kept (${howDifferent(kept, incoming)})`)
      }
      if (decided.damaged !== undefined && !same(decided.damaged)) {
        throw new InstanceConflictError(`SOPInstanceUID ${header.sopInstanceUid} is stored with different content (and that stored copy is damaged: run \`peerpacs fsck\`); nothing was changed`)
      }
      for (const sealed of sealer!.finishParts()) await writer!.write(sealed)
      const digest = await writer!.commit()
      writer = undefined
      const study = decided.study
      const instanceKey = keys.instance(study.studyId, decided.sopLookup)
      const stored: InstanceAttributes = { ...header, size: received, sha256, blob: digest.id }
      const attributes = encodeInstanceAttributes(stored)
      const old = decided.damaged?.blob
      const operations: KvOperation[] = [
        { type: 'put', key: keys.blob(digest.id), value: encodeBlobRecord(digest) },
        { type: 'put', key: instanceKey, value: encodeInstanceRecord({ blob: digest.id, sealedAttributes: archive.sealRecord(study, instanceKey, attributes) }) },
        { type: 'put', key: keys.sop(decided.sopLookup), value: utf8Encode(study.studyId) },
        ...(old !== undefined && old !== digest.id ? [{ type: 'del' as const, key: keys.blob(old) }] : []),
        ...(study.pendingCreation ?? [])
      ]
      // The signed ops that register the study (first instance only) and this instance go in the
      // same batch as the index records, so the index never runs ahead of the log or behind it.
      const log = await archive.log()
      const prepared: Array<PreparedOp<'study.register' | 'study.instance'>> = []
      const registration = study.pendingRegistration
      // Taken before any await: a concurrent instance of the same new study must not register it again.
      study.pendingRegistration = undefined
      try {
        if (registration !== undefined) prepared.push(log.prepare('study.register', registration))
        prepared.push(log.prepare('study.instance', {
          study: study.studyId,
          blob: { id: digest.id, size: digest.size, blockSize: digest.blockSize, blockHashes: digest.blockHashes },
          sealed: secretboxSeal(archive.provider, archive.random, study.recordKey, attributes, instanceManifestAad(archive.keyring.orgId, study.studyId, digest.id))
        }))
      } catch (error) {
        if (prepared.length === 0) study.pendingRegistration = registration
        for (const p of prepared) p.failed(error)
        throw error
      }
      operations.push(...prepared.map((p) => p.write))
      try {
        await archive.kv.batch(operations)
      } catch (error) {
        for (const p of prepared) p.failed(error)
        throw error
      }
      study.pendingCreation = undefined
      // The damaged copy is kept aside, not deleted; fsck lists nothing for it any more.
      if (old !== undefined && old !== digest.id) await archive.blobs.quarantine(old).catch(() => undefined)
      const entry: InstanceEntry = { lookup: decided.sopLookup, blob: digest.id, attributes: stored }
      return { status: 'imported', studyId: study.studyId, blob: digest.id, entry, ...(old === undefined ? {} : { replaced: old }), ...base }
    } catch (error) {
      // A claim still under way must settle first: it may yet open a writer or take the lock.
      await deciding?.catch(() => {})
      await writer?.abort()
      throw error
    } finally {
      release?.()
    }
  }

  async #claim (header: InstanceHeader): Promise<{ claim: Claim, release: () => void }> {
    const archive = this.#archive
    const sopLookup = archive.lookup('sop', header.sopInstanceUid)
    // A second copy of this instance, from any edge, waits here and then meets the first as stored.
    const done = await archive.lockInstance(sopLookup)
    try {
      const stored = await archive.kv.get(keys.sop(sopLookup))
      if (stored !== undefined) {
        const study = await archive.study(utf8Decode(stored) as StudyId)
        const instanceKey = keys.instance(study.studyId, sopLookup)
        const recordBytes = await archive.kv.get(instanceKey)
        if (recordBytes !== undefined) {
          const entry = openInstanceEntry(archive, study, instanceKey, recordBytes)
          const recorded = { sha256: entry.attributes.sha256, size: entry.attributes.size, blob: entry.blob }
          const intact = await this.#intact(entry.blob, instanceKey)
          return { claim: intact ? { kind: 'existing', studyId: study.studyId, recorded, study, entry } : { kind: 'store', study, sopLookup, damaged: recorded }, release: done }
        }
      }
      return { claim: { kind: 'store', study: await archive.studyFor(studyAttributesOf(header)), sopLookup }, release: done }
    } catch (error) {
      done()
      if (error instanceof AuthenticationError || error instanceof DecodeError || error instanceof NotCanonicalError || error instanceof IntegrityError) {
        throw new IndexDamagedError(`the stored records for this instance do not open: ${error.message}`, { cause: error })
      }
      throw error
    }
  }

  /** Whether the stored copy still matches its recorded hashes (read through, no key needed). */
  async #intact (blob: BlobId, where: KvKey): Promise<boolean> {
    const archive = this.#archive
    const record = await archive.kv.get(keys.blob(blob))
    if (record === undefined) return false
    try {
      for await (const _ of readVerified(archive.blobs, archive.provider, decodeBlobRecord(blob, record))) { /* verifying */ }
      return true
    } catch (error) {
      if (error instanceof PeerpacsError) return false
      throw new Error(`reading the stored copy of ${where.join('/')} failed`, { cause: error })
    }
  }
}
