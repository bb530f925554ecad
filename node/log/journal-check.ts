/**
 * Checks of the signed log as stored, for `peerpacs log verify` and `peerpacs audit verify`
 * (what this node's own chain is checked against: own-chain.ts).
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
import { toHex as toHexString } from '../../protocol/encoding.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { decodeOp, OpLog, OpRejectedError, stateDigest, type OrgState, type RejectReason, type SignedOp } from '../../protocol/log/index.ts'
import type { KvStore } from '../store/kv.ts'
import { keys } from '../store/key-space.ts'
import { SeqRanges } from './seq-ranges.ts'

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

/** Every journal entry, in position order, streamed; keys that are not journal positions are problems. */
export async function * readJournal (kv: KvStore, problems: LogProblem[]): AsyncIterable<JournalEntry> {
  for await (const [key, value] of kv.entries(keys.journal)) {
    const part = key[1] ?? ''
    if (key.length !== 2 || !keys.isJournalPosition(part)) {
      problems.push({ kind: 'journal-key', object: `index key ${JSON.stringify(key)}`, message: 'an entry under the journal prefix is not a journal position (12 digits): the index was altered' })
      continue
    }
    yield { position: Number(part), bytes: value }
  }
}

const short = (id: string): string => id.slice(0, 16)

/** Journal entries read so far and ops decoded, for progress. */
export interface JournalProgress { readonly phase: 'ops' | 'replay', readonly entries: number }

export interface CheckJournalOptions {
  readonly onProgress?: (progress: JournalProgress) => void
}

/** Entries decoded between two progress reports. */
const PROGRESS_EVERY = 1024

/**
 * What the checks keep while the journal streams past, besides the op set itself (which holds
 * every op, its bytes included: that is the log's memory, as a node's is): per journal entry a
 * position and a reference to its op (for the order and missing-parent checks, which run once
 * every op is held), per op id its last position, per author its seqs as ranges.
 */
class JournalState {
  readonly oplog: OpLog
  readonly genesis: SignedOp
  readonly gaps: LogProblem[] = []
  readonly damaged: LogProblem[] = []
  readonly positions: number[] = []
  readonly ops: SignedOp[] = []
  readonly at = new Map<string, number>()
  readonly seqs = new Map<string, SeqRanges>()
  entries = 0
  first: number | undefined
  previous: number | undefined

  constructor (oplog: OpLog) {
    this.oplog = oplog
    this.genesis = oplog.get(oplog.orgId)!
    this.at.set(this.genesis.idHex, -1)
    this.seqs.set(this.genesis.authorId, new SeqRanges(1))
  }
}

/** Holes in the journal positions: an entry was deleted (or a write failed part way). */
function gapBefore (j: JournalState, position: number): void {
  const before = j.previous
  j.previous = position
  if (before === undefined) { j.first = position; return }
  if (position > before + 1) {
    const missing = position - before - 1
    j.gaps.push({
      kind: 'journal-gap',
      object: `journal ${before + 1}${missing > 1 ? `–${position - 1}` : ''}`,
      message: `${missing === 1 ? 'journal entry' : `${missing} journal entries`} ${before + 1}${missing > 1 ? `–${position - 1}` : ''} ${missing === 1 ? 'is' : 'are'} missing: an op was deleted from the log`
    })
  }
}

/** Each entry alone: it decodes, its signature verifies, it is of this org; then added one by one (incremental state). */
function decodeEntry (crypto: CryptoProvider, j: JournalState, entry: JournalEntry): void {
  gapBefore(j, entry.position)
  j.entries++
  let op: SignedOp
  try {
    op = decodeOp(crypto, entry.bytes)
  } catch (error) {
    const reason = error instanceof OpRejectedError ? error.reason : 'malformed'
    const message = error instanceof PeerpacsError ? error.message : String(error)
    j.damaged.push({ kind: 'op-damaged', object: `journal ${entry.position}`, message: `the op stored at journal entry ${entry.position} does not verify (${reason}): ${message}` })
    return
  }
  if (op.type === 'org.genesis' || op.org !== j.oplog.orgId) {
    if (op.idHex !== j.genesis.idHex) j.damaged.push({ kind: 'wrong-org', object: `op ${op.idHex}`, message: `journal entry ${entry.position} holds an op of another org (${op.type === 'org.genesis' ? 'a genesis op' : `org ${op.org.slice(0, 16)}…`})` })
    return
  }
  j.positions.push(entry.position)
  j.ops.push(op)
  j.at.set(op.idHex, entry.position)
  const seqs = j.seqs.get(op.authorId)
  if (seqs === undefined) j.seqs.set(op.authorId, new SeqRanges(op.seq))
  else seqs.add(op.seq)
  j.oplog.add(op)
}

/**
 * The journal holds ops in the order this node accepted them, which is causal: an op stored
 * before one of its parents means entries were moved (reordered) after they were written.
 */
