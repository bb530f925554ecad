/**
 * Bodies of the ops that carry content (docs/protocol.md "Studies", "Audit", "Case documents"):
 * study.register, study.instances (and the older one-instance study.instance), audit.event,
 * case.update. What a keyless replica needs is in
 * clear (study ids, blob ids, sizes, block hashes: a blob's id is checked against its block
 * hashes here); everything else is a sealed byte string the log never opens.
 */
import { blobIdOf, blockCount, isBlobId, type BlobId } from '../blob-id.ts'
import type { CanonicalValue } from '../canonical.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import { isBytes } from '../bytes.ts'
import { DecodeError, InvalidArgumentError } from '../errors.ts'
import { isStudyId, type StudyId } from '../study-id.ts'
import { boundedBytes, boundedInt, boundedList, boundedText, strictMap } from './fields.ts'

/** Sealed payloads stay well inside MAX_OP_BYTES (the op adds a few hundred bytes). */
export const MAX_SEALED_BYTES = 250 * 1024
export const MAX_WRAPPED_KEY_BYTES = 1024

export interface StudyRegisterBody {
  readonly study: StudyId
  /** Id of the op that started the epoch whose key wraps the study's data key. */
  readonly epoch: Uint8Array
  readonly wrappedKey: Uint8Array
  readonly sealed: Uint8Array
}

export interface BlobInfo {
  readonly id: BlobId
  readonly size: number
  readonly blockSize: number
  /** Concatenated 32-byte block hashes. */
  readonly blockHashes: Uint8Array
}

export interface StudyInstanceBody { readonly study: StudyId, readonly blob: BlobInfo, readonly sealed: Uint8Array }

/** Most instances one study.instances op may name (a batch of ~150 B per instance stays far inside MAX_OP_BYTES). */
export const MAX_BATCH_INSTANCES = 1000

/**
 * Several instances of one study in one op (docs/protocol.md "Instances"): their blobs in clear
 * (size and block hashes; each id is computed from them, so a keyless replica checks blobs
 * against the op without a key) and one sealed list of their attributes, in the same order.
 */
export interface StudyInstancesBody {
  readonly study: StudyId
  readonly blobs: readonly BlobInfo[]
  readonly sealed: Uint8Array
}
export interface AuditEventBody {
  /** Id of the op that started the epoch whose key seals the record. */
  readonly epoch: Uint8Array
  readonly sealed: Uint8Array
}
export interface CaseUpdateBody { readonly study: StudyId, readonly sealed: Uint8Array }

function study (v: CanonicalValue | undefined, what: string): StudyId {
  if (!isStudyId(v)) throw new DecodeError(`${what}.study: expected a study id (32 lowercase hex digits)`)
  return v
}

export const studyRegisterCodec = {
  encode: (b: StudyRegisterBody): CanonicalValue => ({ study: b.study, epoch: b.epoch, wrappedKey: b.wrappedKey, sealed: b.sealed }),
  decode: (v: CanonicalValue): StudyRegisterBody => {
    const w = 'study.register'
    const m = strictMap(v, w, ['study', 'epoch', 'wrappedKey', 'sealed'])
    return {
      study: study(m.study, w),
      epoch: boundedBytes(m, 'epoch', w, 32, 32),
      wrappedKey: boundedBytes(m, 'wrappedKey', w, 1, MAX_WRAPPED_KEY_BYTES),
      sealed: boundedBytes(m, 'sealed', w, 0, MAX_SEALED_BYTES)
    }
  }
}

