/**
 * The responses to one C-FIND as bytes, and their sending: every pending response is the same
 * command set (written once) followed by its identifier, then the final response. They go out
 * as P-DATA-TF PDUs written here (pdata.ts), many to a socket write (batches of about 64 KiB),
 * waiting for the socket to drain when the peer reads slower than we write (and giving up on a
 * peer that does not take a batch within the idle time), and yielding to the event loop between batches, so
 * a large answer neither fills memory with unsent bytes nor holds up the node's other
 * connections, and a C-CANCEL the peer sends meanwhile is seen: the pending responses then stop
 * and the final response says Cancel (PS3.4 C.4.1.3.1).
 *
 * dcmjs-dimse hands an answer its presentation context id and the peer's Maximum Length through
 * its sender (association.ts): an answer is a "command" of the library without a dataset, so
 * the library neither transcodes nor encodes anything of it.
 */
import type { Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { writeCommandSet } from './command-set.ts'
import { pdataPdus, sendLimit } from './pdata.ts'
import { STATUS } from './statuses.ts'

/** C-FIND-RSP (PS3.7 E.1-1 Command Field). */
const C_FIND_RSP = 0x8020
const WITH_DATASET = 0x0202
const WITHOUT_DATASET = 0x0101
const BATCH_BYTES = 64 * 1024

/** Where an answer's bytes go: a socket, in the node. */
export interface ResponseSink {
  /** false: the bytes are queued but the buffer is full; wait for drained() before writing more. */
  readonly write: (bytes: Buffer) => boolean
  /** true once the buffer has drained; false when the connection closed or it did not drain in time (the peer stalled). */
  readonly drained: () => Promise<boolean>
  /** The connection is gone: nothing more is written. */
  readonly closed: () => boolean
}

/**
 * A socket as a sink. drained() settles false when the socket closes, or when what was written
 * has not drained within `stallMs`: a peer that stops reading (or takes less than a batch, about
 * 64 KiB, in that time) must not hold an association and its answer in memory for ever.
 */
export function socketSink (socket: Socket, stallMs: number): ResponseSink {
  return {
    write: (bytes) => socket.write(bytes),
    drained: async () => await new Promise<boolean>((resolve) => {
      const done = (drained: boolean) => (): void => {
        clearTimeout(timer)
        socket.off('drain', onDrain)
        socket.off('close', onClose)
        resolve(drained)
      }
      const onDrain = done(true)
      const onClose = done(false)
      const timer = setTimeout(done(false), stallMs)
      socket.on('drain', onDrain)
      socket.on('close', onClose)
    }),
    closed: () => socket.destroyed || socket.writableEnded
  }
}

export interface FindAnswerOptions {
  readonly sopClassUid: string
  readonly messageId: number
  /** Each match's identifier, in the context's transfer syntax. */
  readonly identifiers: readonly Buffer[]
  readonly status: number
  readonly comment?: string
}

export interface SendResult {
  readonly sent: number
  readonly cancelled: boolean
  /** The peer stopped reading (the sink's drained() gave up while the connection was open). */
  readonly stalled: boolean
}

/** A UID as PS3.5 9.1 spells it; anything else the peer put in its request is not echoed. */
const UID = /^[0-9.]{1,64}$/

export class FindAnswer {
  readonly #options: FindAnswerOptions
  readonly #sopClassUid: string | undefined

  constructor (options: FindAnswerOptions) {
    this.#options = options
    // Affected SOP Class UID is optional in a C-FIND-RSP (PS3.7 9.1.2.1, U(=)): one that is not a UID is left out.
    this.#sopClassUid = UID.test(options.sopClassUid) ? options.sopClassUid : undefined
  }

  get matches (): number { return this.#options.identifiers.length }

  /** The request's Message ID (a C-CANCEL names it). */
  get messageId (): number { return this.#options.messageId }

  /** What dcmjs-dimse's _sendDimse asks of a command before sending it: no dataset, nothing to transcode. */
  getDataset (): undefined { return undefined }

  toString (): string { return `FindAnswer [${this.matches} matches]` }

  /** A response's command set. */
  command (status: number, hasDataset: boolean, comment?: string): Buffer {
    return writeCommandSet({
      CommandField: C_FIND_RSP,
      AffectedSOPClassUID: this.#sopClassUid,
      MessageIDBeingRespondedTo: this.#options.messageId,
      CommandDataSetType: hasDataset ? WITH_DATASET : WITHOUT_DATASET,
      Status: status,
      ErrorComment: comment
    })
  }

  /**
   * Sends every response on presentation context `contextId` to a peer whose Maximum Length is
   * `maxPduLength` (0: none announced), stopping early when `cancelled()` turns true or the sink
   * closes. Resolves when the last byte was handed to the sink.
   */
  async send (sink: ResponseSink, contextId: number, maxPduLength: number, cancelled: () => boolean = () => false): Promise<SendResult> {
    const limit = sendLimit(maxPduLength)
    const pendingCommand = pdataPdus(contextId, true, this.command(STATUS.pending, true), limit)
    let batch: Buffer[] = []
    let size = 0
    let stalled = false
    const flush = async (): Promise<boolean> => {
      if (sink.closed()) return false
      const full = !sink.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, size))
      batch = []
      size = 0
      if (!full) await nextTurn()
      else if (!await sink.drained()) stalled = !sink.closed()
      return !stalled && !sink.closed()
    }
    let sent = 0
    for (const identifier of this.#options.identifiers) {
      if (size === 0 && cancelled()) break
      const dataset = pdataPdus(contextId, false, identifier, limit)
      batch.push(pendingCommand, dataset)
      size += pendingCommand.length + dataset.length
      sent++
      if (size >= BATCH_BYTES && !await flush()) return { sent, cancelled: false, stalled }
    }
    const wasCancelled = sent < this.matches
    const final = wasCancelled
      ? this.command(STATUS.cancel, false)
      : this.command(this.#options.status, false, this.#options.comment)
    const finalPdu = pdataPdus(contextId, true, final, limit)
    batch.push(finalPdu)
    size += finalPdu.length
    if (!sink.closed()) sink.write(Buffer.concat(batch, size))
    return { sent, cancelled: wasCancelled, stalled: false }
  }
}
