/**
 * Decodes compressed frames off the event loop: one worker thread (decode-worker.ts), started on
 * the first frame and stopped after a minute without work, decodes one frame at a time. A frame
 * that takes longer than the time limit (a codec spinning on a hostile codestream: CharLS does)
 * has its worker terminated and is answered with a CorruptPixelDataError; the next frame gets a
 * fresh worker. At most `maxQueued` frames wait; more is a DecoderBusyError, so memory stays
 * bounded however many requests arrive. The worker never keeps the process alive.
 */
import { Worker } from 'node:worker_threads'
import type { DecodeReply, DecodeRequest } from './decode-worker.ts'
import { CorruptPixelDataError, DecoderBusyError, UnsupportedPixelDataError } from './errors.ts'
import type { DecodedFrame, FrameGeometry } from './geometry.ts'

export interface FrameDecoderOptions {
  /** Longest one frame may take to decode (default 10 s). */
  readonly timeoutMs?: number
  /** Frames that may wait behind the one being decoded (default 32). */
  readonly maxQueued?: number
  /** The worker stops after this long without work (default 60 s). */
  readonly idleMs?: number
}

interface Job {
  readonly request: DecodeRequest
  readonly resolve: (frame: DecodedFrame) => void
  readonly reject: (error: Error) => void
}

export class FrameDecoder {
  /** Longest one frame may take to decode, in ms; a change applies to the next frame. */
  timeoutMs: number
  readonly #maxQueued: number
  readonly #idleMs: number
  #worker: Worker | undefined
  #current: { job: Job, timer: NodeJS.Timeout } | undefined
  readonly #queue: Job[] = []
  #idle: NodeJS.Timeout | undefined
  #nextId = 1
  /** Workers terminated because a frame took too long (for tests and status). */
  timeouts = 0

  constructor (options: FrameDecoderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.#maxQueued = options.maxQueued ?? 32
    this.#idleMs = options.idleMs ?? 60_000
  }

  /** Whether a worker thread is running now. */
  get running (): boolean { return this.#worker !== undefined }

  async decode (transferSyntaxUid: string, bytes: Uint8Array, geometry: FrameGeometry): Promise<DecodedFrame> {
    if (this.#queue.length >= this.#maxQueued) {
      throw new DecoderBusyError(`${this.#queue.length} frames are already waiting to be decoded; try again shortly`)
    }
    return await new Promise<DecodedFrame>((resolve, reject) => {
      this.#queue.push({ request: { id: this.#nextId++, transferSyntaxUid, bytes: bytes.slice(), geometry }, resolve, reject })
      this.#pump()
    })
  }

  /** Stops the worker; frames waiting or in progress are refused. */
  async stop (): Promise<void> {
    const stopped = new CorruptPixelDataError('the frame decoder was stopped before this frame was decoded')
    for (const job of this.#queue.splice(0)) job.reject(stopped)
    if (this.#current !== undefined) { clearTimeout(this.#current.timer); this.#current.job.reject(stopped); this.#current = undefined }
    clearTimeout(this.#idle)
    await this.#kill()
  }

  #pump (): void {
    if (this.#current !== undefined) return
    const job = this.#queue.shift()
    if (job === undefined) {
      clearTimeout(this.#idle)
      this.#idle = setTimeout(() => { void this.#kill() }, this.#idleMs).unref()
      return
    }
    clearTimeout(this.#idle)
    const worker = this.#start()
    const timeoutMs = this.timeoutMs
    const timer = setTimeout(() => {
      this.timeouts++
      void this.#kill() // before the next frame is sent: never to the thread that is still spinning
      this.#finish(job, new CorruptPixelDataError(`decoding this frame took longer than ${timeoutMs / 1000} s and was stopped; the codestream is likely damaged`))
    }, timeoutMs)
    this.#current = { job, timer }
    worker.postMessage(job.request, [job.request.bytes.buffer as ArrayBuffer])
  }

  #start (): Worker {
    if (this.#worker !== undefined) return this.#worker
    const worker = new Worker(new URL('./decode-worker.ts', import.meta.url))
    worker.unref()
    worker.on('message', (reply: DecodeReply) => {
      const job = this.#current?.job
      if (job === undefined || job.request.id !== reply.id) return
      if ('bytes' in reply) this.#finish(job, { bytes: reply.bytes, photometric: reply.photometric })
      else if (reply.code === UnsupportedPixelDataError.code) this.#finish(job, new UnsupportedPixelDataError(reply.message))
      else if (reply.code === CorruptPixelDataError.code) this.#finish(job, new CorruptPixelDataError(reply.message))
      else this.#finish(job, new Error(`the frame decoder failed: ${reply.message}`))
    })
    const gone = (why: string): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      const job = this.#current?.job
      if (job !== undefined) this.#finish(job, new CorruptPixelDataError(`the decoder thread ${why} while decoding this frame`))
    }
    worker.on('error', (error) => { gone(`failed (${error.message})`) })
    worker.on('exit', (code) => { gone(`exited with code ${code}`) })
    this.#worker = worker
    return worker
  }

  #finish (job: Job, outcome: DecodedFrame | Error): void {
    if (this.#current?.job !== job) return
    clearTimeout(this.#current.timer)
    this.#current = undefined
    if (outcome instanceof Error) job.reject(outcome)
    else job.resolve(outcome)
    this.#pump()
  }

  /** Detaches the worker at once (the next frame starts a new one), then terminates it. */
  async #kill (): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    if (worker !== undefined) await worker.terminate()
  }
}

/** The node's frame decoder: nothing runs until the first compressed frame is rendered. */
export const frameDecoder = new FrameDecoder()
