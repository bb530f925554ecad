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

export async function fsck (archive: Archive, options: FsckOptions): Promise<FsckReport> {
  const started = performance.now()
  const problems: FsckProblem[] = []
  const checked = { blobs: 0, studies: 0, instances: 0, bytes: 0 }
  const progress = options.onProgress ?? (() => {})
  const repairs: Array<{ problem: FsckProblem, run: () => Promise<string> }> = []
  const problem = (p: FsckProblem, repair?: () => Promise<string>): void => {
    problems.push(p)
    if (repair !== undefined) repairs.push({ problem: p, run: repair })
  }
  const batch = async (operations: KvOperation[]): Promise<void> => { await archive.kv.batch(operations) }
  const quarantine = async (id: BlobId): Promise<string> => {
    const where = await archive.blobs.quarantine(id)
    return where === undefined ? 'the blob was already gone' : `blob kept at ${where}`
  }

  // 1. Blob records: well-formed and consistent with their ids.
  const records = new Map<BlobId, BlobDigest>()
  for await (const [key, bytes] of archive.kv.entries(keys.blobs)) {
    const id = key[1]!
    try {
      if (!isBlobId(id)) throw new Error('the key is not a blob id')
      const digest = decodeBlobRecord(id, bytes)
      if (!verifyDigest(archive.provider, digest)) throw new Error('its block list does not hash to its id')
      records.set(id, digest)
    } catch (error) {
      problem({ severity: 'error', kind: 'blob-record', object: `blob record ${id}`, message: `unreadable blob record: ${message(error)}`, action: RESTORE })
    }
  }
  checked.blobs = records.size

  // 2. Instance records, read without keys: which blobs they name, and the lookups around them.
  const instances: RawInstance[] = []
  for await (const [key] of archive.kv.entries(keys.instances)) instances.push({ key, studyId: key[1] as StudyId, lookup: key[2]! })
  const referenced = new Set<BlobId>()
  for (const instance of instances) {
    const bytes = await archive.kv.get(instance.key)
    try {
      instance.blob = decodeInstanceRecord(bytes!).blob
      referenced.add(instance.blob)
    } catch (error) {
      problem({ severity: 'error', kind: 'instance-unreadable', object: `instance record ${instance.key.join('/')}`, message: `does not decode: ${message(error)}`, action: RESTORE })
      continue
    }
    if (!records.has(instance.blob) && await archive.blobs.size(instance.blob) === undefined) {
      problem({ severity: 'error', kind: 'blob-missing-record', object: `blob ${instance.blob} of study ${instance.studyId}`, message: 'an instance names this blob, but it has neither a record nor a file', action: 'run `peerpacs fsck --repair` to drop the instance from the index, then re-import its original file' },
        async () => { await batch([{ type: 'del', key: instance.key }, { type: 'del', key: keys.sop(instance.lookup) }]); return 'instance removed from the index' })
    }
    const sop = await archive.kv.get(keys.sop(instance.lookup))
    if (sop === undefined || utf8Decode(sop) !== instance.studyId) {
      problem({ severity: 'error', kind: 'lookup-missing', object: `instance ${instance.lookup.slice(0, 16)}… of study ${instance.studyId}`, message: 'the SOPInstanceUID lookup does not point at this instance, so a duplicate of it would not be recognised', action: 'run `peerpacs fsck --repair` to restore the lookup' },
        async () => { await batch([{ type: 'put', key: keys.sop(instance.lookup), value: utf8Encode(instance.studyId) }]); return 'lookup restored' })
    }
  }
  const dangling = async (prefix: KvKey, target: (key: KvKey, value: string) => KvKey | undefined, what: string): Promise<void> => {
    for await (const [key, value] of archive.kv.entries(prefix)) {
      const points = target(key, utf8Decode(value))
      if (points === undefined || await archive.kv.get(points) === undefined) {
        problem({ severity: 'error', kind: 'lookup-dangling', object: `${what} lookup ${key[1]!.slice(0, 16)}…`, message: 'points at an entry that does not exist', action: 'run `peerpacs fsck --repair` to remove it' },
          async () => { await batch([{ type: 'del', key }]); return 'lookup removed' })
      }
    }
  }
  await dangling(keys.sops, (key, studyId) => isStudyId(studyId) ? keys.instance(studyId, key[1]!) : undefined, 'SOPInstanceUID')
  await dangling(keys.studyUids, (_key, studyId) => isStudyId(studyId) ? keys.study(studyId) : undefined, 'StudyInstanceUID')

  // 3. With keys: every study and instance opened, every instance read back end to end.
  const readBack = new Set<BlobId>()
  if (!options.keyless) {
    const studyIds: StudyId[] = []
    for await (const [key] of archive.kv.entries(keys.studies)) studyIds.push(key[1] as StudyId)
    const byStudy = new Map<StudyId, RawInstance[]>()
    for (const i of instances) byStudy.set(i.studyId, [...(byStudy.get(i.studyId) ?? []), i])
    for (const studyId of byStudy.keys()) {
      if (!studyIds.includes(studyId)) {
        problem({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: `${byStudy.get(studyId)!.length} instances belong to a study that has no record`, action: RESTORE })
      }
    }
    let done = 0
    for (const studyId of studyIds) {
      progress({ phase: 'studies', done: done++, total: studyIds.length })
      let study: StudyContext
      try {
        study = await archive.study(studyId)
        checked.studies++
      } catch (error) {
        if (!(error instanceof PeerpacsError)) throw error
        problem({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: error.message, action: `${RESTORE}; its ${byStudy.get(studyId)?.length ?? 0} instances cannot be read meanwhile` })
        continue
      }
      const label = `study ${study.attributes.studyInstanceUid}`
      for (const raw of byStudy.get(studyId) ?? []) {
        if (raw.blob === undefined) continue
        let entry
        try {
          entry = openInstanceEntry(archive, study, raw.key, (await archive.kv.get(raw.key))!)
        } catch (error) {
          if (!(error instanceof PeerpacsError)) throw error
          problem({ severity: 'error', kind: 'instance-unreadable', object: `an instance of ${label} (blob ${raw.blob})`, message: error.message, action: RESTORE })
          continue
        }
        readBack.add(entry.blob)
        try {
          checked.bytes += await drain(readInstance(archive, study, entry))
          checked.instances++
        } catch (error) {
          if (!(error instanceof PeerpacsError)) throw error
          const blob = entry.blob
          problem({ severity: 'error', kind: 'instance-damaged', object: `instance ${entry.attributes.sopInstanceUid} of ${label} (blob ${blob})`, message: error.message, action: 'export refuses it; re-import the original file (it replaces the damaged copy), or run `peerpacs fsck --repair` to set the damaged copy aside' },
            async () => {
              const moved = await quarantine(blob)
              await batch([{ type: 'del', key: raw.key }, { type: 'del', key: keys.sop(raw.lookup) }, { type: 'del', key: keys.blob(blob) }])
              return `removed from the index; ${moved}`
            })
        }
      }
    }
    progress({ phase: 'studies', done, total: studyIds.length })
  }

  // 4. Blobs not read back above (all of them when keyless): every block against its record.
  const toVerify = [...records.values()].filter((d) => !readBack.has(d.id))
  let done = 0
  for (const digest of toVerify) {
    progress({ phase: 'blobs', done: done++, total: toVerify.length })
    try {
      checked.bytes += await drain(readVerified(archive.blobs, archive.provider, digest))
    } catch (error) {
      if (!(error instanceof PeerpacsError)) throw error
      problem({ severity: 'error', kind: 'blob-damaged', object: `blob ${digest.id}`, message: error.message, action: 'run `peerpacs fsck` with keys to name its instance; `--repair` sets the damaged copy aside so a re-import can restore it' },
        referenced.has(digest.id) ? undefined : async () => { const moved = await quarantine(digest.id); await batch([{ type: 'del', key: keys.blob(digest.id) }]); return moved })
      continue
    }
    if (!referenced.has(digest.id)) {
      problem({ severity: 'warning', kind: 'blob-unreferenced', object: `blob ${digest.id}`, message: 'intact, but no instance names it', action: '`peerpacs fsck --repair` moves it to quarantine/' },
        async () => { const moved = await quarantine(digest.id); await batch([{ type: 'del', key: keys.blob(digest.id) }]); return moved })
    }
  }
  progress({ phase: 'blobs', done, total: toVerify.length })

  // 5. Files in the store that the index does not name.
  for await (const id of archive.blobs.list()) {
    if (records.has(id) || referenced.has(id)) continue
    problem({ severity: 'warning', kind: 'blob-orphan', object: `blob file ${id}`, message: 'no index record names it (left by an interrupted import); it holds nothing that was acknowledged', action: '`peerpacs fsck --repair` moves it to quarantine/' },
      () => quarantine(id))
  }
  for (const path of await archive.blobs.strays()) {
    problem({ severity: 'warning', kind: 'stray-file', object: path, message: 'a file in the blob store that is not a blob', action: 'move it out of the data dir if you need it; peerpacs never uses it' })
  }

  // Repairs last, and not at all when the index itself is in doubt.
  const doubt = problems.some((p) => p.kind === 'blob-record' || p.kind === 'study-unreadable' || p.kind === 'instance-unreadable')
  if (options.repair) {
    for (const { problem: p, run } of repairs) {
      if (doubt && (p.kind === 'blob-orphan' || p.kind === 'blob-unreferenced')) {
        p.repaired = 'not repaired: the index is damaged, so this blob may still be needed'
        continue
      }
      p.repaired = await run()
    }
  }
  const errors = problems.filter((p) => p.severity === 'error').length
  return { mode: options.keyless ? 'keyless' : 'full', checked, problems, errors, warnings: problems.length - errors, seconds: (performance.now() - started) / 1000 }
}