export const studyInstanceCodec = {
  encode: (b: StudyInstanceBody): CanonicalValue => ({
    study: b.study,
    blob: { id: b.blob.id, size: b.blob.size, blockSize: b.blob.blockSize, blockHashes: b.blob.blockHashes },
    sealed: b.sealed
  }),
  decode: (v: CanonicalValue, provider: CryptoProvider): StudyInstanceBody => {
    const w = 'study.instance'
    const m = strictMap(v, w, ['study', 'blob', 'sealed'])
    const bm = strictMap(m.blob, `${w}.blob`, ['id', 'size', 'blockSize', 'blockHashes'])
    const id = boundedText(bm, 'id', `${w}.blob`, 64, 64)
    if (!isBlobId(id)) throw new DecodeError(`${w}.blob.id: expected 64 lowercase hex digits`)
    const size = boundedInt(bm, 'size', `${w}.blob`, 0, Number.MAX_SAFE_INTEGER)
    const blockSize = boundedInt(bm, 'blockSize', `${w}.blob`, 1, 1 << 30)
    const blocks = blockCount(size, blockSize)
    const blockHashes = boundedBytes(bm, 'blockHashes', `${w}.blob`, blocks * 32, blocks * 32)
    if (blobIdOf(provider, size, blockSize, blockHashes) !== id) throw new DecodeError(`${w}.blob.id: does not match the size, block size and block hashes`)
    return { study: study(m.study, w), blob: { id, size, blockSize, blockHashes }, sealed: boundedBytes(m, 'sealed', w, 0, MAX_SEALED_BYTES) }
  }
}

export const studyInstancesCodec = {
  encode: (b: StudyInstancesBody): CanonicalValue => {
    const blockSize = b.blobs[0]?.blockSize ?? 0
    for (const blob of b.blobs) if (blob.blockSize !== blockSize) throw new InvalidArgumentError('study.instances: every blob of one op has the same block size')
    return { study: b.study, blockSize, blobs: b.blobs.map((blob) => [blob.size, blob.blockHashes]), sealed: b.sealed }
  },
  decode: (v: CanonicalValue, provider: CryptoProvider): StudyInstancesBody => {
    const w = 'study.instances'
    const m = strictMap(v, w, ['study', 'blockSize', 'blobs', 'sealed'])
    const blockSize = boundedInt(m, 'blockSize', w, 1, 1 << 30)
    const seen = new Set<string>()
    const blobs = boundedList(m, 'blobs', w, 1, MAX_BATCH_INSTANCES).map((entry, i): BlobInfo => {
      const at = `${w}.blobs[${i}]`
      if (!Array.isArray(entry) || entry.length !== 2) throw new DecodeError(`${at}: expected [size, blockHashes]`)
      const [size, blockHashes] = entry
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new DecodeError(`${at}: size: expected an integer ≥ 0`)
      const blocks = blockCount(size, blockSize)
      if (!isBytes(blockHashes) || blockHashes.length !== blocks * 32) throw new DecodeError(`${at}: blockHashes: expected ${blocks * 32} bytes for ${size} bytes in blocks of ${blockSize}`)
      const id = blobIdOf(provider, size, blockSize, blockHashes)
      if (seen.has(id)) throw new DecodeError(`${at}: blob ${id} is listed twice`)
      seen.add(id)
      return { id, size, blockSize, blockHashes }
    })
    return { study: study(m.study, w), blobs, sealed: boundedBytes(m, 'sealed', w, 1, MAX_SEALED_BYTES) }
  }
}

export const auditEventCodec = {
  encode: (b: AuditEventBody): CanonicalValue => ({ epoch: b.epoch, sealed: b.sealed }),
  decode: (v: CanonicalValue): AuditEventBody => {
    const w = 'audit.event'
    const m = strictMap(v, w, ['epoch', 'sealed'])
    return { epoch: boundedBytes(m, 'epoch', w, 32, 32), sealed: boundedBytes(m, 'sealed', w, 1, MAX_SEALED_BYTES) }
  }
}

export const caseUpdateCodec = {
  encode: (b: CaseUpdateBody): CanonicalValue => ({ study: b.study, sealed: b.sealed }),
  decode: (v: CanonicalValue): CaseUpdateBody => {
    const w = 'case.update'
    const m = strictMap(v, w, ['study', 'sealed'])
    return { study: study(m.study, w), sealed: boundedBytes(m, 'sealed', w, 1, MAX_SEALED_BYTES) }
  }
}
