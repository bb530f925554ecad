/**
 * Verifies large batches of op bytes on worker threads (verify-worker.ts), so that what remains
 * to verify (a journal verified in full at open, a peer's catch-up of thousands of ops) uses
 * every core instead of one. A worker runs exactly decodeOp(nativeProvider, bytes) and answers
 * pass or fail per op. The caller (NodeLog) decodes the ops that passed with
 * `{ signature: 'trusted' }` (they passed every check, on these bytes, a moment ago) and hands
 * the ones that failed to its own single-threaded decode, which finds the same reason: the
 * verdicts are the single-threaded ones by construction, a worker only saves time.
 *
 * Workers start on the first batch and stop after `idleMs` without work; they never keep the
 * process alive. A worker that fails or exits fails its batches, and the caller then verifies
 * on its own thread (a lost worker costs time, never a verdict).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { VerifyReply, VerifyRequest } from './verify-worker.ts'

/** Batches smaller than this are verified on the caller's thread (a worker round trip costs more). */
export const POOL_MIN_BATCH = 256
/** Ops per message to a worker. */
const CHUNK = 256

export interface VerifyPoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  readonly size?: number
  /** Workers stop after this long without work (default 10 s). */
  readonly idleMs?: number
}

interface Pending { readonly worker: Worker, readonly resolve: (passed: readonly boolean[]) => void, readonly reject: (error: Error) => void }

export class VerifyPool {
  readonly size: number
  readonly #idleMs: number
  #workers: Worker[] = []
  #turn = 0
  #nextId = 1
  readonly #pending = new Map<number, Pending>()
  #idle: NodeJS.Timeout | undefined

  constructor (options: VerifyPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism())
    this.#idleMs = options.idleMs ?? 10_000
  }

  /** Worker threads running now. */
  get running (): number { return this.#workers.length }

  /**
   * Whether each op passes decodeOp (signature included), in input order. `onChunk` is told each
   * part as it is answered (ops `start`..), so the caller can work on it while the rest is being
   * verified. Rejects if a worker failed (parts already reported stay valid).
   */
  async check (ops: readonly Uint8Array[], onChunk?: (start: number, passed: readonly boolean[]) => void): Promise<boolean[]> {
    clearTimeout(this.#idle)
    try {
      const chunks: Array<Promise<readonly boolean[]>> = []
      for (let i = 0; i < ops.length; i += CHUNK) {
        const start = i
        chunks.push(this.#send(ops.slice(i, i + CHUNK)).then((passed) => { onChunk?.(start, passed); return passed }))
      }
      return (await Promise.all(chunks)).flat()
    } finally {
      if (this.#pending.size === 0) this.#idle = setTimeout(() => { void this.stop() }, this.#idleMs).unref()
    }
  }

  async #send (ops: readonly Uint8Array[]): Promise<readonly boolean[]> {
    const worker = this.#worker()
    const id = this.#nextId++
    return await new Promise((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject })
      const request: VerifyRequest = { id, ops }
      worker.postMessage(request)
    })
  }

  #worker (): Worker {
    if (this.#workers.length < this.size) {
      const worker = new Worker(new URL('./verify-worker.ts', import.meta.url))
      worker.unref()
      worker.on('message', (reply: VerifyReply) => {
        const pending = this.#pending.get(reply.id)
        if (pending === undefined) return
        this.#pending.delete(reply.id)
        pending.resolve(reply.passed)
      })
      const gone = (why: string): void => {
        this.#workers = this.#workers.filter((w) => w !== worker)
        for (const [id, pending] of this.#pending) {
          if (pending.worker !== worker) continue
          this.#pending.delete(id)
          pending.reject(new Error(`a signature verification thread ${why}`))
        }
      }
      worker.on('error', (error) => { gone(`failed (${error.message})`) })
      worker.on('exit', (code) => { gone(`exited with code ${code}`) })
      this.#workers.push(worker)
      return worker
    }
    return this.#workers[this.#turn++ % this.#workers.length]!
  }

  /** Stops the workers; batches in progress are rejected (their callers verify on their own thread). */
  async stop (): Promise<void> {
    clearTimeout(this.#idle)
    const workers = this.#workers
    this.#workers = []
    await Promise.all(workers.map(async (worker) => await worker.terminate()))
  }
}

let shared: VerifyPool | undefined

/** The process's pool (created on first use; its workers stop when idle). */
export function sharedVerifyPool (): VerifyPool {
  shared ??= new VerifyPool()
  return shared
}
