/**
 * The high-water mark of this node's own seqs: the highest seq of an op this node signed whose
 * journal entry became durable, kept in a small file of the data dir (log-mark.json), apart
 * from the journal. NodeLog raises it after a batch carrying own ops committed and before those
 * ops are offered to any peer, so every own op a peer can hold is at or below the mark. At
 * start, a journal whose own chain ends below the mark has lost ops (deleted, or the index
 * rolled back): the node must not sign those seqs again (docs/protocol.md "Own seqs").
 *
 * Raising costs one small atomic file write (temp file, fsync, rename) per commit group, never
 * one per op: raises that arrive while a write is in flight are covered by the next write.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { writeFileAtomic } from '../store/atomic-file.ts'

export const MARK_FILE = 'log-mark.json'
const FORMAT = 'peerpacs-log-mark'

export class SeqMarkError extends PeerpacsError {
  static readonly code = 'LOG_MARK'
  constructor (message: string, hint?: string) { super(SeqMarkError.code, message, hint === undefined ? {} : { hint }) }
}

export interface SeqMark {
  /** The highest own seq recorded as durable (0 when none). */
  readonly seq: number
  /** Records `seq` if it is higher; resolves once a write covering it is durable. */
  raise (seq: number): Promise<void>
  /** Records `seq` even when lower (the lost seqs were confirmed never to have left this node). */
  lower (seq: number): Promise<void>
  /** Where it is kept (for messages). */
  readonly where: string
  /** Resolves once no write is queued or in flight (before the data dir is closed). */
  settle (): Promise<void>
}

/** Coalesces raises into one write at a time; `persist` makes a value durable. */
class CoalescingMark implements SeqMark {
  #durable: number
  #target: number
  #inflight: { seq: number, done: Promise<void> } | undefined
  #queued: Promise<void> | undefined
  readonly #persist: (seq: number) => Promise<void>
  readonly where: string

  constructor (initial: number, where: string, persist: (seq: number) => Promise<void>) {
    this.#durable = initial
    this.#target = initial
    this.where = where
    this.#persist = persist
  }

  get seq (): number { return this.#durable }

  async raise (seq: number): Promise<void> {
    if (seq <= this.#durable) return
    if (this.#inflight !== undefined && seq <= this.#inflight.seq) return await this.#inflight.done
    if (seq > this.#target) this.#target = seq
    this.#queued ??= (this.#inflight?.done ?? Promise.resolve()).catch(() => undefined).then(async () => { await this.#run() })
    return await this.#queued
  }

  async #run (): Promise<void> {
    this.#queued = undefined
    const seq = this.#target
    const done = this.#persist(seq).then(() => { if (seq > this.#durable) this.#durable = seq })
    const inflight = { seq, done }
    this.#inflight = inflight
    try { await done } finally { if (this.#inflight === inflight) this.#inflight = undefined }
  }

  async settle (): Promise<void> {
    while (this.#queued !== undefined || this.#inflight !== undefined) {
      await (this.#queued ?? this.#inflight?.done)?.catch(() => undefined)
    }
  }

  async lower (seq: number): Promise<void> {
    await (this.#inflight?.done ?? Promise.resolve()).catch(() => undefined)
    await this.#persist(seq)
    this.#durable = seq
    this.#target = seq
  }
}

/** A mark in memory only (tests, and stores that are not a data dir). */
export function memorySeqMark (initial = 0): SeqMark {
  return new CoalescingMark(initial, 'memory', async () => {})
}

/**
 * Opens (or starts) the mark file of the data dir at `root` for the author `authorHex`. An
 * archive whose data dir is not on disk (memory stores, in tests) keeps its mark in memory.
 */
export async function openSeqMark (root: string, authorHex: string): Promise<SeqMark> {
  if (!await exists(root)) return memorySeqMark()
  const stored = await readSeqMark(root)
  const path = join(root, MARK_FILE)
  if (stored !== undefined && stored.author !== authorHex) {
    throw new SeqMarkError(`${path} is the mark of author ${stored.author.slice(0, 16)}…, not of this node's key ${authorHex.slice(0, 16)}…`, 'the file belongs to another data dir; move it aside')
  }
  return new CoalescingMark(stored?.seq ?? 0, path, async (seq) => {
    await writeFileAtomic(path, JSON.stringify({ format: FORMAT, author: authorHex, seq }) + '\n', 0o600)
  })
}

/** The mark file of the data dir at `root` as stored (undefined when there is none). */
export async function readSeqMark (root: string): Promise<{ author: string, seq: number, path: string } | undefined> {
  const path = join(root, MARK_FILE)
  let text: string
  try { text = await readFile(path, 'utf8') } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new SeqMarkError(`${path} cannot be read: ${(error as Error).message}`)
  }
  let parsed: { format?: unknown, author?: unknown, seq?: unknown }
  try { parsed = JSON.parse(text) as typeof parsed } catch { parsed = {} }
  if (parsed.format !== FORMAT || typeof parsed.seq !== 'number' || !Number.isSafeInteger(parsed.seq) || parsed.seq < 0 || typeof parsed.author !== 'string') {
    throw new SeqMarkError(`${path} is not a log mark (expected {"format":"${FORMAT}","author":…,"seq":n}, got ${JSON.stringify(text.slice(0, 80))})`,
      'the file was altered; keep it as evidence, move it aside and start the node while its peers are reachable: it learns its own seqs back from them')
  }
  return { author: parsed.author, seq: parsed.seq, path }
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}
