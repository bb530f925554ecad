/**
 * The fetching side of /peerpacs/blocks/1.0.0 (protocol/wire/blocks.ts): brings wanted blobs into the local
 * store from whichever peer has them (DESIGN "Replication").
 *
 * - Order: the highest priority first, then the newest want; at most `maxBlobs` blobs at a time,
 *   each from one peer at a time (a started blob is not pre-empted by a later, higher want).
 * - Pipelining: `window` blocks are requested ahead on a blob's stream, so a link with a long
 *   round trip stays busy (one yamux window per stream per round trip would starve it).
 * - Trust: every block is checked against its hash from the signed log before it is written
 *   (PartialBlob.writeBlock). A peer that sends a wrong block, answers out of order, breaks the
 *   framing or sends more than was asked is reported (onViolation) and not asked for that blob
 *   again for `banMs`.
 * - Peers: tried in turn (starting at a different one per blob, to spread the load). NOT_HELD or
 *   REFUSED moves on to the next peer; a dropped or silent stream too, resuming from the blocks
 *   already held. When no peer could give the blob it waits (1 s, doubling to 5 min) and is tried
 *   again then, or as soon as a peer is added (with no peer known, only empty blobs start, so
 *   the first peer added sees the wants in priority order). A restart resumes from the partial file.
 * - Memory: at most `window` blocks received-but-unwritten per blob in flight, so
 *   maxBlobs × window blocks in all (32 MiB by default), whatever the objects' sizes.
 *
 * When every block is held the object is committed into the blob store (made durable once and
 * renamed in, not hashed again: each block was verified), then onFetched(id) is called and the
 * want is dropped. The want's block list is checked against its id once (checkBlobInfo).
 *
 * Over 300 lines on purpose: the queue, the per-peer turns, the pipelined window and the resume
 * from a partial file share each blob's state; split apart, the invariants above (each block
 * verified once, bounded memory, no blob from two peers at once) would span files.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { BLOCK_SIZE, parseBlobId, type BlobId } from '../../../protocol/blob-id.ts'
import { expectInteger, expectObject } from '../../../protocol/bytes.ts'
import { expectProvider, type CryptoProvider } from '../../../protocol/crypto-provider.ts'
import { InvalidArgumentError } from '../../../protocol/errors.ts'
import type { BlobInfo } from '../../../protocol/log/body-content.ts'
import { silentLogger, type Logger } from '../../logging/logger.ts'
import type { BlobStore } from '../../store/blob-store.ts'
import { BlockMismatchError, checkBlobInfo, type PartialBlob } from '../../store/partial-blobs.ts'
import { FrameStreamError, frameStream } from './frame-stream.ts'
import { ANSWER_TIMEOUT_MS, BlocksProtocolError, decodeAnswer, encodeRequest, MAX_ANSWER_FRAME, MAX_REQUEST_BLOCKS } from '../../../protocol/wire/blocks.ts'

export interface BlockFetcherOptions {
  /** Where fetched objects are assembled (beginPartial) and end up. */
  readonly blobs: BlobStore
  readonly provider: CryptoProvider
  /** Opens a /peerpacs/blocks/1.0.0 stream to `peer`. */
  readonly open: (peer: PeerId, signal: AbortSignal) => Promise<Stream>
  /** Blobs fetched at the same time (default 4). */
  readonly maxBlobs?: number
  /** Blocks requested ahead on each blob's stream (default 8, at most 64). */
  readonly window?: number
  readonly onFetched: (id: BlobId) => void | Promise<void>
  readonly onViolation: (peer: PeerId, reason: string) => void
  readonly log?: Logger
  /** Longest wait for the next answer frame (default wire.ts ANSWER_TIMEOUT_MS). */
  readonly answerTimeoutMs?: number
  /** First wait before a blob no peer could give is tried again; doubles up to retryMaxMs. */
  readonly retryMs?: number
  readonly retryMaxMs?: number
  /** How long a peer that misbehaved is not asked for that blob again (default 10 min). */
  readonly banMs?: number
}

export interface BlockFetcherStatus {
  /** Blobs wanted and not yet in the store (including those in flight). */
  readonly wanted: number
  /** Bytes of the wanted blobs not yet held (whole size for blobs not yet started). */
  readonly bytesPending: number
  /** Verified block bytes received since the fetcher was made. */
  readonly bytesFetched: number
  /** Blobs being fetched now (at most maxBlobs). */
  readonly inFlight: number
}

