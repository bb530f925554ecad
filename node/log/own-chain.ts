/**
 * This node's own chain in the journal, checked against the high-water mark of own seqs
 * (log-mark.json, seq-mark.ts) and, through a running node, against what its peers and the
 * backup hold of it (their last hellos): deleting the newest entries leaves no hole in the
 * journal, only a head lower than what others know of it.
 */
import { toHex as toHexString } from '../../protocol/encoding.ts'
import { publicKeyFromNodeId } from '../../protocol/identity.ts'
import type { Archive } from '../archive/archive.ts'
import { readOrgFile } from '../keys/keyring.ts'
import { checkJournal, readJournal, type JournalProgress, type LogCheck, type LogProblem } from './journal-check.ts'
import { MARK_FILE, readSeqMark } from './seq-mark.ts'

/** Reads the org's genesis op (keys/org.cbor, not sealed) and the journal of `archive`, and checks them. */
export async function checkArchiveLog (archive: Archive, running?: Record<string, unknown>, onProgress?: (progress: JournalProgress) => void): Promise<LogCheck & { ownChain: OwnChain }> {
  const problems: LogProblem[] = []
  const org = archive.hasKeys ? archive.keyring.org : await readOrgFile(archive.layout.keysDir, archive.provider)
  const check = await checkJournal(archive.provider, org.genesisBytes, readJournal(archive.kv, problems), onProgress === undefined ? {} : { onProgress })
  const ownChain = await checkOwnChain(archive, check, running, problems)
  return { ...check, problems: [...problems, ...check.problems], ownChain }
}

/** This node's own chain in the journal against the mark and what peers hold of it. */
export interface OwnChain {
  readonly nodeId: string
  /** The highest own seq in the journal. */
  readonly journalHead: number
  /** The high-water mark of own seqs, if the data dir has one. */
  readonly mark: number | undefined
  /** Through a running node: each peer's holding of this node's ops at its last hello. */
  readonly peers: Array<{ peer: string, nodeId: string | undefined, role: string | undefined, connected: boolean, holds: number | undefined, lastSync: string | undefined }> | undefined
}

interface RunningPeer { peer: string, nodeId?: string, role?: string, connected: boolean, holdsOfThisNode?: number, lastSync?: string, diverged?: Array<{ author: string, seq: number }> }

async function checkOwnChain (archive: Archive, check: LogCheck, running: Record<string, unknown> | undefined, problems: LogProblem[]): Promise<OwnChain> {
  const nodeId = archive.meta.nodeId
  const self = toHexString(publicKeyFromNodeId(nodeId))
  let journalHead = 0
  for (const op of check.oplog.ops()) if (op.authorId === nodeId && op.seq > journalHead) journalHead = op.seq
  let mark: number | undefined
  try {
    const stored = await readSeqMark(archive.layout.root)
    if (stored !== undefined && stored.author === self) mark = stored.seq
    else if (stored !== undefined) problems.push({ kind: 'mark-unreadable', object: stored.path, message: `the high-water mark file names author ${stored.author.slice(0, 16)}…, not this node: it belongs to another data dir` })
  } catch (error) {
    problems.push({ kind: 'mark-unreadable', object: MARK_FILE, message: (error as Error).message })
  }
  if (mark !== undefined && mark > journalHead) {
    problems.push({
      kind: 'journal-truncated',
      object: `author ${nodeId}`,
      message: `the high-water mark (${MARK_FILE}) says this node signed its own ops up to seq ${mark}, but the journal ends at ${journalHead}: ` +
        `${mark - journalHead} of its newest ops were deleted or lost; start the node with a peer or the backup reachable to fetch them back`
    })
  }
  const mesh = (running?.mesh ?? undefined) as { peers?: RunningPeer[] } | undefined
  const peers = mesh?.peers?.map((p) => ({ peer: p.peer, nodeId: p.nodeId, role: p.role, connected: p.connected, holds: p.holdsOfThisNode, lastSync: p.lastSync }))
  for (const p of mesh?.peers ?? []) {
    const name = `${p.role ?? 'peer'} ${p.nodeId ?? p.peer}`
    if (p.holdsOfThisNode !== undefined && p.holdsOfThisNode > journalHead) {
      problems.push({
        kind: 'peer-ahead',
        object: `peer ${p.nodeId ?? p.peer}`,
        message: `${name} holds seq ${p.holdsOfThisNode} of this node but the journal ends at ${journalHead} (as of its last sync, ${p.lastSync ?? 'unknown'}): ` +
          `${p.holdsOfThisNode - journalHead} of this node's ops are missing here; the node fetches them back from that peer`
      })
    }
    for (const d of p.diverged ?? []) {
      if (d.author !== self) continue
      problems.push({ kind: 'fork', object: `peer ${p.nodeId ?? p.peer}`, message: `${name} holds a different op of this node at seq ${d.seq} than the journal: this node's key signed two ops with one seq` })
    }
  }
  return { nodeId, journalHead, mark, peers }
}

