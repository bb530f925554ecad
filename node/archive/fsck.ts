/**
 * `peerpacs fsck`: checks that everything the index names is present and intact, and that the
 * index is consistent with itself. With keys it opens every study key and instance record and
 * reads every instance back through all of its checks (block hashes, AEAD, SHA-256); keyless,
 * it checks every blob against its recorded block hashes, which needs no key (invariant 5).
 * Every problem says what is affected and what to do. `--repair` sets damaged instances aside
 * (quarantine/) and removes them from the index so a re-import can restore them, deletes blobs
 * that no record names, and mends lookups.
 */
import type { BlobDigest, BlobId } from '../../protocol/blob-id.ts'
import { verifyDigest } from '../../protocol/blob-id.ts'
import { utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { isBlobId } from '../../protocol/blob-id.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { readVerified } from '../store/verified-read.ts'
import type { KvKey, KvOperation } from '../store/kv.ts'
import type { Archive, StudyContext } from './archive.ts'
import { openInstanceEntry, type InstanceEntry } from './catalogue.ts'
import { decodeBlobRecord, keys } from './index-layout.ts'
import { readInstance } from './read-instance.ts'

export type ProblemKind =
  | 'blob-record' | 'blob-damaged' | 'blob-orphan' | 'blob-unreferenced' | 'stray-file'
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

function message (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

async function drain (source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const piece of source) n += piece.length
  return n
}

export async function fsck (archive: Archive, options: FsckOptions): Promise<FsckReport> {
  const started = performance.now()
  const problems: FsckProblem[] = []
  const checked = { blobs: 0, studies: 0, instances: 0, bytes: 0 }
  const progress = options.onProgress ?? (() => {})
  const repairs: Array<() => Promise<void>> = []
  const problem = (p: FsckProblem, repair?: () => Promise<string>): void => {
    problems.push(p)
    if (options.repair && repair !== undefined) repairs.push(async () => { p.repaired = await repair() })
  }
  const dropIndexEntries = async (operations: KvOperation[]): Promise<void> => { await archive.kv.batch(operations) }

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
      problem({ severity: 'error', kind: 'blob-record', object: `blob record ${id}`, message: `unreadable blob record: ${message(error)}`, action: 'run `peerpacs fsck --repair` to drop the record; re-import the instance that used it' },
        async () => { await dropIndexEntries([{ type: 'del', key }]); return 'record removed' })
    }
  }

  // 2. With keys: every study, every instance, read back end to end.
  const referenced = new Set<BlobId>()
  if (!options.keyless) {
    const studyIds: StudyId[] = []
    for await (const [key] of archive.kv.entries(keys.studies)) studyIds.push(key[1] as StudyId)
    let done = 0
    for (const studyId of studyIds) {
      progress({ phase: 'studies', done: done++, total: studyIds.length })
      let study: StudyContext
      try {
        study = await archive.study(studyId)
        checked.studies++
      } catch (error) {
        problem({ severity: 'error', kind: 'study-unreadable', object: `study ${studyId}`, message: `study key or attributes do not open: ${message(error)}`, action: 'restore this data dir from a backup or a peer; its instances cannot be read' })
        continue
      }
      const label = `study ${study.attributes.studyInstanceUid}`
      for await (const [instanceKey, bytes] of archive.kv.entries(keys.instancesOf(studyId))) {
        let entry: InstanceEntry
        try {
          entry = openInstanceEntry(archive, study, instanceKey, bytes)
        } catch (error) {
          if (!(error instanceof PeerpacsError)) throw error
          problem({ severity: 'error', kind: 'instance-unreadable', object: `an instance of ${label}`, message: `its record does not open: ${error.message}`, action: 'restore this data dir from a backup or a peer' })
          continue
        }
        referenced.add(entry.blob)
        const uid = entry.attributes.sopInstanceUid
        const sopKey = keys.sop(entry.lookup)
        const sop = await archive.kv.get(sopKey)
        if (sop === undefined || utf8Decode(sop) !== studyId) {
          problem({ severity: 'error', kind: 'lookup-missing', object: `instance ${uid} of ${label}`, message: 'the SOPInstanceUID lookup does not point at this instance, so a duplicate of it would not be recognised', action: 'run `peerpacs fsck --repair` to restore the lookup' },
            async () => { await archive.kv.batch([{ type: 'put', key: sopKey, value: utf8Encode(studyId) }]); return 'lookup restored' })
        }
        try {
          checked.bytes += await drain(readInstance(archive, study, entry))
          checked.instances++
        } catch (error) {
          if (!(error instanceof PeerpacsError)) throw error
          const blob = entry.blob
          problem({ severity: 'error', kind: 'instance-damaged', object: `instance ${uid} of ${label} (blob ${blob})`, message: error.message, action: 'export refuses it; run `peerpacs fsck --repair` to set the damaged copy aside, then re-import the original file' },
            async () => {
              const moved = await archive.blobs.quarantine(blob, archive.layout.quarantineDir)
              await dropIndexEntries([{ type: 'del', key: instanceKey }, { type: 'del', key: sopKey }, { type: 'del', key: keys.blob(blob) }])
              return moved === undefined ? 'removed from the index (its blob was missing)' : `removed from the index; damaged blob kept at ${moved}`
            })
        }
      }
    }
    progress({ phase: 'studies', done, total: studyIds.length })

    // Lookups that point at nothing.
    const dangling = async (prefix: KvKey, target: (key: KvKey, value: string) => KvKey, what: string): Promise<void> => {
      for await (const [key, value] of archive.kv.entries(prefix)) {
        const points = target(key, utf8Decode(value))
        if (await archive.kv.get(points) === undefined) {
          problem({ severity: 'error', kind: 'lookup-dangling', object: `${what} lookup ${key[1]!.slice(0, 16)}…`, message: 'points at an entry that does not exist', action: 'run `peerpacs fsck --repair` to remove it' },
            async () => { await dropIndexEntries([{ type: 'del', key }]); return 'lookup removed' })
        }
      }
    }
    await dangling(keys.sops, (key, studyId) => keys.instance(studyId as StudyId, key[1]!), 'SOPInstanceUID')
    await dangling(keys.studyUids, (_key, studyId) => keys.study(studyId as StudyId), 'StudyInstanceUID')
  }

  // 3. Blobs not read above (all of them when keyless): check every block against its record.
  const toVerify = [...records.values()].filter((d) => !referenced.has(d.id))
  let done = 0
  for (const digest of toVerify) {
    progress({ phase: 'blobs', done: done++, total: toVerify.length })
    try {
      checked.bytes += await drain(readVerified(archive.blobs, archive.provider, digest))
    } catch (error) {
      if (!(error instanceof PeerpacsError)) throw error
      problem({ severity: 'error', kind: 'blob-damaged', object: `blob ${digest.id}`, message: error.message, action: 'restore the instance from its original file (with keys: `peerpacs fsck` names it), after `peerpacs fsck --repair` sets the damaged blob aside' },
        async () => {
          const moved = await archive.blobs.quarantine(digest.id, archive.layout.quarantineDir)
          return moved === undefined ? 'nothing to move (blob missing)' : `damaged blob kept at ${moved}; its index entries remain until fsck runs with keys`
        })
      continue
    }
    if (!options.keyless) {
      problem({ severity: 'warning', kind: 'blob-unreferenced', object: `blob ${digest.id}`, message: 'intact, but no instance uses it', action: '`peerpacs fsck --repair` removes it' },
        async () => { await dropIndexEntries([{ type: 'del', key: keys.blob(digest.id) }]); await archive.blobs.delete(digest.id); return 'removed' })
    }
  }
  progress({ phase: 'blobs', done, total: toVerify.length })
  checked.blobs = records.size

  // 4. Files in the store that the index does not name.
  for await (const id of archive.blobs.list()) {
    if (records.has(id) || referenced.has(id)) continue
    problem({ severity: 'warning', kind: 'blob-orphan', object: `blob file ${id}`, message: 'no index record names it (left by an interrupted import or receive); it holds nothing that was acknowledged', action: '`peerpacs fsck --repair` removes it' },
      async () => { await archive.blobs.delete(id); return 'removed' })
  }
  for (const path of await archive.blobs.strays()) {
    problem({ severity: 'warning', kind: 'stray-file', object: path, message: 'a file in the blob store that is not a blob', action: 'move it out of the data dir if you need it; peerpacs never uses it' })
  }

  for (const repair of repairs) await repair()
  const errors = problems.filter((p) => p.severity === 'error').length
  return { mode: options.keyless ? 'keyless' : 'full', checked, problems, errors, warnings: problems.length - errors, seconds: (performance.now() - started) / 1000 }
}
