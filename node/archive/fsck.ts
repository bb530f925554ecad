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
 * repair it offers) to one Findings; the repairs run last, all together. The checks stream the
 * index and look records up one by one: fsck's memory does not grow with the archive but for a
 * compact set of the blob ids instances name (17 bytes per instance, blob-id-set.ts).
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
import { BlobIdSet } from './blob-id-set.ts'

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

/** Where fsck is: `done` of `total` items of a phase (no total for walks of the index, which is not counted first). */
export interface FsckProgress { readonly phase: string, readonly done: number, readonly total?: number }

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

interface RawInstance { readonly key: KvKey, readonly studyId: StudyId, readonly lookup: string }

/** Flags of an entry of Findings.referenced. */
const RECORD_OK = 1 // the blob has a well-formed record consistent with its id
const READ_BACK = 2 // its instance was read back with keys, so its bytes were checked then

/** What the checks found so far, the repairs they offer, and the archive they check. */
class Findings {
  readonly problems: FsckProblem[] = []
  readonly repairs: Array<{ problem: FsckProblem, run: () => Promise<string> }> = []
  readonly checked = { blobs: 0, studies: 0, instances: 0, bytes: 0 }
  readonly archive: Archive
  readonly progress: (progress: FsckProgress) => void
  /** Every blob an instance record names (16 bytes and a flag byte each: blob-id-set.ts). */
  readonly referenced = new BlobIdSet()
  /** Blob records found unreadable (each one is an error reported). */
  readonly badRecords = new Set<string>()
  /** Groups of instance records whose study has no record (reported with keys, before the read-back). */
  readonly withoutStudy: Array<{ studyId: StudyId, count: number }> = []

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

  /**
   * The digest of the blob record `bytes` under key part `id`, unless it is absent or was found
   * unreadable by checkBlobRecords (which reported it). A running node holds ingest off while
   * fsck runs; a record that changed since checkBlobRecords anyway counts as absent.
   */
  digestOf (id: string, bytes: Uint8Array | undefined): BlobDigest | undefined {
    if (!this.recorded(id, bytes)) return undefined
    try {
      return recordDigest(this.archive, id, bytes!)
    } catch {
      return undefined
    }
  }

  /** Whether a blob has a readable record: `bytes` is what the index holds under its key. */
  recorded (id: string, bytes: Uint8Array | undefined): boolean {
    return bytes !== undefined && !this.badRecords.has(id)
  }
}

function recordDigest (archive: Archive, id: string, bytes: Uint8Array): BlobDigest {
  if (!isBlobId(id)) throw new Error('the key is not a blob id')
  const digest = decodeBlobRecord(id, bytes)
  if (!verifyDigest(archive.provider, digest)) throw new Error('its block list does not hash to its id')
  return digest
}

/**
 * Every check streams the index in key order and looks up what it needs point by point, so what
 * fsck holds does not grow with the archive but for Findings.referenced (17 bytes per instance)
 * and the problems it found. Blob records are read twice (checked first, verified last), instance
 * records twice with keys (checked, then read back study by study).
 */
export async function fsck (archive: Archive, options: FsckOptions): Promise<FsckReport> {
  const started = performance.now()
  const found = new Findings(archive, options)
  await checkBlobRecords(found)
  await checkInstanceRecords(found)
  await checkLookups(found)
  if (!options.keyless) await readBackStudies(found)
  await verifyBlobs(found)
  await checkStoreFiles(found)
  if (options.repair) await repair(found)
  const { problems, checked } = found
  const errors = problems.filter((p) => p.severity === 'error').length
  return { mode: options.keyless ? 'keyless' : 'full', checked, problems, errors, warnings: problems.length - errors, seconds: (performance.now() - started) / 1000 }
}

/** 1. Blob records: well-formed and consistent with their ids. */
async function checkBlobRecords (found: Findings): Promise<void> {
  const archive = found.archive
  let done = 0
  for await (const [key, bytes] of archive.kv.entries(keys.blobs)) {
    found.progress({ phase: 'blob records', done: done++ })
    const id = key[1]!
    try {
      recordDigest(archive, id, bytes)
      found.checked.blobs++
    } catch (error) {
      found.badRecords.add(id)
      found.add({ severity: 'error', kind: 'blob-record', object: `blob record ${id}`, message: `unreadable blob record: ${message(error)}`, action: RESTORE })
    }
  }
}

/** 2. Instance records, read without keys: which blobs they name, and the lookups around them. */
async function checkInstanceRecords (found: Findings): Promise<void> {
  const archive = found.archive
  let group: { studyId: StudyId, count: number } | undefined
  const endGroup = async (): Promise<void> => {
    if (group !== undefined && await archive.kv.get(keys.study(group.studyId)) === undefined) found.withoutStudy.push(group)
  }
  let done = 0
  for await (const [key, bytes] of archive.kv.entries(keys.instances)) {
    found.progress({ phase: 'instance records', done: done++ })
    const instance: RawInstance = { key, studyId: key[1] as StudyId, lookup: key[2]! }
    if (group?.studyId !== instance.studyId) {
      await endGroup()
      group = { studyId: instance.studyId, count: 0 }
    }
    group.count++
    let blob: BlobId
    try {
      blob = decodeInstanceRecord(bytes).blob
    } catch (error) {
      found.add({ severity: 'error', kind: 'instance-unreadable', object: `instance record ${instance.key.join('/')}`, message: `does not decode: ${message(error)}`, action: RESTORE })
      continue
    }
    const recorded = found.recorded(blob, await archive.kv.get(keys.blob(blob)))
    found.referenced.add(blob, recorded ? RECORD_OK : 0)
    await checkInstancePointers(found, instance, blob, recorded)
  }
  await endGroup()
  found.referenced.freeze()
}

