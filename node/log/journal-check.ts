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
  for await (const [key, value] of kv.entries(keys.journal)) {
    const part = key[1] ?? ''
    if (key.length !== 2 || !keys.isJournalPosition(part)) {
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

type Decoded = Array<{ position: number, op: SignedOp }>

/** Holes in the journal positions: an entry was deleted (or a write failed part way). */
function journalGaps (journal: readonly JournalEntry[], problems: LogProblem[]): void {
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
}

/** Each entry alone: it decodes, its signature verifies, it is of this org; then added one by one (incremental state). */
function decodeEntries (crypto: CryptoProvider, oplog: OpLog, genesis: SignedOp, journal: readonly JournalEntry[], problems: LogProblem[]): Decoded {
  const decoded: Decoded = []
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
  return decoded
}

/**
 * The journal holds ops in the order this node accepted them, which is causal: an op stored
 * before one of its parents means entries were moved (reordered) after they were written.
 */
function orderProblems (genesis: SignedOp, decoded: Decoded, problems: LogProblem[]): void {
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
}

/** Parents that never arrived: ops were lost. */
function missingParents (oplog: OpLog, decoded: Decoded, problems: LogProblem[]): void {
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
}

/** Every author's chain is 1..n; returns the seqs held per author. */
function seqGaps (genesis: SignedOp, decoded: Decoded, problems: LogProblem[]): Map<string, Set<number>> {
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
  return seqsByAuthor
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

/** Rebuilds the op set from the journal and checks it (see the header). Pure apart from the provider. */
export function checkJournal (crypto: CryptoProvider, genesisBytes: Uint8Array, journal: readonly JournalEntry[]): LogCheck {
  const problems: LogProblem[] = []
  const oplog = new OpLog(crypto, genesisBytes, { maxPending: Math.max(10_000, journal.length + 1) })
  const genesis = oplog.get(oplog.orgId)!
  journalGaps(journal, problems)
  const decoded = decodeEntries(crypto, oplog, genesis, journal, problems)
  orderProblems(genesis, decoded, problems)
  missingParents(oplog, decoded, problems)
  const seqsByAuthor = seqGaps(genesis, decoded, problems)
  const digests = stateProblems(crypto, oplog, problems)
  const state = oplog.state
  const rejected: RejectedOp[] = []
  for (const [opId, reason] of state.rejected) {
    const op = oplog.get(opId)
    rejected.push({ opId, author: op === undefined ? '' : op.authorId, seq: op?.seq ?? 0, opType: op?.type ?? '', reason })
  }
  return { oplog, state, entries: journal.length, ops: oplog.size, authors: seqsByAuthor.size, rejected, ...digests, problems }
}