interface Want {
  readonly info: BlobInfo
  priority: number
  readonly seq: number
  active: boolean
  notBefore: number
  attempts: number
  held: number
  /** peer → time until which it is not asked for this blob. */
  readonly banned: Map<string, number>
}

interface Active {
  readonly want: Want
  readonly controller: AbortController
  /** The peer being fetched from now, and a way to drop just that stream. */
  peer?: string
  stream?: AbortController
  done?: Promise<void>
}

type Outcome = 'complete' | 'not-held' | 'failed' | 'violation' | 'cancelled'

export class BlockFetcher {
  readonly #o: BlockFetcherOptions
  readonly #log: Logger
  readonly #maxBlobs: number
  readonly #window: number
  readonly #answerTimeoutMs: number
  readonly #retryMs: number
  readonly #retryMaxMs: number
  readonly #banMs: number
  readonly #wants = new Map<BlobId, Want>()
  readonly #peers = new Map<string, PeerId>()
  readonly #active = new Map<BlobId, Active>()
  #seq = 0
  #bytesFetched = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #closed = false

  constructor (options: BlockFetcherOptions) {
    expectObject(options, 'BlockFetcher(options)')
    expectProvider(options.provider, 'BlockFetcher(options.provider)')
    for (const name of ['open', 'onFetched', 'onViolation'] as const) {
      if (typeof options[name] !== 'function') throw new InvalidArgumentError(`BlockFetcher(options.${name}): expected a function`)
    }
    this.#o = options
    this.#log = options.log ?? silentLogger
    this.#maxBlobs = expectInteger(options.maxBlobs ?? 4, 'BlockFetcher(options.maxBlobs)', 1, 1024)
    this.#window = expectInteger(options.window ?? 8, 'BlockFetcher(options.window)', 1, MAX_REQUEST_BLOCKS)
    this.#answerTimeoutMs = expectInteger(options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS, 'BlockFetcher(options.answerTimeoutMs)', 1)
    this.#retryMs = expectInteger(options.retryMs ?? 1000, 'BlockFetcher(options.retryMs)', 1)
    this.#retryMaxMs = expectInteger(options.retryMaxMs ?? 300_000, 'BlockFetcher(options.retryMaxMs)', 1)
    this.#banMs = expectInteger(options.banMs ?? 600_000, 'BlockFetcher(options.banMs)', 0)
  }

