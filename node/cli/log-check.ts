/**
 * Checks of the signed log as stored, for `peerpacs log verify` and `peerpacs audit verify`.
 *
 * The checks read the journal (['oplog', NNNNNNNNNNNN] in the index) themselves and rebuild the
 * op set from its bytes alone, so they work where loading the log would stop: a damaged or
 * truncated journal is reported op by op instead of refusing to open. They need no keys (the
 * org's genesis op is in keys/org.cbor, which is not sealed); only opening audit records does.
 *
 * What is checked: every entry decodes (envelope, signature, canonical payload, body) and is of
 * this org; journal positions are contiguous (a deleted entry leaves a hole; the last entry can
 * only be missed by comparing with a peer); every author's ops form the chain 1..n; every op's
 * parents are held; no author forked; and the incremental state (ops added one by one, in
 * journal order) equals a replay from scratch. And this node's own chain: the journal must reach
 * the high-water mark of own seqs (log-mark.json, kept apart from the journal), and, through a
 * running node, every seq its peers and the backup hold of it (their last hellos): deleting the
 * newest entries leaves no hole in the journal, only a head lower than what others know of it.
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { decodeOp, OpLog, OpRejectedError, stateDigest, type OrgState, type RejectReason, type SignedOp } from '../../protocol/log/index.ts'
import { readOrgFile, unlockKeyring, type Keyring } from '../keys/keyring.ts'
import { KeyFileError } from '../keys/errors.ts'
import { resolvePassphrase } from '../keys/passphrase.ts'
import { provider } from '../runtime.ts'
import type { Archive } from '../archive/archive.ts'
import { dataDirLayout, readDataDirMeta } from '../store/data-dir.ts'
import type { KvStore } from '../store/kv.ts'
import type { CommandContext } from './command.ts'
import { withArchive } from './open-archive.ts'
import { toHex as toHexString } from '../../protocol/encoding.ts'
import { publicKeyFromNodeId } from '../../protocol/identity.ts'
import { MARK_FILE, readSeqMark } from '../log/seq-mark.ts'

export const JOURNAL_PREFIX = 'oplog'

export interface LogProblem {
  readonly kind: 'journal-key' | 'journal-gap' | 'journal-order' | 'op-damaged' | 'wrong-org' | 'missing-parent' | 'seq-gap' | 'fork' | 'replay-mismatch' |
  'journal-truncated' | 'peer-ahead' | 'mark-unreadable' |
  'study-not-in-index' | 'study-not-in-log' | 'audit-rejected' | 'audit-unreadable'
  /** What it is about: a journal position, an op, an author, a study. */
  readonly object: string
  readonly message: string
}

export interface JournalEntry {
  readonly position: number
  readonly bytes: Uint8Array
}

export interface RejectedOp {
  readonly opId: string
  readonly author: string
  readonly seq: number
  readonly opType: string
  readonly reason: RejectReason
}

export interface LogCheck {
  /** The op set rebuilt from the journal (every decodable op of this org). */
  readonly oplog: OpLog
  readonly state: OrgState
  /** Journal entries read. */
  readonly entries: number
  /** Ops held in the rebuilt set, the genesis op included. */
  readonly ops: number
  readonly authors: number
  readonly rejected: RejectedOp[]
  readonly incrementalDigest: string
  readonly replayDigest: string
  readonly problems: LogProblem[]
}

/** Reads every journal entry, in position order; keys that are not journal positions are problems. */
export async function readJournal (kv: KvStore, problems: LogProblem[]): Promise<JournalEntry[]> {
  const out: JournalEntry[] = []
  for await (const [key, value] of kv.entries([JOURNAL_PREFIX])) {
    const part = key[1] ?? ''
    if (key.length !== 2 || !/^\d{12}$/.test(part)) {
      problems.push({ kind: 'journal-key', object: `index key ${JSON.stringify(key)}`, message: 'an entry under the journal prefix is not a journal position (12 digits): the index was altered' })
      continue
    }
    out.push({ position: Number(part), bytes: value })
  }
  return out
}

function ranges (seqs: number[]): string {
  const out: string[] = []
  let start = seqs[0]!
  let prev = start
  for (const s of [...seqs.slice(1), Number.NaN]) {
    if (s === prev + 1) { prev = s; continue }
    out.push(start === prev ? String(start) : `${start}–${prev}`)
    start = s
    prev = s
  }
  return out.join(', ')
}

const short = (id: string): string => id.slice(0, 16)

