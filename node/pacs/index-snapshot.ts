/**
 * The node's snapshot of its study index: every study's entry (its study attributes and its
 * summary, study-summary.ts) in parts of PART_SIZE studies under keys.indexSnapshot(n), sealed
 * with a key derived from the node's lookup key (LABELS.indexSnapshotKey: node-local, like the
 * lookups themselves), AAD = the part's key. A start that finds a study in the snapshot with as
 * many instances as the study has records takes its entry from here, without opening the study
 * (no key unwrapped, no record opened): a study opened costs some hundred microseconds of
 * cryptography, which 50,000 studies turn into many seconds. It is a cache, rewritten whole
 * after a load that had to open studies; anything it does not cover is loaded study by study.
 * Each part is JSON, { "v": 1, "studies": [[studyId, attributes, summary]...] } with the summary's
 * fields as study-summary.ts names them: not canonical CBOR, because this is a node-local cache
 * authenticated by its seal, read whole at every start, and JSON.parse reads 10,000 entries
 * several times faster than the canonical decoder (which checks what a signed op needs).
 */
import { utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import { DecodeError, PeerpacsError } from '../../protocol/errors.ts'
import { hkdfSha256, LABELS } from '../../protocol/kdf.ts'
import { secretboxOpen, secretboxSeal } from '../../protocol/secretbox.ts'
import { isStudyId, type StudyId } from '../../protocol/study-id.ts'
import type { Archive } from '../archive/archive.ts'
import { keys, STUDY_FIELDS, type StudyAttributes } from '../archive/index-layout.ts'
import { recordAad } from '../archive/study-keys.ts'
import type { StudyFacts } from '../query/study-index.ts'
import type { KvOperation } from '../store/kv.ts'

const PART_SIZE = 2000
const WHAT = 'index snapshot'

export interface SnapshotStudy {
  readonly studyId: StudyId
  readonly attributes: StudyAttributes
  readonly facts: StudyFacts
}

function snapshotKey (archive: Archive): Uint8Array {
  return hkdfSha256(archive.keyring.lookupKey, new Uint8Array(0), LABELS.indexSnapshotKey)
}

const isText = (v: unknown): v is string => typeof v === 'string'
const isTexts = (v: unknown): v is string[] => Array.isArray(v) && v.every(isText)

/** One study of a part, checked: anything else than what writeSnapshot writes throws DecodeError. */
function studyOf (item: unknown): SnapshotStudy {
  if (!Array.isArray(item) || item.length !== 3 || !isText(item[0]) || !isStudyId(item[0])) throw new DecodeError(`${WHAT}: expected [study id, attributes, summary]`)
  const [studyId, a, f] = item as [StudyId, Record<string, unknown>, Record<string, unknown>]
  if (typeof a !== 'object' || a === null || !isText(a.studyInstanceUid)) throw new DecodeError(`${WHAT}: study attributes without a StudyInstanceUID`)
  const attributes: Record<string, string | number> = {}
  for (const field of STUDY_FIELDS) {
    const v = a[field]
    if (v === undefined) continue
    if (typeof v !== 'string' && typeof v !== 'number') throw new DecodeError(`${WHAT}: ${field} is neither text nor a number`)
    attributes[field] = v
  }
  const syntaxes = f?.syntaxes
  if (typeof f !== 'object' || f === null || !Number.isSafeInteger(f.instances) || !isTexts(f.series) || !isTexts(f.modalities) || !isTexts(f.sopClasses) ||
    !Array.isArray(syntaxes) || !syntaxes.every((x) => Array.isArray(x) && x.length === 3 && isText(x[0]) && isText(x[1]) && Number.isSafeInteger(x[2]))) {
    throw new DecodeError(`${WHAT}: a study summary is malformed`)
  }
  return { studyId, attributes: attributes as unknown as StudyAttributes, facts: f as unknown as StudyFacts }
}

/** Every study the snapshot holds; empty when there is none or any part does not open (all is then loaded study by study). */
export async function readSnapshot (archive: Archive): Promise<Map<StudyId, SnapshotStudy>> {
  const out = new Map<StudyId, SnapshotStudy>()
  const key = snapshotKey(archive)
  try {
    for await (const [partKey, sealed] of archive.kv.entries(keys.indexSnapshots)) {
      let part: { v?: unknown, studies?: unknown }
      try {
        part = JSON.parse(utf8Decode(secretboxOpen(archive.provider, key, sealed, recordAad(archive.keyring.orgId, partKey)))) as typeof part
      } catch (error) {
        if (error instanceof SyntaxError) throw new DecodeError(`${WHAT}: not JSON`)
        throw error
      }
      if (part.v !== 1 || !Array.isArray(part.studies)) throw new DecodeError(`${WHAT}: unknown version or no studies`)
      for (const item of part.studies) {
        const study = studyOf(item)
        out.set(study.studyId, study)
      }
    }
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    return new Map()
  }
  return out
}

/** Replaces the snapshot with `studies`, in one batch. */
export async function writeSnapshot (archive: Archive, studies: Iterable<SnapshotStudy>): Promise<void> {
  const key = snapshotKey(archive)
  const writes: KvOperation[] = []
  for await (const [old] of archive.kv.entries(keys.indexSnapshots)) writes.push({ type: 'del', key: old })
  let part: unknown[] = []
  let parts = 0
  const seal = (): void => {
    const partKey = keys.indexSnapshot(parts++)
    const body = utf8Encode(JSON.stringify({ v: 1, studies: part }))
    writes.push({ type: 'put', key: partKey, value: secretboxSeal(archive.provider, archive.random, key, body, recordAad(archive.keyring.orgId, partKey)) })
    part = []
  }
  for (const s of studies) {
    const f = s.facts
    part.push([s.studyId, s.attributes, { instances: f.instances, series: f.series, modalities: f.modalities, sopClasses: f.sopClasses, syntaxes: f.syntaxes }])
    if (part.length >= PART_SIZE) seal()
  }
  if (part.length > 0) seal()
  await archive.kv.batch(writes)
}