  /**
   * Asks for `info`'s blob. Idempotent: wanting a blob again only changes its priority (higher
   * first; among equals, the newest first want first).
   */
  want (info: BlobInfo, priority = 0): void {
    if (this.#closed) throw new InvalidArgumentError('BlockFetcher.want: the fetcher is closed')
    expectObject(info, 'BlockFetcher.want(info)')
    const id = parseBlobId(info.id)
    if (!Number.isFinite(priority)) throw new InvalidArgumentError(`BlockFetcher.want(priority): expected a finite number, got ${String(priority)}`)
    const existing = this.#wants.get(id)
    if (existing !== undefined) { existing.priority = priority; this.#pump(); return }
    if (info.blockSize !== BLOCK_SIZE) {
      throw new InvalidArgumentError(`blob ${id} has ${info.blockSize}-byte blocks; /peerpacs/blocks/1 moves ${BLOCK_SIZE}-byte blocks only`)
    }
    checkBlobInfo(this.#o.provider, info)
    this.#wants.set(id, { info, priority, seq: this.#seq++, active: false, notBefore: 0, attempts: 0, held: 0, banned: new Map() })
    this.#pump()
  }

  addPeer (peer: PeerId): void {
    this.#peers.set(peer.toString(), peer)
    // A new peer may hold what nobody had: try the waiting blobs now.
    for (const want of this.#wants.values()) if (!want.active) want.notBefore = 0
    this.#pump()
  }

  removePeer (peer: PeerId): void {
    const key = peer.toString()
    this.#peers.delete(key)
    for (const active of this.#active.values()) if (active.peer === key) active.stream?.abort(new Error('peer removed'))
  }

  status (): BlockFetcherStatus {
    let bytesPending = 0
    for (const want of this.#wants.values()) bytesPending += want.info.size - want.held
    return { wanted: this.#wants.size, bytesPending, bytesFetched: this.#bytesFetched, inFlight: this.#active.size }
  }

  /** Stops every transfer (partial files stay, to resume later) and waits for them to end. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const running = [...this.#active.values()]
    for (const active of running) active.controller.abort(new Error('fetcher closed'))
    await Promise.allSettled(running.map(async (active) => await active.done))
  }

  #pump (): void {
    if (this.#closed) return
    const now = Date.now()
    while (this.#active.size < this.#maxBlobs) {
      const want = this.#next(now)
      if (want === undefined) break
      want.active = true
      const active: Active = { want, controller: new AbortController() }
      this.#active.set(want.info.id, active)
      active.done = this.#run(active)
        .catch((error) => {
          this.#log.error('blocks.fetch-failed', { blob: want.info.id, error: (error as Error).message })
          this.#park(want, false)
        })
        .finally(() => {
          want.active = false
          this.#active.delete(want.info.id)
          this.#pump()
        })
    }
    this.#schedule(now)
  }

  /**
   * The best waiting want that is due: highest priority, then newest. With no peer at all only
   * an empty blob can be done; the rest wait for addPeer, which then starts them in order.
   */
  #next (now: number): Want | undefined {
    let best: Want | undefined
    const anyPeer = this.#peers.size > 0
    for (const want of this.#wants.values()) {
      if (want.active || want.notBefore > now || (!anyPeer && want.info.size > 0)) continue
      if (best === undefined || want.priority > best.priority || (want.priority === best.priority && want.seq > best.seq)) best = want
    }
    return best
  }

  /** Wakes the pump when the earliest parked want falls due. */
  #schedule (now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#active.size >= this.#maxBlobs || this.#peers.size === 0) return
    let earliest = Infinity
    for (const want of this.#wants.values()) if (!want.active && want.notBefore > now) earliest = Math.min(earliest, want.notBefore)
    if (earliest === Infinity) return
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#pump() }, earliest - now)
    this.#timer.unref?.()
  }

  #park (want: Want, progressed: boolean): void {
    want.attempts = progressed ? 1 : want.attempts + 1
    want.notBefore = Date.now() + Math.min(this.#retryMaxMs, this.#retryMs * 2 ** Math.min(30, want.attempts - 1))
  }

  /** The peers to try for `want`, in turn, skipping those banned for it. */
  #candidates (want: Want): PeerId[] {
    const now = Date.now()
    const peers = [...this.#peers.entries()].filter(([key]) => (want.banned.get(key) ?? 0) <= now).map(([, peer]) => peer)
    if (peers.length === 0) return peers
    const start = want.seq % peers.length
    return [...peers.slice(start), ...peers.slice(0, start)]
  }

  async #run (active: Active): Promise<void> {
    const { want, controller } = active
    const { info } = want
    if (await this.#o.blobs.size(info.id) === info.size) { await this.#finish(want); return }
    let candidates = this.#candidates(want)
    if (info.size > 0 && candidates.length === 0) { this.#park(want, false); return }
    const partial = await this.#o.blobs.beginPartial(info)
    const heldBefore = partial.heldBytes
    try {
      want.held = partial.heldBytes
      const tried = new Set<string>()
      while (!partial.complete) {
        if (controller.signal.aborted) return
        const peer = candidates.find((p) => !tried.has(p.toString()) && this.#peers.has(p.toString()))
        if (peer === undefined) { this.#park(want, partial.heldBytes > heldBefore); return }
        tried.add(peer.toString())
        const outcome = await this.#fetchFrom(active, peer, partial)
        this.#log.debug('blocks.attempt', { blob: info.id, peer: peer.toString(), outcome, held: partial.heldBlocks, blocks: partial.blocks })
        if (outcome === 'cancelled') return
        // A peer added meanwhile is worth a try in this round too.
        candidates = this.#candidates(want)
      }
      try {
        await partial.commit()
      } catch (error) {
        // The partial file stays: the next attempt hashes it again and fetches only what is bad.
        this.#log.error('blocks.commit-failed', { blob: info.id, error: (error as Error).message })
        this.#park(want, false)
        return
      }
      await this.#finish(want)
    } finally {
      await partial.close()
    }
  }

  async #finish (want: Want): Promise<void> {
    this.#wants.delete(want.info.id)
    try {
      await this.#o.onFetched(want.info.id)
    } catch (error) {
      this.#log.error('blocks.on-fetched-failed', { blob: want.info.id, error: (error as Error).message })
    }
  }

  #violation (want: Want, peer: PeerId, reason: string): Outcome {
    want.banned.set(peer.toString(), Date.now() + this.#banMs)
    this.#log.warn('blocks.violation', { peer: peer.toString(), blob: want.info.id, reason })
    try { this.#o.onViolation(peer, reason) } catch {}
    return 'violation'
  }

  /** Fetches the missing blocks of `partial` from `peer` over one stream, `window` ahead. */
  async #fetchFrom (active: Active, peer: PeerId, partial: PartialBlob): Promise<Outcome> {
    const { want } = active
    const id = want.info.id
    const streamController = new AbortController()
    const signal = AbortSignal.any([active.controller.signal, streamController.signal])
    active.peer = peer.toString()
    active.stream = streamController
    let stream: Stream
    try {
      stream = await this.#o.open(peer, AbortSignal.any([signal, AbortSignal.timeout(this.#answerTimeoutMs)]))
    } catch (error) {
      this.#log.debug('blocks.open-failed', { peer: peer.toString(), blob: id, error: (error as Error).message })
      return active.controller.signal.aborted ? 'cancelled' : 'failed'
    }
    const frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_FRAME, maxUnreadBytes: this.#window * (MAX_ANSWER_FRAME + 8) })
    const missing = partial.missing()
    let next = 0
    /** Per request sent and not fully answered: its indexes still due, and whether any came. */
    const pending: Array<{ due: number[], started: boolean }> = []
    let outstanding = 0
    const refill = async (): Promise<void> => {
      const n = Math.min(this.#window - outstanding, missing.length - next)
      if (n <= 0) return
      // One request per run of consecutive indexes (a RANGE frame); a gap starts another.
      const batch = missing.slice(next, next + n)
      next += n
      outstanding += n
      let run: number[] = []
      const requests: Uint8Array[][] = []
      for (const index of batch) {
        if (run.length > 0 && index !== run[run.length - 1]! + 1) { requests.push([encodeRequest(id, run)]); pending.push({ due: run, started: false }); run = [] }
        run.push(index)
      }
      requests.push([encodeRequest(id, run)])
      pending.push({ due: run, started: false })
      for (const parts of requests) await frames.write(parts, this.#answerTimeoutMs, signal)
    }
    let outcome: Outcome = 'failed'
    try {
      await refill()
      while (outstanding > 0) {
        const frame = await frames.read(this.#answerTimeoutMs, signal)
        if (frame === undefined) {
          this.#log.debug('blocks.peer-ended', { peer: peer.toString(), blob: id, outstanding })
          return (outcome = 'failed')
        }
        const answer = decodeAnswer(frame)
        const head = pending[0]!
        if (answer.type === 'block') {
          const due = head.due[0]!
          if (answer.index !== due) return (outcome = this.#violation(want, peer, `answered block ${answer.index} where block ${due} was due`))
          try {
            await partial.writeBlock(answer.index, answer.bytes)
          } catch (error) {
            if (error instanceof BlockMismatchError) return (outcome = this.#violation(want, peer, 'block does not match its hash'))
            throw error
          }
          this.#bytesFetched += answer.bytes.length
          want.held = partial.heldBytes
          head.due.shift()
          head.started = true
          if (head.due.length === 0) pending.shift()
          outstanding--
          await refill()
          continue
        }
        if (answer.type === 'not-held' || answer.type === 'refused') {
          if (answer.blob !== id) return (outcome = this.#violation(want, peer, `answered ${answer.type} for blob ${answer.blob} while asked for ${id}`))
          if (head.started) return (outcome = this.#violation(want, peer, `answered ${answer.type} in the middle of a request`))
          return (outcome = 'not-held')
        }
        this.#log.info('blocks.peer-error', { peer: peer.toString(), blob: id, code: answer.code, message: answer.message })
        return (outcome = 'failed')
      }
      return (outcome = 'complete')
    } catch (error) {
      if (active.controller.signal.aborted) return (outcome = 'cancelled')
      if (error instanceof BlocksProtocolError) return (outcome = this.#violation(want, peer, error.message))
      if (error instanceof FrameStreamError) {
        if (error.violation) return (outcome = this.#violation(want, peer, error.message))
        this.#log.debug('blocks.stream-failed', { peer: peer.toString(), blob: id, reason: error.reason, error: error.message })
        return (outcome = 'failed')
      }
      throw error
    } finally {
      active.peer = undefined
      active.stream = undefined
      if (outcome === 'complete' || outcome === 'not-held') await stream.close().catch(() => stream.abort(new Error('close failed')))
      else stream.abort(new Error(`blocks fetch ${outcome}`))
    }
  }
}