/** Rebuilds the op set from the journal and checks it (see the header). Pure apart from the provider. */
export function checkJournal (crypto: CryptoProvider, genesisBytes: Uint8Array, journal: readonly JournalEntry[]): LogCheck {
  const problems: LogProblem[] = []
  const oplog = new OpLog(crypto, genesisBytes, { maxPending: Math.max(10_000, journal.length + 1) })
  const genesis = oplog.get(oplog.orgId)!

  // Holes in the journal positions: an entry was deleted (or a write failed part way).
  for (let i = 1; i < journal.length; i++) {
    const before = journal[i - 1]!.position
    const after = journal[i]!.position
    if (after > before + 1) {
      const missing = after - before - 1
      problems.push({
        kind: 'journal-gap',
        object: `journal ${before + 1}${missing > 1 ? `–${after - 1}` : ''}`,
        message: `${missing === 1 ? 'journal entry' : `${missing} journal entries`} ${before + 1}${missing > 1 ? `–${after - 1}` : ''} ${missing === 1 ? 'is' : 'are'} missing: an op was deleted from the log`
      })
    }
  }
  if (journal.length > 0 && journal[0]!.position !== 0) {
    problems.push({ kind: 'journal-gap', object: `journal 0–${journal[0]!.position - 1}`, message: `the first ${journal[0]!.position} journal entries are missing: ops were deleted from the log` })
  }

  // Each entry alone: it decodes, its signature verifies, it is of this org. Then added one by one (incremental state).
  const decoded: Array<{ position: number, op: SignedOp }> = []
  for (const entry of journal) {
    let op: SignedOp
    try {
      op = decodeOp(crypto, entry.bytes)
    } catch (error) {
      const reason = error instanceof OpRejectedError ? error.reason : 'malformed'
      const message = error instanceof PeerpacsError ? error.message : String(error)
      problems.push({ kind: 'op-damaged', object: `journal ${entry.position}`, message: `the op stored at journal entry ${entry.position} does not verify (${reason}): ${message}` })
      continue
    }
    if (op.type === 'org.genesis' || op.org !== oplog.orgId) {
      if (op.idHex !== genesis.idHex) problems.push({ kind: 'wrong-org', object: `op ${op.idHex}`, message: `journal entry ${entry.position} holds an op of another org (${op.type === 'org.genesis' ? 'a genesis op' : `org ${op.org.slice(0, 16)}…`})` })
      continue
    }
    decoded.push({ position: entry.position, op })
    oplog.add(op)
  }

  // The journal holds ops in the order this node accepted them, which is causal: an op stored
  // before one of its parents means entries were moved (reordered) after they were written.
  const at = new Map<string, number>([[genesis.idHex as string, -1]])
  for (const { position, op } of decoded) at.set(op.idHex as string, position)
  for (const { position, op } of decoded) {
    for (const parent of op.parents) {
      const p = at.get(toHexString(parent))
      if (p !== undefined && p > position) {
        problems.push({ kind: 'journal-order', object: `journal ${position}`, message: `the ${op.type} op by ${op.authorId} (seq ${op.seq}) at journal entry ${position} comes before its parent at entry ${p}: journal entries were reordered` })
      }
    }
  }

  // Parents that never arrived: ops were lost.
  for (const { position, op } of decoded) {
    if (oplog.verdict(op.idHex)?.status !== 'pending') continue
    const missing = op.parents.map((p) => Buffer.from(p).toString('hex')).filter((p) => !oplog.has(p) && oplog.verdict(p) === undefined)
    problems.push({
      kind: 'missing-parent',
      object: `op ${op.idHex}`,
      message: `${op.type} op (journal ${position}, by ${op.authorId} seq ${op.seq}) cannot be placed: ` +
        (missing.length > 0 ? `its parent${missing.length > 1 ? 's' : ''} ${missing.map(short).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the log` : 'an ancestor is not in the log')
    })
  }

  // Every author's chain is 1..n.
  const seqsByAuthor = new Map<string, Set<number>>([[genesis.authorId, new Set([1])]])
  for (const { op } of decoded) {
    let seqs = seqsByAuthor.get(op.authorId)
    if (seqs === undefined) seqsByAuthor.set(op.authorId, seqs = new Set())
    seqs.add(op.seq)
  }
  for (const [author, set] of seqsByAuthor) {
    const seqs = [...set].sort((a, b) => a - b)
    const max = seqs[seqs.length - 1]!
    if (seqs.length === max) continue
    const missing: number[] = []
    for (let s = 1; s <= max; s++) if (!set.has(s)) missing.push(s)
    problems.push({
      kind: 'seq-gap',
      object: `author ${author}`,
      message: `the ops of ${author} are not a contiguous chain: seq ${ranges(missing)} ${missing.length > 1 ? 'are' : 'is'} missing (held: ${ranges(seqs)}); an op was removed`
    })
  }

  const state = oplog.state
  for (const [author, fork] of state.forks) {
    problems.push({ kind: 'fork', object: `author ${author}`, message: `${author} signed two different ops at seq ${fork.seq} (${fork.evidence.map(short).join(', ')}): proof of misbehaviour; none of its ops from seq ${fork.seq} on apply` })
  }

  const incrementalDigest = stateDigest(crypto, state)
  const replayDigest = stateDigest(crypto, oplog.replay())
  if (incrementalDigest !== replayDigest) {
    problems.push({ kind: 'replay-mismatch', object: 'state', message: `the state built op by op (${short(incrementalDigest)}) differs from a replay from scratch (${short(replayDigest)}): a bug in the state machine; report it` })
  }

  const rejected: RejectedOp[] = []
  for (const [opId, reason] of state.rejected) {
    const op = oplog.get(opId)
    rejected.push({ opId, author: op === undefined ? '' : op.authorId, seq: op?.seq ?? 0, opType: op?.type ?? '', reason })
  }

  return {
    oplog,
    state,
    entries: journal.length,
    ops: oplog.size,
    authors: seqsByAuthor.size,
    rejected,
    incrementalDigest,
    replayDigest,
    problems
  }
}

