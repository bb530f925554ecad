/**
 * The upper layer protocol as the bytes arrive, checked ahead of dcmjs-dimse's parser, which
 * trusts every length it reads and buffers a PDU of any announced size. The guard reads PDU
 * headers, A-ASSOCIATE-RQ / A-RELEASE-RQ / A-ABORT bodies whole (they are small; the RQ is
 * checked field by field in associate-rq.ts), and the 6-byte header of every PDV of a
 * P-DATA-TF, never the DIMSE messages inside. It hands the library only bytes it has checked,
 * in order, PDU by PDU (so the association's state, e.g. its accepted contexts, is current
 * before the next PDU is judged), and stops at the first problem with the PS3.8 answer:
 *  - a PDU type other than 01H-07H: A-ABORT "unrecognized PDU"; a PDU not expected in the
 *    association's state (anything but an A-ASSOCIATE-RQ first; P-DATA before the
 *    A-ASSOCIATE-AC or after an A-RELEASE-RQ; an AC, RJ or RP sent to this acceptor): A-ABORT
 *    "unexpected PDU";
 *  - a PDU longer than the limit, release and abort PDUs whose length is not 4, a P-DATA-TF
 *    shorter than one PDV, a PDV whose length is below 2 or overruns its PDU, whose presentation
 *    context was not accepted, or whose message control header has reserved bits set:
 *    A-ABORT "invalid PDU parameter value";
 *  - PDVs out of sequence (a dataset fragment with no command before it, a command fragment
 *    inside a dataset, a message that changes presentation context): A-ABORT "unexpected PDU
 *    parameter".
 * PDUs may arrive split across reads and several to a read; the guard holds at most one PDU
 * header, one PDV header, or one small buffered PDU (an RQ up to the limit) at a time.
 */
import { checkAssociateRq } from './associate-rq.ts'
import { ABORT_REASON, abortProblem, type PduProblem } from './ul-replies.ts'

export const PDU = { associateRq: 0x01, associateAc: 0x02, associateRj: 0x03, pData: 0x04, releaseRq: 0x05, releaseRp: 0x06, abort: 0x07 } as const

export interface GuardHooks {
  /** The accepted presentation context ids once the association was accepted; undefined until then (and if rejected). */
  readonly acceptedContexts: () => ReadonlySet<number> | undefined
  /** After each complete PDU has been handed on. */
  readonly onPdu?: (type: number) => void
}

type Phase = 'awaiting-rq' | 'negotiating' | 'established' | 'releasing' | 'done'
type Message = 'none' | 'command' | 'command-done' | 'dataset'

/** Bytes checked and not yet handed on: ranges of the current read, or copies. */
class Outbox {
  readonly #parts: Array<{ src: Buffer, start: number, end: number }> = []

  add (src: Buffer, start: number, end: number): void {
    if (end <= start) return
    const last = this.#parts.at(-1)
    if (last !== undefined && last.src === src && last.end === start) last.end = end
    else this.#parts.push({ src, start, end })
  }