function orderProblems (j: JournalState, problems: LogProblem[]): void {
  for (const [i, op] of j.ops.entries()) {
    const position = j.positions[i]!
    for (const parent of op.parents) {
      const p = j.at.get(toHexString(parent))
      if (p !== undefined && p > position) {
        problems.push({ kind: 'journal-order', object: `journal ${position}`, message: `the ${op.type} op by ${op.authorId} (seq ${op.seq}) at journal entry ${position} comes before its parent at entry ${p}: journal entries were reordered` })
      }
    }
  }
}

/** Parents that never arrived: ops were lost. */
function missingParents (j: JournalState, problems: LogProblem[]): void {
  const oplog = j.oplog
  for (const [i, op] of j.ops.entries()) {
    if (oplog.verdict(op.idHex)?.status !== 'pending') continue
    const missing = op.parents.map((p) => Buffer.from(p).toString('hex')).filter((p) => !oplog.has(p) && oplog.verdict(p) === undefined)
    problems.push({
      kind: 'missing-parent',
      object: `op ${op.idHex}`,
      message: `${op.type} op (journal ${j.positions[i]!}, by ${op.authorId} seq ${op.seq}) cannot be placed: ` +
        (missing.length > 0 ? `its parent${missing.length > 1 ? 's' : ''} ${missing.map(short).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the log` : 'an ancestor is not in the log')
    })
  }
}

/** Every author's chain is 1..n. */
function seqGaps (j: JournalState, problems: LogProblem[]): void {
  for (const [author, seqs] of j.seqs) {
    const missing = seqs.missing()
    if (missing.count === 0) continue
    problems.push({
      kind: 'seq-gap',
      object: `author ${author}`,
      message: `the ops of ${author} are not a contiguous chain: seq ${missing.text} ${missing.count > 1 ? 'are' : 'is'} missing (held: ${seqs.text()}); an op was removed`
    })
  }
}

/** Forks, and the incremental state against a replay from scratch. */
function stateProblems (crypto: CryptoProvider, oplog: OpLog, problems: LogProblem[]): { incrementalDigest: string, replayDigest: string } {
  for (const [author, fork] of oplog.state.forks) {
    problems.push({ kind: 'fork', object: `author ${author}`, message: `${author} signed two different ops at seq ${fork.seq} (${fork.evidence.map(short).join(', ')}): proof of misbehaviour; none of its ops from seq ${fork.seq} on apply` })
  }
  const incrementalDigest = stateDigest(crypto, oplog.state)
  const replayDigest = stateDigest(crypto, oplog.replay())
  if (incrementalDigest !== replayDigest) {
    problems.push({ kind: 'replay-mismatch', object: 'state', message: `the state built op by op (${short(incrementalDigest)}) differs from a replay from scratch (${short(replayDigest)}): a bug in the state machine; report it` })
  }
  return { incrementalDigest, replayDigest }
}

/**
 * Rebuilds the op set from the journal, streamed in position order, and checks it (see the
 * header). Pure apart from the provider.
 */
export async function checkJournal (crypto: CryptoProvider, genesisBytes: Uint8Array, journal: AsyncIterable<JournalEntry> | Iterable<JournalEntry>, options: CheckJournalOptions = {}): Promise<LogCheck> {
  // Every op waits for its parents if it must: nothing is refused as 'pending-full' here.
  const oplog = new OpLog(crypto, genesisBytes, { maxPending: Number.MAX_SAFE_INTEGER })
  const j = new JournalState(oplog)
  for await (const entry of journal) {
    decodeEntry(crypto, j, entry)
    if (j.entries % PROGRESS_EVERY === 0) options.onProgress?.({ phase: 'ops', entries: j.entries })
  }
  options.onProgress?.({ phase: 'ops', entries: j.entries })
  const problems: LogProblem[] = [...j.gaps]
  if (j.first !== undefined && j.first !== 0) {
    problems.push({ kind: 'journal-gap', object: `journal 0–${j.first - 1}`, message: `the first ${j.first} journal entries are missing: ops were deleted from the log` })
  }
  problems.push(...j.damaged)
  orderProblems(j, problems)
  missingParents(j, problems)
  seqGaps(j, problems)
  options.onProgress?.({ phase: 'replay', entries: j.entries })
  const digests = stateProblems(crypto, oplog, problems)
  const state = oplog.state
  const rejected: RejectedOp[] = []
  for (const [opId, reason] of state.rejected) {
    const op = oplog.get(opId)
    rejected.push({ opId, author: op === undefined ? '' : op.authorId, seq: op?.seq ?? 0, opType: op?.type ?? '', reason })
  }
  return { oplog, state, entries: j.entries, ops: oplog.size, authors: j.seqs.size, rejected, ...digests, problems }
}