/** Reads the org's genesis op (keys/org.cbor, not sealed) and the journal of `archive`, and checks them. */
export async function checkArchiveLog (archive: Archive, running?: Record<string, unknown>): Promise<LogCheck & { ownChain: OwnChain }> {
  const problems: LogProblem[] = []
  const org = archive.hasKeys ? archive.keyring.org : await readOrgFile(archive.layout.keysDir, archive.provider)
  const journal = await readJournal(archive.kv, problems)
  const check = checkJournal(archive.provider, org.genesisBytes, journal)
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

/** Lines saying how the journal's head compares with the mark and each peer (for the verify commands). */
export function ownChainLines (own: OwnChain): string[] {
  const out = [`  own chain: the journal ends at seq ${own.journalHead}; high-water mark ${own.mark ?? 'none'}`]
  if (own.peers === undefined) out.push('  (the node is not running: its peers\' holdings of this node were not compared)')
  else if (own.peers.length === 0) out.push('  no other members to compare with')
  else {
    for (const p of own.peers) {
      const holds = p.holds === undefined ? 'not synced since the node started' : `holds seq ${p.holds} of this node${p.holds > own.journalHead ? ` but the journal ends at ${own.journalHead}` : ''}`
      out.push(`  ${p.role ?? 'peer'} ${p.nodeId ?? p.peer} (${p.connected ? 'connected' : 'not connected'}): ${holds}`)
    }
  }
  return out
}

/**
 * Opens the data dir for a check of its log: the index and blobs without loading the log (so a
 * damaged log can be examined), and the keyring only when `keys` is 'required' (unlocked here,
 * with the passphrase, as Archive.open would). Inside a running node, its archive and keys.
 */
export async function withLogCheck<T> (context: CommandContext, command: string, keys: 'required' | 'none', work: (archive: Archive, keyring: Keyring | undefined) => Promise<T>): Promise<T> {
  if (context.node !== undefined) {
    const archive = context.node.archive
    return await withArchive(context, command, keys, async () => await work(archive, keys === 'required' ? archive.keyring : undefined))
  }
  let keyring: Keyring | undefined
  if (keys === 'required') {
    // The passphrase is checked before the data dir is opened, as Archive.open does.
    const passphraseFile = context.values['passphrase-file']
    const passphrase = await resolvePassphrase(typeof passphraseFile === 'string' ? passphraseFile : undefined, context.env)
    const layout = dataDirLayout(context.dataDir)
    const meta = await readDataDirMeta(layout)
    keyring = await unlockKeyring(layout.keysDir, passphrase, provider)
    if (keyring.nodeId !== meta.nodeId || keyring.orgId !== meta.orgId) {
      throw new KeyFileError(`the keys in ${layout.keysDir} belong to node ${keyring.nodeId}, but ${layout.metaFile} names node ${meta.nodeId}`)
    }
  }
  return await withArchive(context, command, 'none', async (archive) => await work(archive, keyring))
}
