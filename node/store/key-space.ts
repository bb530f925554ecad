/**
 * The index's key space: every key the level store holds, spelled here and nowhere else. What
 * each record is and how it is encoded is said by the module that owns it (named per key).
 *
 *   ['meta', 'node']                   the data dir's node id (archive/archive.ts)
 *   ['blob', blobId]                   blob record: size, block size, block hashes (archive/index-layout.ts)
 *   ['study', studyId]                 study record: epoch, wrapped study key, sealed attributes (index-layout.ts)
 *   ['study-uid', lookup(StudyUID)]    studyId, to find a study by its StudyInstanceUID (index-layout.ts)
 *   ['instance', studyId, lookup(SOP)] instance record: blob id, sealed attributes (index-layout.ts)
 *   ['sop', lookup(SOPInstanceUID)]    studyId, to find an instance and spot duplicates (index-layout.ts)
 *   ['summary', studyId]               a study's sealed summary for the query index, a cache (pacs/study-summary.ts)
 *   ['index-snapshot', NNNNNN]         every study's entry of the query index, sealed, in parts: a cache (pacs/index-snapshot.ts)
 *   ['unlogged', studyId, lookup(SOP)] empty: an instance stored here whose study.instances op is not written yet (archive/instance-batcher.ts)
 *   ['oplog', NNNNNNNNNNNN]            the signed ops in arrival order (log/op-journal.ts)
 *   ['oplog-checkpoint']               how much of the journal this node already verified, MACed (log/journal-checkpoint.ts)
 *   ['token', tokenId]                 an HTTP bearer token's hash and record (daemon/tokens.ts)
 *   ['session', sha256(id) hex]        a signed-in person's session at this site, by its id's hash (people/sessions.ts)
 *   ['totp-step', userId]              the last TOTP time step accepted for a user here: a code is good once (people/totp.ts)
 *   ['invite', inviteNodeId]           an invite and whether it was used (mesh/invites.ts)
 *   ['mesh', 'bootstrap']              the addresses a joined node dials first (store/joined-data-dir.ts)
 *   ['restore', 'state']               how far a restore got (cli/run/restore.ts)
 *
 * Lookups are keyed hashes of UIDs; nothing in a key carries PHI in clear.
 */
import type { BlobId } from '../../protocol/blob-id.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import type { KvKey } from './kv.ts'

/** Journal positions are fixed-width decimal, so key order is numeric order. */
const JOURNAL_WIDTH = 12

export const keys = {
  /** The node id of the data dir this index belongs to, written by init. */
  owner: ['meta', 'node'] as KvKey,
  blob: (id: BlobId): KvKey => ['blob', id],
  blobs: ['blob'] as KvKey,
  study: (id: StudyId): KvKey => ['study', id],
  studies: ['study'] as KvKey,
  studyUid: (lookup: string): KvKey => ['study-uid', lookup],
  studyUids: ['study-uid'] as KvKey,
  instance: (study: StudyId, lookup: string): KvKey => ['instance', study, lookup],
  instancesOf: (study: StudyId): KvKey => ['instance', study],
  instances: ['instance'] as KvKey,
  sop: (lookup: string): KvKey => ['sop', lookup],
  sops: ['sop'] as KvKey,
  studySummary: (study: StudyId): KvKey => ['summary', study],
  studySummaries: ['summary'] as KvKey,
  indexSnapshot: (part: number): KvKey => ['index-snapshot', String(part).padStart(6, '0')],
  indexSnapshots: ['index-snapshot'] as KvKey,
  unlogged: (study: StudyId, lookup: string): KvKey => ['unlogged', study, lookup],
  unloggedOf: (study: StudyId): KvKey => ['unlogged', study],
  unloggedAll: ['unlogged'] as KvKey,
  journalEntry: (position: number): KvKey => ['oplog', String(position).padStart(JOURNAL_WIDTH, '0')],
  journal: ['oplog'] as KvKey,
  /** Not under ['oplog'], so reading the journal never meets it. */
  journalCheckpoint: ['oplog-checkpoint'] as KvKey,
  /** Whether a journal key's position part is well formed (JOURNAL_WIDTH digits). */
  isJournalPosition: (part: string): boolean => part.length === JOURNAL_WIDTH && /^\d+$/.test(part),
  token: (id: string): KvKey => ['token', id],
  tokens: ['token'] as KvKey,
  session: (idHash: string): KvKey => ['session', idHash],
  sessions: ['session'] as KvKey,
  totpStep: (user: string): KvKey => ['totp-step', user],
  invite: (id: string): KvKey => ['invite', id],
  invites: ['invite'] as KvKey,
  bootstrap: ['mesh', 'bootstrap'] as KvKey,
  restoreState: ['restore', 'state'] as KvKey
} as const