  /** Where the current P-DATA-TF began, so a bad one can be taken back before anything of it went on. */
  mark (): { count: number, end: number } {
    return { count: this.#parts.length, end: this.#parts.at(-1)?.end ?? 0 }
  }

  truncate (mark: { count: number, end: number }): void {
    this.#parts.length = Math.min(this.#parts.length, mark.count)
    const last = this.#parts.at(-1)
    if (last !== undefined) last.end = mark.end
  }

  flush (forward: (bytes: Buffer) => void): void {
    if (this.#parts.length === 0) return
    const parts = this.#parts.splice(0)
    forward(parts.length === 1 ? parts[0]!.src.subarray(parts[0]!.start, parts[0]!.end) : Buffer.concat(parts.map((p) => p.src.subarray(p.start, p.end))))
  }
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`
const invalid = (detail: string): PduProblem => abortProblem(ABORT_REASON.invalidPduParameterValue, detail)
const unexpectedPdu = (type: number, phase: string): PduProblem => abortProblem(ABORT_REASON.unexpectedPdu, `PDU type ${hex(type)} is not expected ${phase}`)
const outOfSequence = (detail: string): PduProblem => abortProblem(ABORT_REASON.unexpectedPduParameter, detail)

export class PduGuard {
  readonly #limit: number
  readonly #hooks: GuardHooks
  #phase: Phase = 'awaiting-rq'
  /** A PDU or PDV header being read (it may arrive split). */
  readonly #header = Buffer.alloc(6)
  #headerFill = 0
  /** A PDU read whole before it is checked (all but P-DATA-TF), header included. */
  #whole: Buffer | undefined
  #wholeFill = 0
  /** Inside a P-DATA-TF: bytes of the PDU body left, and of the current PDV's value. */
  #pdata = false
  #pduLeft = 0
  #pdvLeft = 0
  #message: Message = 'none'
  #messageContext = 0

  /** `limit`: the largest PDU body accepted (bytes after the 6-byte header). */
  constructor (limit: number, hooks: GuardHooks) {
    this.#limit = limit
    this.#hooks = hooks
  }

  /** The association ended (or a problem was answered): any further byte is ignored. */
  get done (): boolean { return this.#phase === 'done' }

  /**
   * Checks `chunk` and hands each checked run of bytes to `forward`, in order; returns the first
   * problem (bytes after it are never handed on), or undefined.
   */
  push (chunk: Buffer, forward: (bytes: Buffer) => void): PduProblem | undefined {
    if (this.#phase === 'done') return undefined
    const out = new Outbox()
    let at = 0
    let pduStart: { count: number, end: number } | undefined
    const fail = (problem: PduProblem): PduProblem => {
      if (pduStart !== undefined) out.truncate(pduStart)
      out.flush(forward)
      this.#phase = 'done'
      return problem
    }
    // (A buffered PDU with an empty body is complete as soon as its header is: the loop runs once more.)
    while (at < chunk.length || (this.#whole !== undefined && this.#wholeFill === this.#whole.length)) {
      if (this.#whole !== undefined) {
        const take = Math.min(this.#whole.length - this.#wholeFill, chunk.length - at)
        chunk.copy(this.#whole, this.#wholeFill, at, at + take)
        this.#wholeFill += take
        at += take
        if (this.#wholeFill < this.#whole.length) continue
        const whole = this.#whole
        this.#whole = undefined
        const problem = this.#onWhole(whole, out)
        if (problem !== undefined) return fail(problem)
        out.flush(forward)
        this.#hooks.onPdu?.(whole[0]!)
        if (whole[0] === PDU.abort) return fail({ kind: 'close', detail: 'the peer sent A-ABORT' })
        continue
      }
      if (this.#pdata && this.#pdvLeft > 0) {
        const take = Math.min(this.#pdvLeft, chunk.length - at)
        out.add(chunk, at, at + take)
        this.#pdvLeft -= take
        this.#pduLeft -= take
        at += take
        if (this.#pduLeft === 0) { this.#endPdata(); pduStart = undefined }
        continue
      }
      // A PDU header, or a PDV header inside a P-DATA-TF.
      const start = at
      const take = Math.min(6 - this.#headerFill, chunk.length - at)
      chunk.copy(this.#header, this.#headerFill, at, at + take)
      this.#headerFill += take
      at += take
      if (this.#headerFill < 6) continue
      const split = take < 6
      this.#headerFill = 0
      if (!this.#pdata) pduStart = out.mark()
      const problem = this.#pdata ? this.#onPdvHeader() : this.#onPduHeader()
      if (problem !== undefined) return fail(problem)
      if (this.#whole !== undefined) continue
      // P-DATA-TF and PDV headers go on as they came.
      if (split) out.add(Buffer.from(this.#header), 0, 6)
      else out.add(chunk, start, at)
      if (!this.#pdata) pduStart = undefined
      else if (this.#pduLeft === 0 && this.#pdvLeft === 0) { this.#endPdata(); pduStart = undefined }
    }
    out.flush(forward)
    return undefined
  }

  #endPdata (): void {
    this.#pdata = false
    this.#hooks.onPdu?.(PDU.pData)
  }

  #onPduHeader (): PduProblem | undefined {
    const type = this.#header[0]!
    const length = this.#header.readUInt32BE(2)
    if (type < PDU.associateRq || type > PDU.abort) return abortProblem(ABORT_REASON.unrecognizedPdu, `unknown PDU type ${hex(type)}`)
    if (length > this.#limit) return invalid(`PDU type ${hex(type)} of ${length} bytes exceeds the limit of ${this.#limit}`)
    if (this.#phase === 'negotiating' && this.#hooks.acceptedContexts() !== undefined) this.#phase = 'established'
    const allowed: Record<Exclude<Phase, 'done'>, readonly number[]> = {
      'awaiting-rq': [PDU.associateRq, PDU.abort],
      negotiating: [PDU.abort],
      established: [PDU.pData, PDU.releaseRq, PDU.abort],
      releasing: [PDU.abort]
    }
    const phase = this.#phase as Exclude<Phase, 'done'>
    if (!allowed[phase].includes(type)) return unexpectedPdu(type, phase === 'awaiting-rq' ? 'before an A-ASSOCIATE-RQ' : phase === 'negotiating' ? 'before the association is accepted' : phase === 'releasing' ? 'after an A-RELEASE-RQ' : 'on an established association')
    if ((type === PDU.releaseRq || type === PDU.abort) && length !== 4) return invalid(`PDU type ${hex(type)} of ${length} bytes (4 expected)`)
    if (type === PDU.pData) {
      if (length < 6) return invalid(`P-DATA-TF of ${length} bytes, shorter than one PDV`)
      this.#pdata = true
      this.#pduLeft = length
      this.#pdvLeft = 0
      return undefined
    }
    this.#whole = Buffer.alloc(6 + length)
    this.#header.copy(this.#whole, 0)
    this.#wholeFill = 6
    return undefined
  }

  /** A whole A-ASSOCIATE-RQ, A-RELEASE-RQ or A-ABORT: checked, then queued to go on. */
  #onWhole (whole: Buffer, out: Outbox): PduProblem | undefined {
    const type = whole[0]!
    if (type === PDU.associateRq) {
      const check = checkAssociateRq(whole.subarray(6))
      if (!check.ok) return check.problem
      this.#phase = 'negotiating'
      if (check.body.length === whole.length - 6) {
        out.add(whole, 0, whole.length)
      } else {
        // Items of unknown types were cut out: the header announces the new length.
        const header = Buffer.from(whole.subarray(0, 6))
        header.writeUInt32BE(check.body.length, 2)
        out.add(Buffer.concat([header, check.body]), 0, 6 + check.body.length)
      }
      return undefined
    }
    if (type === PDU.releaseRq) this.#phase = 'releasing'
    out.add(whole, 0, whole.length)
    return undefined
  }

  #onPdvHeader (): PduProblem | undefined {
    const h = this.#header
    const itemLength = h.readUInt32BE(0)
    const context = h[4]!
    const control = h[5]!
    if (this.#pduLeft < 6) return invalid(`P-DATA-TF: ${this.#pduLeft} bytes left, less than a PDV header`)
    if (itemLength < 2) return invalid(`PDV item length ${itemLength} (at least 2 expected)`)
    if (itemLength - 2 > this.#pduLeft - 6) return invalid(`PDV of ${itemLength - 2} value bytes overruns its P-DATA-TF (${this.#pduLeft - 6} left)`)
    if (!(this.#hooks.acceptedContexts()?.has(context) ?? false)) return invalid(`PDV on presentation context ${context}, which was not accepted`)
    if ((control & 0xfc) !== 0) return invalid(`PDV message control header ${hex(control)} has reserved bits set`)
    const problem = this.#sequence(context, (control & 1) === 1, (control & 2) === 2)
    if (problem !== undefined) return problem
    this.#pduLeft -= 6
    this.#pdvLeft = itemLength - 2
    return undefined
  }

  /** Command fragments, then (maybe) dataset fragments, on one presentation context (PS3.8 E.2). */
  #sequence (context: number, command: boolean, last: boolean): PduProblem | undefined {
    const m = this.#message
    if (command) {
      if (m === 'dataset') return outOfSequence('a command fragment inside a dataset')
      if (m === 'command' && context !== this.#messageContext) return outOfSequence(`a command continued on presentation context ${context}, begun on ${this.#messageContext}`)
      this.#messageContext = context
      this.#message = last ? 'command-done' : 'command'
      return undefined
    }
    if (m === 'none') return outOfSequence('a dataset fragment with no command before it')
    if (m === 'command') return outOfSequence('a dataset fragment inside a command')
    if (context !== this.#messageContext) return outOfSequence(`a dataset on presentation context ${context} for a command on ${this.#messageContext}`)
    this.#message = last ? 'none' : 'dataset'
    return undefined
  }
}
