/**
 * `peerpacs fsck`: checks that everything the index names is present and intact, and that the
 * index is consistent with itself. Keyless, it checks every blob against its recorded block
 * hashes and every pointer and lookup in the index (invariant 5: no key needed); with keys it
 * also opens every study key and instance record and reads every instance back through all of
 * its checks (block hashes, AEAD, SHA-256). Every problem says what is affected and what to do.
 *
 * `--repair` never deletes data: damaged and unnamed blobs are moved to quarantine/; a damaged
 * instance's index entries are dropped so that re-importing the original restores it; broken
 * lookups are mended. While any index record is unreadable, nothing that record might name is
 * moved. (A missing or foreign index is refused before fsck runs: archive.ts.)
 *
 * Each check is a function that reads the archive and adds what it finds (a problem, and the
 * repair it offers) to one Findings; the repairs run last, all together.
 */
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'
import { isBlobId, verifyDigest } from '../../protocol/blob-id.ts'
import { utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { isStudyId, type StudyId } from '../../protocol/study-id.ts'
import { readVerified } from '../store/verified-read.ts'
import type { KvKey, KvOperation } from '../store/kv.ts'
import type { Archive, StudyContext } from './archive.ts'
import { openInstanceEntry } from './catalogue.ts'
import { decodeBlobRecord, decodeInstanceRecord, keys } from './index-layout.ts'
import { readInstance } from './read-instance.ts'

export type ProblemKind =
  | 'blob-record' | 'blob-missing-record' | 'blob-damaged' | 'blob-orphan' | 'blob-unreferenced' | 'stray-file'
  | 'study-unreadable' | 'instance-unreadable' | 'instance-damaged' | 'lookup-dangling' | 'lookup-missing'

export interface FsckProblem {
  readonly severity: 'error' | 'warning'
  readonly kind: ProblemKind
  readonly object: string
  readonly message: string
  readonly action: string
  repaired?: string
}

export interface FsckReport {
  readonly mode: 'full' | 'keyless'
  readonly checked: { blobs: number, studies: number, instances: number, bytes: number }
  readonly problems: FsckProblem[]
  readonly errors: number
  readonly warnings: number
  readonly seconds: number
}

export interface FsckProgress { readonly phase: string, readonly done: number, readonly total: number }

export interface FsckOptions {
  readonly keyless: boolean
  readonly repair: boolean
  readonly onProgress?: (progress: FsckProgress) => void
}

const RESTORE = 'restore this data dir from its backup or a peer; do not run `fsck --repair` until then'

function message (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

async function drain (source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const piece of source) n += piece.length
  return n
}

interface RawInstance { key: KvKey, studyId: StudyId, lookup: string, blob?: BlobId }

/** What the checks found so far, the repairs they offer, and the archive they check. */
class Findings {
  readonly problems: FsckProblem[] = []
  readonly repairs: Array<{ problem: FsckProblem, run: () => Promise<string> }> = []
  readonly checked = { blobs: 0, studies: 0, instances: 0, bytes: 0 }
  readonly archive: Archive
  readonly progress: (progress: FsckProgress) => void

  constructor (archive: Archive, options: FsckOptions) {
    this.archive = archive
    this.progress = options.onProgress ?? (() => {})
  }

  add (p: FsckProblem, repair?: () => Promise<string>): void {
    this.problems.push(p)
    if (repair !== undefined) this.repairs.push({ problem: p, run: repair })
  }

  async batch (operations: KvOperation[]): Promise<void> { await this.archive.kv.batch(operations) }

  async quarantine (id: BlobId): Promise<string> {
    const where = await this.archive.blobs.quarantine(id)
    return where === undefined ? 'the blob was already gone' : `blob kept at ${where}`
  }
}

export async function fsck (archive: Archive, options: FsckOptions): Promise<FsckReport> {
  const started = performance.now()
  const found = new Findings(archive, options)
  const records = await checkBlobRecords(found)
  const { instances, referenced } = await checkInstanceRecords(found, records)
  await checkLookups(found)
  const readBack = options.keyless ? new Set<BlobId>() : await readBackStudies(found, instances)
  await verifyBlobs(found, [...records.values()].filter((d) => !readBack.has(d.id)), referenced)
  await checkStoreFiles(found, records, referenced)
  if (options.repair) await repair(found)
  const { problems, checked } = found
  const errors = problems.filter((p) => p.severity === 'error').length
  return { mode: options.keyless ? 'keyless' : 'full', checked, problems, errors, warnings: problems.length - errors, seconds: (performance.now() - started) / 1000 }
}

/** 1. Blob records: well-formed and consistent with their ids. */
async function checkBlobRecords (found: Findings): Promise<Map<BlobId, BlobDigest>> {
  const archive = found.archive
  const records = new Map<BlobId, BlobDigest>()
  for await (const [key, bytes] of archive.kv.entries(keys.blobs)) {
    const id = key[1]!
    try {
      if (!isBlobId(id)) throw new Error('the key is not a blob id')
      const digest = decodeBlobRecord(id, bytes)
      if (!verifyDigest(archive.provider, digest)) throw new Error('its block list does not hash to its id')
      records.set(id, digest)
    } catch (error) {
      found.add({ severity: 'error', kind: 'blob-record', object: `blob record ${id}`, message: `unreadable blob record: ${message(error)}`, action: RESTORE })
    }
  }
  found.checked.blobs = records.size
  return records
}

/** 2. Instance records, read without keys: which blobs they name, and the lookups around them. */
async function checkInstanceRecords (found: Findings, records: Map<BlobId, BlobDigest>): Promise<{ instances: RawInstance[], referenced: Set<BlobId> }> {
  const archive = found.archive
  const instances: RawInstance[] = []
  for await (const [key] of archive.kv.entries(keys.instances)) instances.push({ key, studyId: key[1] as StudyId, lookup: key[2]! })
  const referenced = new Set<BlobId>()
  for (const instance of instances) {
    const bytes = await archive.kv.get(instance.key)
    try {
      instance.blob = decodeInstanceRecord(bytes!).blob
      referenced.add(instance.blob)
    } catch (error) {
      found.add({ severity: 'error', kind: 'instance-unreadable', object: `instance record ${instance.key.join('/')}`, message: `does not decode: ${message(error)}`, action: RESTORE })
      continue
    }
    await checkInstancePointers(found, instance, instance.blob, records)
  }
  return { instances, referenced }
}

/** An instance's blob exists, and its SOPInstanceUID lookup points back at it. */
async function checkInstancePointers (found: Findings, instance: RawInstance, blob: BlobId, records: Map<BlobId, BlobDigest>): Promise<void> {
  const archive = found.archive
  if (!records.has(blob) && await archive.blobs.size(blob) === undefined) {
    found.add({ severity: 'error', kind: 'blob-missing-record', object: `blob ${blob} of study ${instance.studyId}`, message: 'an instance names this blob, but it has neither a record nor a file', action: 'run `peerpacs fsck --repair` to drop the instance from the index, then re-import its original file' },
      async () => { await found.batch([{ type: 'del', key: instance.key }, { type: 'del', key: keys.sop(instance.lookup) }]); return 'instance removed from the index' })
  }
  const sop = await archive.kv.get(keys.sop(instance.lookup))
  if (sop === undefined || utf8Decode(sop) !== instance.studyId) {
    found.add({ severity: 'error', kind: 'lookup-missing', object: `instance ${instance.lookup.slice(0, 16)}… of study ${instance.studyId}`, message: 'the SOPInstanceUID lookup does not point at this instance, so a duplicate of it would not be recognised', action: 'run `peerpacs fsck --repair` to restore the lookup' },
      async () => { await found.batch([{ type: 'put', key: keys.sop(instance.lookup), value: utf8Encode(instance.studyId) }]); return 'lookup restored' })
  }
}

/** Every SOPInstanceUID and StudyInstanceUID lookup points at an entry that exists. */
async function checkLookups (found: Findings): Promise<void> {
  await checkDangling(found, keys.sops, (key, studyId) => isStudyId(studyId) ? keys.instance(studyId, key[1]!) : undefined, 'SOPInstanceUID')
  await checkDangling(found, keys.studyUids, (_key, studyId) => isStudyId(studyId) ? keys.study(studyId) : undefined, 'StudyInstanceUID')
}

async function checkDangling (found: Findings, prefix: KvKey, target: (key: KvKey, value: string) => KvKey | undefined, what: string): Promise<void> {
  const archive = found.archive
  for await (const [key, value] of archive.kv.entries(prefix)) {
    const points = target(key, utf8Decode(value))
    if (points === undefined || await archive.kv.get(points) === undefined) {
      found.add({ severity: 'error', kind: 'lookup-dangling', object: `${what} lookup ${key[1]!.slice(0, 16)}…`, message: 'points at an entry that does not exist', action: 'run `peerpacs fsck --repair` to remove it' },
        async () => { await found.batch([{ type: 'del', key }]); return 'lookup removed' })
    }
  }
}

/** 3. With keys: every study and instance opened, every instance read back end to end. Returns the blobs read back. */
async function readBackStudies (found: Findings, instances: RawInstance[]): Promise<Set<BlobId>> {
  const studyIds: StudyId[] = []
  for await (const [key] of found.archive.kv.entries(keys.studies)) studyIds.push(key[1] as StudyId)
  const byStudy = new Map<StudyId, RawInstance[]>()
  for (const i of instances) byStudy.set(i.studyId, [...(byStudy.get(i.studyId) ?? []), i])
  for (const studyId of byStudy.keys()) {
    if (!studyIds.includes(studyId)) {
      found.add({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: `${byStudy.get(studyId)!.length} instances belong to a study that has no record`, action: RESTORE })
    }
  }
  const readBack = new Set<BlobId>()
  let done = 0
  for (const studyId of studyIds) {
    found.progress({ phase: 'studies', done: done++, total: studyIds.length })
    await readBackStudy(found, studyId, byStudy.get(studyId) ?? [], readBack)
  }
  found.progress({ phase: 'studies', done, total: studyIds.length })
  return readBack
}

async function readBackStudy (found: Findings, studyId: StudyId, raws: RawInstance[], readBack: Set<BlobId>): Promise<void> {
  let study: StudyContext
  try {
    study = await found.archive.study(studyId)
    found.checked.studies++
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    found.add({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: error.message, action: `${RESTORE}; its ${raws.length} instances cannot be read meanwhile` })
    return
  }
  for (const raw of raws) {
    if (raw.blob !== undefined) await readBackInstance(found, study, raw, raw.blob, readBack)
  }
}

async function readBackInstance (found: Findings, study: StudyContext, raw: RawInstance, blob: BlobId, readBack: Set<BlobId>): Promise<void> {
  const archive = found.archive
  const label = `study ${study.attributes.studyInstanceUid}`
  let entry
  try {
    entry = openInstanceEntry(archive, study, raw.key, (await archive.kv.get(raw.key))!)
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    found.add({ severity: 'error', kind: 'instance-unreadable', object: `an instance of ${label} (blob ${blob})`, message: error.message, action: RESTORE })
    return
  }
  readBack.add(entry.blob)
  try {
    found.checked.bytes += await drain(readInstance(archive, study, entry))
    found.checked.instances++
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    const damaged = entry.blob
    found.add({ severity: 'error', kind: 'instance-damaged', object: `instance ${entry.attributes.sopInstanceUid} of ${label} (blob ${damaged})`, message: error.message, action: 'export refuses it; re-import the original file (it replaces the damaged copy), or run `peerpacs fsck --repair` to set the damaged copy aside' },
      async () => {
        const moved = await found.quarantine(damaged)
        await found.batch([{ type: 'del', key: raw.key }, { type: 'del', key: keys.sop(raw.lookup) }, { type: 'del', key: keys.blob(damaged) }])
        return `removed from the index; ${moved}`
      })
  }
}

/** 4. Blobs not read back above (all of them when keyless): every block against its record. */
async function verifyBlobs (found: Findings, toVerify: BlobDigest[], referenced: Set<BlobId>): Promise<void> {
  const archive = found.archive
  const setAside = async (id: BlobId): Promise<string> => { const moved = await found.quarantine(id); await found.batch([{ type: 'del', key: keys.blob(id) }]); return moved }
  let done = 0
  for (const digest of toVerify) {
    found.progress({ phase: 'blobs', done: done++, total: toVerify.length })
    try {
      found.checked.bytes += await drain(readVerified(archive.blobs, archive.provider, digest))
    } catch (error) {
      if (!(error instanceof PeerpacsError)) throw error
      found.add({ severity: 'error', kind: 'blob-damaged', object: `blob ${digest.id}`, message: error.message, action: 'run `peerpacs fsck` with keys to name its instance; `--repair` sets the damaged copy aside so a re-import can restore it' },
        referenced.has(digest.id) ? undefined : async () => await setAside(digest.id))
      continue
    }
    if (!referenced.has(digest.id)) {
      found.add({ severity: 'warning', kind: 'blob-unreferenced', object: `blob ${digest.id}`, message: 'intact, but no instance names it', action: '`peerpacs fsck --repair` moves it to quarantine/' },
        async () => await setAside(digest.id))
    }
  }
  found.progress({ phase: 'blobs', done, total: toVerify.length })
}

/** 5. Files in the store that the index does not name. */
async function checkStoreFiles (found: Findings, records: Map<BlobId, BlobDigest>, referenced: Set<BlobId>): Promise<void> {
  const archive = found.archive
  for await (const id of archive.blobs.list()) {
    if (records.has(id) || referenced.has(id)) continue
    found.add({ severity: 'warning', kind: 'blob-orphan', object: `blob file ${id}`, message: 'no index record names it (left by an interrupted import); it holds nothing that was acknowledged', action: '`peerpacs fsck --repair` moves it to quarantine/' },
      async () => await found.quarantine(id))
  }
  for (const path of await archive.blobs.strays()) {
    found.add({ severity: 'warning', kind: 'stray-file', object: path, message: 'a file in the blob store that is not a blob', action: 'move it out of the data dir if you need it; peerpacs never uses it' })
  }
}

/** Repairs last, and not at all when the index itself is in doubt. */
async function repair (found: Findings): Promise<void> {
  const doubt = found.problems.some((p) => p.kind === 'blob-record' || p.kind === 'study-unreadable' || p.kind === 'instance-unreadable')
  for (const { problem: p, run } of found.repairs) {
    if (doubt && (p.kind === 'blob-orphan' || p.kind === 'blob-unreferenced')) {
      p.repaired = 'not repaired: the index is damaged, so this blob may still be needed'
      continue
    }
    p.repaired = await run()
  }
}
