/**
 * `fsck --rebuild`: the index derived again from the signed log. Every study and instance the
 * log registers is opened with the keys this node holds and written back as index records
 * (study, StudyInstanceUID lookup, instance, SOP lookup, blob record), so a lost or damaged
 * index costs nothing that the log still has. Records the log does not name are dropped. The
 * log itself, the tokens and the owner record are left as they are.
 */
import { PeerpacsError } from '../../protocol/errors.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { KvOperation } from '../store/kv.ts'
import type { Archive } from './archive.ts'
import { instanceFromLog, studyFromLog } from './derive-index.ts'
import { keys } from './index-layout.ts'

export interface RebuildReport {
  readonly studies: number
  readonly instances: number
  /** Studies or instances of the log this node cannot open (no key for their epoch, or damaged). */
  readonly unopened: Array<{ studyId: StudyId, message: string }>
  /** Index entries removed because the log does not name them. */
  readonly dropped: number
}

// The query index's caches (summaries, snapshot) are dropped too: the node makes them again from the records.
const DERIVED = [keys.studies, keys.studyUids, keys.instances, keys.sops, keys.blobs, keys.studySummaries, keys.indexSnapshots]

export async function rebuildIndex (archive: Archive, onProgress?: (done: number, total: number) => void): Promise<RebuildReport> {
  // Instances stored but not logged yet would otherwise be dropped as "not named by the log".
  await archive.unlogged.flushAll()
  const log = await archive.log()
  const state = log.oplog.state
  const writes = new Map<string, KvOperation>()
  const put = (op: KvOperation & { type: 'put' }): void => { writes.set(op.key.join('\u0000'), op) }
  const unopened: RebuildReport['unopened'] = []
  let studies = 0
  let instances = 0
  let done = 0
  // An instance stored twice (a damaged copy replaced by a re-sent original) has two ops: the later one wins.
  const position = new Map<string, number>(log.ops().map((op, i) => [op.idHex as string, i]))
  const chosen = new Map<string, number>()
  const blobs = new Map<string, KvOperation & { type: 'put' }>()
  for (const study of state.studies.values()) {
    onProgress?.(done++, state.studies.size)
    try {
      const { context, writes: studyWrites } = studyFromLog(archive, study)
      for (const w of studyWrites) put(w)
      studies++
      for (const instance of study.instances.values()) {
        const derived = instanceFromLog(archive, context, instance)
        const at = position.get(instance.op as string) ?? 0
        if ((chosen.get(derived.sopLookup) ?? -1) > at) continue
        chosen.set(derived.sopLookup, at)
        const [instanceWrite, sopWrite, blobWrite] = derived.writes
        put(instanceWrite!)
        put(sopWrite!)
        blobs.set(derived.sopLookup, blobWrite!)
      }
    } catch (error) {
      if (!(error instanceof PeerpacsError)) throw error
      unopened.push({ studyId: study.id, message: error.message })
    }
  }
  for (const op of blobs.values()) put(op)
  instances = chosen.size
  const dels: KvOperation[] = []
  for (const prefix of DERIVED) {
    for await (const [key] of archive.kv.entries(prefix)) {
      if (!writes.has(key.join('\u0000'))) dels.push({ type: 'del', key })
    }
  }
  await archive.kv.batch([...dels, ...writes.values()])
  return { studies, instances, unopened, dropped: dels.length }
}
