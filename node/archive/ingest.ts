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
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'
import { concatBytes, equalBytes, utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import { AuthenticationError, DecodeError, IntegrityError, NotCanonicalError, PeerpacsError } from '../../protocol/errors.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { InspectOptions } from '../dicom/part10-inspector.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'
import { sameInstanceContent } from '../dicom/same-content.ts'
import type { PreparedOp } from '../log/node-log.ts'
import type { KvKey, KvOperation } from '../store/kv.ts'
import { readVerified } from '../store/verified-read.ts'
import type { Archive, StudyContext } from './archive.ts'
import { openInstanceEntry, type InstanceEntry } from './catalogue.ts'
import { datasetDigestOf, type DatasetDigest } from './dataset-digest.ts'
import { IndexDamagedError, InstanceConflictError } from './errors.ts'
import { decodeBlobRecord, encodeBlobRecord, encodeInstanceAttributes, encodeInstanceRecord, keys, studyAttributesOf, type InstanceAttributes } from './index-layout.ts'
import { MAX_COMPARED, Reception, type ArrivingCopy, type Claim, type ExistingClaim, type Received, type Recorded, type StoreClaim } from './ingest-reception.ts'
import { readInstance } from './read-instance.ts'

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

/** Whether the file received is, byte for byte, the one recorded (size and SHA-256). */
function sameFile (recorded: Recorded, received: Received): boolean {
  return recorded.size === received.size && equalBytes(recorded.sha256, received.sha256)
}

function described (received: Received): Pick<IngestResult, 'studyInstanceUid' | 'sopInstanceUid' | 'size'> {
  return { studyInstanceUid: received.header.studyInstanceUid, sopInstanceUid: received.header.sopInstanceUid, size: received.size }
}

export class Ingester {
  readonly #archive: Archive

  constructor (archive: Archive) { this.#archive = archive }

  /**
   * Takes one Part 10 instance. `size`, when known (a file), is checked against what arrives;
   * network edges leave it out and the instance ends where the stream ends. `options` say how
   * the file is read (a file meta peerpacs wrote itself names no UIDs the dataset lacks) and
   * may refuse its header before anything is claimed.
   *
   * Phases: receive, inspect and claim (ingest-reception.ts); then, for an instance already
   * stored, decide duplicate or conflict (#judge); else seal and commit the blob, and write its
   * index records and signed ops in one batch (#index).
   */
  async ingest (source: AsyncIterable<Uint8Array>, size?: number, options?: IngestOptions): Promise<IngestResult> {
    const reception = new Reception(this.#archive, (header) => this.#claim(header), size, options)
    try {
      for await (const chunk of source) await reception.take(chunk)
      const received = await reception.end()
      const claim = received.claim
      if (claim.kind === 'existing') return await this.#judge(received, claim, reception.copy!)
      if (claim.damaged !== undefined && !sameFile(claim.damaged, received)) {
        throw new InstanceConflictError(`SOPInstanceUID ${received.header.sopInstanceUid} is stored with different content (and that stored copy is damaged: run \`peerpacs fsck\`); nothing was changed`)
      }
      return await this.#index(received, claim, await reception.commit())
    } catch (error) {
      await reception.abort()
      throw error
    } finally {
      reception.release()
    }
  }

  /**
   * An instance already stored and intact: a duplicate when its file is the stored one, or its
   * dataset is, or (re-encoded by its sender) every value of it is; else a conflict. The stored
   * copy is decrypted only when the files differ.
   */
  async #judge (received: Received, claim: ExistingClaim, copy: ArrivingCopy): Promise<IngestResult> {
    const archive = this.#archive
    const duplicate = { status: 'duplicate' as const, studyId: claim.studyId, blob: claim.recorded.blob, ...described(received) }
    if (sameFile(claim.recorded, received)) return duplicate
    const incoming = copy.dataset.digest()
    const stored = claim.recorded.size <= MAX_COMPARED && copy.pieces !== undefined ? [] as Uint8Array[] : undefined
    const kept = await datasetDigestOf(archive.provider, tee(readInstance(archive, claim.study, claim.entry), stored), claim.recorded.size)
    if (incoming.size === kept.size && equalBytes(incoming.sha256, kept.sha256)) return duplicate
    // Re-encoded (another transfer syntax, defined lengths): the same instance if every value is.
    if (stored !== undefined && copy.pieces !== undefined && sameInstanceContent(concatBytes(...stored), concatBytes(...copy.pieces))) return duplicate
    throw new InstanceConflictError(`SOPInstanceUID ${received.header.sopInstanceUid} is already stored with different content; the stored instance was kept (${howDifferent(kept, incoming)})`)
  }

  /**
   * The committed blob's index records, its `unlogged` marker (its study.instances op is written
   * by the archive's batcher, instance-batcher.ts) and, for the first instance of a new study, the
   * signed op that registers it, written in one batch with sync. A damaged copy replaced is kept
   * aside, not deleted.
   */
  async #index (received: Received, claim: StoreClaim, digest: BlobDigest): Promise<IngestResult> {
    const archive = this.#archive
    const study = claim.study
    const attributes: InstanceAttributes = { ...received.header, size: received.size, sha256: received.sha256, blob: digest.id }
    const encoded = encodeInstanceAttributes(attributes)
    const old = claim.damaged?.blob
    const dropped = old !== undefined && old !== digest.id ? old : undefined
    const operations = this.#records(claim, digest, encoded, dropped)
    const prepared = await this.#prepareRegistration(study)
    if (prepared !== undefined) operations.push(prepared.write)
    try {
      await archive.kv.batch(operations)
    } catch (error) {
      prepared?.failed(error)
      throw error
    }
    study.pendingCreation = undefined
    archive.unlogged.noted(study.studyId)
    // fsck lists nothing for the replaced copy any more.
    if (dropped !== undefined) await archive.blobs.quarantine(dropped).catch(() => undefined)
    const entry: InstanceEntry = { lookup: claim.sopLookup, blob: digest.id, attributes }
    return { status: 'imported', studyId: study.studyId, blob: digest.id, entry, ...(old === undefined ? {} : { replaced: old }), ...described(received) }
  }

  /** The index records of a new instance (and of its study, when it is the first), and its unlogged marker. */
  #records (claim: StoreClaim, digest: BlobDigest, attributes: Uint8Array, dropped: BlobId | undefined): KvOperation[] {
    const study = claim.study
    const instanceKey = keys.instance(study.studyId, claim.sopLookup)
    // The record is bound to the key it is stored under (recordAad: org + study + SOP lookup, so
    // a record moved under another instance's key does not open); the batcher seals the same
    // attributes again into the study.instances op, bound to its org, study and blobs instead,
    // because the op travels to peers whose index has other keys.
    return [
      { type: 'put', key: keys.blob(digest.id), value: encodeBlobRecord(digest) },
      { type: 'put', key: instanceKey, value: encodeInstanceRecord({ blob: digest.id, sealedAttributes: this.#archive.sealRecord(study, instanceKey, attributes) }) },
      { type: 'put', key: keys.sop(claim.sopLookup), value: utf8Encode(study.studyId) },
      { type: 'put', key: keys.unlogged(study.studyId, claim.sopLookup), value: new Uint8Array(0) },
      ...(dropped !== undefined ? [{ type: 'del' as const, key: keys.blob(dropped) }] : []),
      ...(study.pendingCreation ?? [])
    ]
  }

  /** The signed op that registers a new study (its first instance only), prepared for the batch. */
  async #prepareRegistration (study: StudyContext): Promise<PreparedOp<'study.register'> | undefined> {
    const log = await this.#archive.log()
    const registration = study.pendingRegistration
    if (registration === undefined) return undefined
    // Taken before anything can fail: a concurrent instance of the same new study must not register it again.
    study.pendingRegistration = undefined
    try {
      return log.prepare('study.register', registration)
    } catch (error) {
      study.pendingRegistration = registration
      throw error
    }
  }

  /**
   * The claim of the reception phase, under the instance's lock (released by the caller): a new
   * instance, one stored and intact, or one whose stored copy is damaged.
   */
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