/** An instance's blob exists, and its SOPInstanceUID lookup points back at it. */
async function checkInstancePointers (found: Findings, instance: RawInstance, blob: BlobId, recorded: boolean): Promise<void> {
  const archive = found.archive
  if (!recorded && await archive.blobs.size(blob) === undefined) {
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
  let done = 0
  for await (const [key, value] of archive.kv.entries(prefix)) {
    found.progress({ phase: `${what} lookups`, done: done++ })
    const points = target(key, utf8Decode(value))
    if (points === undefined || await archive.kv.get(points) === undefined) {
      found.add({ severity: 'error', kind: 'lookup-dangling', object: `${what} lookup ${key[1]!.slice(0, 16)}…`, message: 'points at an entry that does not exist', action: 'run `peerpacs fsck --repair` to remove it' },
        async () => { await found.batch([{ type: 'del', key }]); return 'lookup removed' })
    }
  }
}

async function count (source: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of source) n++
  return n
}

/** 3. With keys: every study and instance opened, every instance read back end to end, study by study. */
async function readBackStudies (found: Findings): Promise<void> {
  const kv = found.archive.kv
  for (const { studyId, count } of found.withoutStudy) {
    found.add({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: `${count} instances belong to a study that has no record`, action: RESTORE })
  }
  const total = await count(kv.entries(keys.studies))
  let done = 0
  for await (const [key] of kv.entries(keys.studies)) {
    found.progress({ phase: 'studies', done: done++, total })
    await readBackStudy(found, key[1] as StudyId)
  }
  found.progress({ phase: 'studies', done, total })
}

async function readBackStudy (found: Findings, studyId: StudyId): Promise<void> {
  const kv = found.archive.kv
  let study: StudyContext
  try {
    study = await found.archive.study(studyId)
    found.checked.studies++
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    const instances = await count(kv.entries(keys.instancesOf(studyId)))
    found.add({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: error.message, action: `${RESTORE}; its ${instances} instances cannot be read meanwhile` })
    return
  }
  for await (const [key, bytes] of kv.entries(keys.instancesOf(studyId))) {
    let blob: BlobId
    try {
      blob = decodeInstanceRecord(bytes).blob
    } catch {
      continue // reported by checkInstanceRecords
    }
    await readBackInstance(found, study, { key, studyId, lookup: key[2]! }, blob, bytes)
  }
}

async function readBackInstance (found: Findings, study: StudyContext, raw: RawInstance, blob: BlobId, bytes: Uint8Array): Promise<void> {
  const archive = found.archive
  const label = `study ${study.attributes.studyInstanceUid}`
  let entry
  try {
    entry = openInstanceEntry(archive, study, raw.key, bytes)
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    found.add({ severity: 'error', kind: 'instance-unreadable', object: `an instance of ${label} (blob ${blob})`, message: error.message, action: RESTORE })
    return
  }
  const index = found.referenced.indexOf(entry.blob)
  if (index >= 0) found.referenced.setFlags(index, READ_BACK)
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
async function verifyBlobs (found: Findings): Promise<void> {
  const { archive, referenced } = found
  const setAside = async (id: BlobId): Promise<string> => { const moved = await found.quarantine(id); await found.batch([{ type: 'del', key: keys.blob(id) }]); return moved }
  const total = found.checked.blobs - referenced.countWith(RECORD_OK | READ_BACK)
  let done = 0
  for await (const [key, bytes] of archive.kv.entries(keys.blobs)) {
    const digest = found.digestOf(key[1]!, bytes)
    if (digest === undefined) continue // reported by checkBlobRecords
    const index = referenced.indexOf(digest.id)
    if (index >= 0 && (referenced.flagsAt(index) & READ_BACK) !== 0) continue
    found.progress({ phase: 'blobs', done: done++, total })
    try {
      found.checked.bytes += await drain(readVerified(archive.blobs, archive.provider, digest))
    } catch (error) {
      if (!(error instanceof PeerpacsError)) throw error
      found.add({ severity: 'error', kind: 'blob-damaged', object: `blob ${digest.id}`, message: error.message, action: 'run `peerpacs fsck` with keys to name its instance; `--repair` sets the damaged copy aside so a re-import can restore it' },
        index >= 0 ? undefined : async () => await setAside(digest.id))
      continue
    }
    if (index < 0) {
      found.add({ severity: 'warning', kind: 'blob-unreferenced', object: `blob ${digest.id}`, message: 'intact, but no instance names it', action: '`peerpacs fsck --repair` moves it to quarantine/' },
        async () => await setAside(digest.id))
    }
  }
  found.progress({ phase: 'blobs', done, total })
}

/** 5. Files in the store that the index does not name. */
async function checkStoreFiles (found: Findings): Promise<void> {
  const archive = found.archive
  for await (const id of archive.blobs.list()) {
    if (found.referenced.has(id) || found.recorded(id, await archive.kv.get(keys.blob(id)))) continue
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
