/**
 * One incoming association: dcmjs-dimse's Scp with peerpacs' rules. Negotiation applies the
 * allow-list and the caller's permissions (access.ts, negotiation.ts) and accepts each proposed
 * syntax as is (syntaxes.ts); C-STORE streams into the archive (store.ts); C-FIND answers from the catalogue
 * (find-responses.ts), its responses written and sent in batches by find-answer.ts rather than by
 * the library; C-MOVE and C-GET send stored bytes unchanged (retrieve.ts). Every handler
 * catches its own failures, and every listener is wrapped besides (guarded-listeners.ts): nothing
 * that happens on one association may reach another, or the process. It stays one class over
 * 300 lines because the library calls its overrides on one object; what each service does lives
 * in the modules named above, and this file only wires them to the association's state.
 */
import type { Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { Writable } from 'node:stream'
import type { DimseSettings } from '../config/settings.ts'
import type { LogFields, Logger } from '../logging/logger.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { CatalogInstance } from '../query/attributes.ts'
import { decideAccess, moveDestination, plainAddress, transportOf, type Permissions } from './access.ts'
import { ChunkQueue } from './chunk-queue.ts'
import { FindAnswer, socketSink } from './find-answer.ts'
import { findResponses, type FindResponses } from './find-responses.ts'
import { constants, Dataset, requests, responses, Scp, type DimseAssociation, type DimsePresentationContext, type DimseResponse } from './library.ts'
import { OutboundAssociation } from './outbound.ts'
import { finalStatus, readRaw, runSubOperations, selectInstances, type Progress, type RetrieveResult } from './retrieve.ts'
import { STATUS } from './statuses.ts'
import { storeDataset, StoreRefusedError, outcomeOfError, type StoreOutcome } from './store.ts'
import { modelOf } from './syntaxes.ts'
import type { Actor } from '../../protocol/audit/index.ts'
import { remoteAe } from '../audit/actors.ts'
import { auditQuery, auditReceived, auditSent } from './audit.ts'
import { guardListeners } from './guarded-listeners.ts'
import { closeWithArtim } from './linger.ts'
import type { RefusalReporter } from './refusals.ts'
import { describe, replyTo, type PduProblem } from './ul-replies.ts'
import { negotiateContext, type ContextResult } from './negotiation.ts'

const { PresentationContextResult: PC, RejectResult, RejectSource, RejectReason, AbortSource, AbortReason } = constants

type CStoreRequest = InstanceType<typeof requests.CStoreRequest>
type CFindRequest = InstanceType<typeof requests.CFindRequest>
type CMoveRequest = InstanceType<typeof requests.CMoveRequest>
type CGetRequest = InstanceType<typeof requests.CGetRequest>
type CEchoRequest = InstanceType<typeof requests.CEchoRequest>
type CCancelRequest = InstanceType<typeof requests.CCancelRequest>

/** What every association of one server shares. */
export interface EdgeShared {
  readonly pacs: Pacs
  readonly settings: DimseSettings
  readonly log: Logger
  /** Ingests under way on any association, for a graceful close. */
  readonly inflight: Set<Promise<unknown>>
  readonly closing: () => boolean
  /** Refused associations: audited in aggregate, with a hint in the log. */
  readonly refusals: RefusalReporter
  /** The node's certificate and trusted CAs for a C-MOVE to a TLS destination; set when the DICOM TLS port opens. */
  outboundTls?: () => ConnectionOptions
}

/** Stands in for a C-STORE's dataset: the library hands it to cStoreRequest once the last PDV is in. */
class PendingStore extends Dataset {
  readonly outcome: Promise<StoreOutcome>
  readonly bytes: () => number
  constructor (outcome: Promise<StoreOutcome>, bytes: () => number) {
    super({})
    this.outcome = outcome
    this.bytes = bytes
  }
}

type SendPData = (command: unknown, contextId: number, maxPduLength: number) => void

/** The library's own sender, for every message but a C-FIND answer; checked at load, so a library that changed fails loudly. */
const LIBRARY_SEND_PDATA: SendPData = (() => {
  const send = (Scp.prototype as unknown as { _sendPDataTF?: SendPData })._sendPDataTF
  if (typeof send !== 'function') throw new Error('dcmjs-dimse has no Network._sendPDataTF: association.ts sends C-FIND answers through it (written for dcmjs-dimse 0.3.3)')
  return send
})()

const SUB_OPERATION_TIMEOUT_MS = 120_000
let nextAssociationId = 1

export class PeerAssociation extends Scp {
  readonly #shared: EdgeShared
  readonly #socket: Socket
  readonly #log: Logger
  readonly #queues = new Map<Writable, { queue: ChunkQueue, outcome: Promise<StoreOutcome> }>()
  readonly #active = new Set<ChunkQueue>()
  readonly #cancelled = new Set<number>()
  readonly #outbound = new Set<OutboundAssociation>()
  #association: DimseAssociation | undefined
  #permissions: Permissions = { store: false, query: false, retrieve: false }
  #callingAe = ''
  #busy = 0
  /** C-STOREs whose dataset is still arriving: waiting for the peer is not work of ours. */
  #receiving = 0
  /** The socket is paused because a store is writing behind: the peer is not idle, it is held. */
  #held = 0
  #lastActivity = Date.now()
  #accepted: ReadonlySet<number> | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #closed = false
  /** What this association stored, for its one audit record (written when it closes). */
  /** The instances stored on this association, looked up as each store succeeds; audited at close. */
  readonly #received: Array<Promise<CatalogInstance | undefined>> = []
  #storeFailures = 0

  constructor (socket: Socket, shared: EdgeShared) {
    const never = 2 ** 31 - 1
    super(socket, { connectTimeout: never, associationTimeout: never, pduTimeout: never })
    this.#socket = socket
    this.#shared = shared
    this.#log = shared.log.child({ association: nextAssociationId++, peer: plainAddress(socket.remoteAddress) })
    // The library's own socket timeout is replaced by the idle check below, which knows when work is
    // under way; activity is a whole PDU received (touch(), from the guard), so a peer trickling
    // bytes does not count as active.
    socket.setTimeout(0)
    const idleMs = Math.max(1, shared.settings.idleTimeout) * 1000
    this.#idleTimer = setInterval(() => {
      if (this.#busy - this.#receiving === 0 && this.#held === 0 && Date.now() - this.#lastActivity > idleMs) {
        this.#log.warn('dimse.association.idle', { idleSeconds: shared.settings.idleTimeout })
        this.#abortAndClose()
      }
    }, Math.min(1000, idleMs / 4))
    this.#idleTimer.unref()
    this.on('networkError', (error: Error) => {
      if (!this.#closed) this.#log.warn('dimse.association.network-error', { error: safeMessage(error) })
      this.#abortAndClose()
    })
    this.on('close', () => { this.#onClose() })
    // Every handler of this association, the library's and ours: an exception in one is logged
    // and aborts this association only; none reaches the process.
    guardListeners(this, (event, error) => { this.#failed(event, error) })
  }

  /** The accepted presentation context ids, once the A-ASSOCIATE-AC went out. */
  get acceptedContexts (): ReadonlySet<number> | undefined { return this.#accepted }

  /** A whole PDU arrived. */
  touch (): void { this.#lastActivity = Date.now() }

  /** A protocol problem the PDU guard found: answered as PS3.8 says, logged, and the connection ends. */
  refuse (problem: PduProblem): void {
    if (problem.kind === 'close') {
      this.#socket.destroy()
      return
    }
    this.#log.warn('dimse.association.protocol-error', this.#fields(describe(problem)))
    const reply = replyTo(problem)
    if (reply !== undefined && !this.#socket.destroyed && !this.#socket.writableEnded) this.#socket.write(reply)
    closeWithArtim(this.#socket, this.#artimMs())
  }

  /** An exception out of a handler: this association ends, nothing else does. */
  #failed (where: string, error: unknown): void {
    this.#log.error('dimse.association.handler-failed', this.#fields({ where, error: safeMessage(error) }))
    this.#abortAndClose()
  }

  #artimMs (): number { return Math.max(1, this.#shared.settings.artimTimeout) * 1000 }

  #peer (): Actor { return remoteAe(this.#callingAe, this.#socket.remoteAddress) }

  #fields (extra: LogFields = {}): LogFields {
    return { callingAe: this.#callingAe, ...extra }
  }

  #abortAndClose (): void {
    try {
      if (this.#association !== undefined && !this.#socket.destroyed && !this.#socket.writableEnded) this.sendAbort(AbortSource.ServiceProvider, AbortReason.NotSpecified)
    } catch { /* the socket may already be gone */ }
    this.#socket.destroy()
  }

  #onClose (): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#idleTimer)
    for (const queue of this.#active) queue.fail(new Error('the association closed before the dataset was complete'))
    for (const outbound of this.#outbound) outbound.destroy()
    if (this.#received.length > 0 || this.#storeFailures > 0) {
      const failures = this.#storeFailures
      const peer = this.#peer()
      void Promise.all(this.#received).then((found) => {
        auditReceived(this.#shared.pacs.archive.audit, this.#shared.settings.aeTitle, peer, found.filter((i): i is CatalogInstance => i !== undefined), failures)
      }).catch((error: unknown) => { this.#log.error('dimse.store.audit-failed', this.#fields({ error: safeMessage(error) })) })
    }
    this.#log.debug('dimse.association.closed', this.#fields())
  }

  /** Aborts the association (server shutdown). */
  shutdown (): void { this.#abortAndClose() }

  get busy (): boolean { return this.#busy > 0 }

  async #work<T> (task: () => Promise<T>): Promise<T> {
    this.#busy++
    try {
      return await task()
    } finally {
      this.#busy--
      this.#lastActivity = Date.now()
    }
  }

  // ---- negotiation ----

  override associationRequested (association: DimseAssociation): void {
    this.#association = association
    const { settings } = this.#shared
    this.#callingAe = association.getCallingAeTitle()
    const decision = decideAccess(settings, this.#callingAe, association.getCalledAeTitle(), this.#socket.remoteAddress, transportOf(this.#socket))
    if (!decision.ok || this.#shared.closing()) {
      const reason = !decision.ok && decision.reason === 'called' ? RejectReason.CalledAeNotRecognized : RejectReason.CallingAeNotRecognized
      if (this.#shared.closing()) {
        this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.TemporaryCongestion)
        this.#log.info('dimse.association.rejected', this.#fields({ calledAe: association.getCalledAeTitle(), reason: 'the node is closing' }))
      } else {
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason)
      }
      if (!decision.ok) this.#shared.refusals.refused(decision.reason, this.#callingAe, association.getCalledAeTitle(), this.#socket.remoteAddress, decision.detail)
      closeWithArtim(this.#socket, this.#artimMs())
      return
    }
    this.#permissions = decision.permissions
    let accepted = 0
    for (const { context } of association.getPresentationContexts()) {
      const [result, syntax] = this.#negotiate(context)
      if (result === PC.Accept) accepted++
      context.setResult(result, syntax)
    }
    if (association.getMaxPduLength() === 0 || association.getMaxPduLength() > settings.maxPduLength) association.setMaxPduLength(settings.maxPduLength)
    this.sendAssociationAccept()
    this.#accepted = new Set(association.getPresentationContexts().filter(({ context }) => context.getResult() === PC.Accept).map(({ id }) => id))
    this.#log.info('dimse.association.accepted', this.#fields({ contexts: association.getPresentationContexts().length, accepted }))
  }

  #negotiate (context: DimsePresentationContext): ContextResult {
    return negotiateContext(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids(), context.getProviderRole() === true, {
      permissions: this.#permissions,
      acceptedSyntaxesOf: (sopClassUid) => new Set(this.#association!.getPresentationContexts()
        .filter(({ context: c }) => c.getAbstractSyntaxUid() === sopClassUid && c.getResult() === PC.Accept)
        .map(({ context: c }) => c.getAcceptedTransferSyntaxUid()!)),
      storedSyntaxCounts: (sopClassUid) => new Map(this.#shared.pacs.storedSyntaxCounts(sopClassUid))
    })
  }

  override associationReleaseRequested (): void {
    this.sendAssociationReleaseResponse()
    this.#log.debug('dimse.association.released', this.#fields())
    // The requestor closes the connection; one that does not is closed for it when ARTIM expires.
    closeWithArtim(this.#socket, this.#artimMs())
  }

  override abort (): void {
    this.#log.info('dimse.association.aborted-by-peer', this.#fields())
    this.#socket.destroy()
  }

  override cEchoRequest (request: CEchoRequest, callback: (response: InstanceType<typeof responses.CEchoResponse>) => void): void {
    const response = responses.CEchoResponse.fromRequest(request)
    response.setStatus(STATUS.success)
    callback(response)
  }

  override cCancelRequest (request: CCancelRequest): void {
    this.#cancelled.add(request.getMessageIdBeingRespondedTo())
  }

  // ---- C-STORE ----

  override createStoreWritableStream (context: DimsePresentationContext, request: CStoreRequest): Writable {
    let held = false
    const hold = (on: boolean): void => {
      if (held === on) return
      held = on
      this.#held += on ? 1 : -1
      if (on) this.#socket.pause()
      else { this.#socket.resume(); this.touch() }
    }
    const queue = new ChunkQueue({ pause: () => { hold(true) }, resume: () => { hold(false) } })
    let receiving = true
    const received = (): void => {
      if (!receiving) return
      receiving = false
      this.#receiving--
    }
    this.#receiving++
    const writable = new Writable({
      highWaterMark: 1 << 30,
      write: (chunk: Buffer, _encoding, done) => { queue.push(chunk); done() },
      final: (done) => { received(); queue.end(); done() }
    })
    this.#log.debug('dimse.store.receiving', this.#fields())
    const outcome = this.#work(async () => {
      this.#active.add(queue)
      try {
        const refusal = this.#storeRefusal(context, request)
        if (refusal !== undefined) throw refusal
        return await storeDataset(this.#shared.pacs, queue, {
          transferSyntaxUid: context.getAcceptedTransferSyntaxUid()!,
          sopClassUid: request.getAffectedSopClassUid(),
          sopInstanceUid: request.getAffectedSopInstanceUid(),
          sourceAeTitle: this.#callingAe
        })
      } catch (error) {
        return outcomeOfError(error)
      } finally {
        received()
        hold(false)
        queue.discard()
        this.#active.delete(queue)
      }
    })
    this.#shared.inflight.add(outcome)
    void outcome.finally(() => this.#shared.inflight.delete(outcome))
    this.#queues.set(writable, { queue, outcome })
    return writable
  }

  #storeRefusal (context: DimsePresentationContext, request: CStoreRequest): StoreRefusedError | undefined {
    if (this.#shared.closing()) return new StoreRefusedError(STATUS.outOfResources, 'the node is shutting down; send again later')
    if (!this.#permissions.store) return new StoreRefusedError(STATUS.notAuthorized, 'this AE may not store on this node')
    if (context.getResult() !== PC.Accept || context.getAbstractSyntaxUid() !== request.getAffectedSopClassUid()) {
      return new StoreRefusedError(STATUS.sopClassNotSupported, 'no accepted presentation context for this SOP class')
    }
    const sopClass = request.getAffectedSopClassUid()
    const sopInstance = request.getAffectedSopInstanceUid()
    if (typeof sopClass !== 'string' || sopClass === '' || typeof sopInstance !== 'string' || sopInstance === '') {
      return new StoreRefusedError(STATUS.cannotUnderstand, 'the command lacks the Affected SOP Class or Instance UID')
    }
    return undefined
  }

  override createDatasetFromStoreWritableStream (writable: Writable, _context: DimsePresentationContext, callback: (dataset: InstanceType<typeof Dataset>) => void): void {
    const entry = this.#queues.get(writable)
    this.#queues.delete(writable)
    if (entry === undefined) return
    callback(new PendingStore(entry.outcome, () => entry.queue.received))
  }

  override cStoreRequest (request: CStoreRequest, callback: (response: InstanceType<typeof responses.CStoreResponse>) => void): void {
    const dataset = request.getDataset()
    const outcome: Promise<StoreOutcome> = dataset instanceof PendingStore
      ? dataset.outcome
      : Promise.resolve({ status: STATUS.cannotUnderstand, comment: 'the C-STORE request carries no dataset', code: 'NO_DATASET' })
    void outcome.then((o) => {
      if (this.#closed) return
      const response = responses.CStoreResponse.fromRequest(request)
      response.setStatus(o.status)
      if (o.comment !== undefined) response.setErrorComment(o.comment)
      callback(response)
      if (o.status === STATUS.success) {
        const sop = o.result?.sopInstanceUid
        if (sop !== undefined) this.#received.push(this.#shared.pacs.findInstance(sop))
      } else {
        this.#storeFailures++
      }
      const fields = this.#fields({ status: hex(o.status), bytes: dataset instanceof PendingStore ? dataset.bytes() : 0, code: o.code, result: o.result?.status, reason: o.comment })
      if (o.status === STATUS.success) this.#log.info('dimse.store', fields)
      else this.#log.warn('dimse.store.failed', fields)
    }).catch((error: unknown) => { this.#log.error('dimse.store.respond-failed', this.#fields({ error: safeMessage(error) })) })
  }

  // ---- C-FIND ----

  override cFindRequest (request: CFindRequest, callback: (out: Array<InstanceType<typeof responses.CFindResponse>>) => void): void {
    // A C-CANCEL counts for the request of its Message ID that is under way: one left from an earlier request with the same id does not.
    this.#cancelled.delete(request.getMessageId())
    void findResponses(this.#shared.pacs, request, this.#permissions.query).then((answer) => { this.#answerFind(request, callback, answer) })
      .catch((error: unknown) => { this.#log.error('dimse.find.failed', this.#fields({ error: safeMessage(error) })) })
  }

  #answerFind (request: CFindRequest, callback: (out: Array<InstanceType<typeof responses.CFindResponse>>) => void, answer: FindResponses): void {
    if (answer.error !== undefined) this.#log.error('dimse.find.failed', this.#fields({ error: safeMessage(answer.error) }))
    if (answer.dropped.length > 0) this.#log.warn('dimse.find.values-left-out', this.#fields({ attributes: answer.dropped.join(','), note: 'stored values that cannot be written in this transfer syntax were left out of the responses' }))
    this.#log.info('dimse.find', this.#fields({ status: hex(answer.status), matches: answer.matches }))
    // The association may have closed while the query read the index: nothing to answer then.
    // The answer goes through the library's callback only for the library to name the context the
    // request came on and the peer's Maximum Length: its sender hands it back (_sendPDataTF below).
    if (!this.#closed) callback([answer.answer] as unknown as Array<InstanceType<typeof responses.CFindResponse>>)
    try {
      auditQuery(this.#shared.pacs.archive.audit, this.#shared.settings.aeTitle, this.#peer(), request.getAffectedSopClassUid(), request.getDataset()?.getElements() ?? {},
        answer.status === STATUS.success ? 'ok' : 'failed')
    } catch (error) {
      this.#log.error('dimse.find.audit-failed', this.#fields({ error: safeMessage(error) }))
    }
  }

  /**
   * dcmjs-dimse's sender (Network._sendPDataTF, private in 0.3.3, which _sendDimse calls with the
   * context the request came on and the peer's Maximum Length). A C-FIND answer is written and
   * sent by find-answer.ts from here, in batches, until done, cancelled or closed; every other
   * message goes on to the library.
   */
  _sendPDataTF (command: unknown, contextId: number, maxPduLength: number): void {
    if (!(command instanceof FindAnswer)) {
      LIBRARY_SEND_PDATA.call(this, command, contextId, maxPduLength)
      return
    }
    const messageId = command.messageId
    void this.#work(async () => {
      const idleSeconds = Math.max(1, this.#shared.settings.idleTimeout)
      const result = await command.send(socketSink(this.#socket, idleSeconds * 1000), contextId, maxPduLength, () => this.#cancelled.has(messageId))
      this.#cancelled.delete(messageId)
      if (result.cancelled) this.#log.info('dimse.find.cancelled', this.#fields({ sent: result.sent, matches: command.matches }))
      if (result.stalled) {
        this.#log.warn('dimse.find.peer-stalled', this.#fields({ sent: result.sent, matches: command.matches, idleSeconds, note: 'the peer did not take a batch of responses within the idle time; the association is aborted' }))
        this.#abortAndClose()
      }
    }).catch((error: unknown) => { this.#failed('cFindRequest', error) })
  }

  // ---- C-MOVE and C-GET ----

  /*
   * The library hands each handler an async-event-emitter "next" as its callback, which may be
   * called once only; a retrieve answers many times (pending responses), so it sends each
   * response itself through Network.sendResponse and never calls the callback.
   */
  override cMoveRequest (request: CMoveRequest): void {
    const send = (status: number, p: Partial<Progress>, comment?: string): void => {
      const r = responses.CMoveResponse.fromRequest(request)
      r.setAffectedSopClassUid(request.getAffectedSopClassUid())
      fillProgress(r, status, p, comment)
      if (!this.#closed) this.sendResponse(request, r)
    }
    void this.#work(async () => {
      const destinationAe = String(request.getCommandDataset().getElement('MoveDestination') ?? '').trim()
      const result = await this.#retrieve(request, send, remoteAe(destinationAe, moveDestination(this.#shared.settings, destinationAe)?.host), this.#peer(), async (instances) => {
        const { settings } = this.#shared
        const destination = moveDestination(settings, destinationAe)
        if (destination === undefined) return { status: STATUS.moveDestinationUnknown, comment: 'move destination is not a configured remote with a port' }
        let outbound: OutboundAssociation
        try {
          outbound = await OutboundAssociation.open({
            host: destination.host, port: destination.port!, callingAe: settings.aeTitle, calledAe: destination.aeTitle,
            timeoutMs: Math.max(5, settings.idleTimeout) * 1000, maxPduLength: settings.maxPduLength,
            ...(destination.tls === 'required' ? { tls: { options: this.#shared.outboundTls?.(), pin: destination.certFingerprint } } : {})
          }, instances.map((i) => ({ sopClassUid: i.sopClassUid, transferSyntaxUid: i.transferSyntaxUid })))
        } catch (error) {
          this.#log.warn('dimse.move.destination-failed', this.#fields({ destinationAe, error: safeMessage(error) }))
          return { status: STATUS.subOperationsImpossible, comment: safeMessage(error).slice(0, 64), failed: instances.length }
        }
        this.#outbound.add(outbound)
        try {
          return await runSubOperations(instances, async (instance) => {
            const dataset = await readRaw(this.#shared.pacs, instance)
            return await outbound.store(instance, dataset, { aeTitle: this.#callingAe, messageId: request.getMessageId() }, SUB_OPERATION_TIMEOUT_MS)
          }, (p) => { send(STATUS.pending, p) }, () => this.#cancelled.has(request.getMessageId()) || this.#closed)
        } finally {
          await outbound.release(5000).catch(() => undefined)
          this.#outbound.delete(outbound)
        }
      })
      this.#log.info('dimse.move', this.#fields({ destinationAe, ...result }))
    }).catch((error: unknown) => { this.#log.error('dimse.move.failed', this.#fields({ error: safeMessage(error) })) })
  }

  override cGetRequest (request: CGetRequest): void {
    const send = (status: number, p: Partial<Progress>, comment?: string): void => {
      const r = responses.CGetResponse.fromRequest(request)
      r.setAffectedSopClassUid(request.getAffectedSopClassUid())
      fillProgress(r, status, p, comment)
      if (!this.#closed) this.sendResponse(request, r)
    }
    void this.#work(async () => {
      const result = await this.#retrieve(request, send, this.#peer(), 'to', async (instances) => await runSubOperations(instances, async (instance) => {
        const dataset = await readRaw(this.#shared.pacs, instance)
        if (!this.#acceptedFor(instance.sopClassUid, dataset.getTransferSyntaxUid())) return STATUS.sopClassNotSupported
        return await this.#storeBack(instance, dataset)
      }, (p) => { send(STATUS.pending, p) }, () => this.#cancelled.has(request.getMessageId()) || this.#closed))
      this.#log.info('dimse.get', this.#fields(result))
    }).catch((error: unknown) => { this.#log.error('dimse.get.failed', this.#fields({ error: safeMessage(error) })) })
  }

  #acceptedFor (sopClassUid: string, transferSyntaxUid: string): boolean {
    return this.#association!.getPresentationContexts().some(({ context }) => context.getAbstractSyntaxUid() === sopClassUid &&
      context.getResult() === PC.Accept && context.getAcceptedTransferSyntaxUid() === transferSyntaxUid)
  }

  /** A C-STORE sub-operation of a C-GET, on this association. */
  async #storeBack (instance: CatalogInstance, dataset: InstanceType<typeof Dataset>): Promise<number> {
    const request = new requests.CStoreRequest(dataset)
    request.setAffectedSopClassUid(instance.sopClassUid)
    request.setAffectedSopInstanceUid(instance.sopInstanceUid)
    return await new Promise<number>((resolve) => {
      const timer = setTimeout(() => { resolve(STATUS.processingFailure); this.#abortAndClose() }, SUB_OPERATION_TIMEOUT_MS)
      const onClose = (): void => { clearTimeout(timer); resolve(STATUS.processingFailure) }
      this.#socket.once('close', onClose)
      request.on('response', (response: DimseResponse) => {
        clearTimeout(timer)
        this.#socket.off('close', onClose)
        resolve(response.getStatus())
      })
      this.sendRequests(request)
    })
  }

  /** The common frame: permission, identifier, the sub-operations, the final response. */
  async #retrieve (
    request: CMoveRequest | CGetRequest,
    send: (status: number, p: Partial<Progress>, comment?: string) => void,
    to: Actor,
    requestedBy: 'to' | Actor,
    perform: (instances: CatalogInstance[]) => Promise<RetrieveResult | { status: number, comment: string, failed?: number }>
  ): Promise<Record<string, string | number>> {
    if (!this.#permissions.retrieve) {
      send(STATUS.notAuthorized, {}, 'this AE may not retrieve from this node')
      return { status: hex(STATUS.notAuthorized) }
    }
    const model = modelOf(request.getAffectedSopClassUid())
    if (model === undefined) {
      send(STATUS.sopClassNotSupported, {}, 'unsupported retrieve model')
      return { status: hex(STATUS.sopClassNotSupported) }
    }
    const selected = await selectInstances(this.#shared.pacs, model, request.getDataset()?.getElements() ?? {})
    if ('status' in selected) {
      send(selected.status, {}, selected.comment)
      return { status: hex(selected.status) }
    }
    if (selected.length === 0) {
      send(STATUS.success, { remaining: 0, completed: 0, failed: 0, warnings: 0 })
      return { status: hex(STATUS.success), instances: 0 }
    }
    const outcome = await perform(selected)
    const failed = 'cancelled' in outcome ? outcome.failed : (outcome.failed ?? selected.length)
    auditSent(this.#shared.pacs.archive.audit, this.#shared.settings.aeTitle, to, requestedBy, selected, failed)
    if ('cancelled' in outcome) {
      const status = finalStatus(outcome)
      send(status, outcome)
      return { status: hex(status), instances: selected.length, completed: outcome.completed, failed: outcome.failed, warnings: outcome.warnings }
    }
    send(outcome.status, { failed: outcome.failed ?? 0, completed: 0, warnings: 0 }, outcome.comment)
    return { status: hex(outcome.status), instances: selected.length }
  }
}

type ProgressResponse = InstanceType<typeof responses.CMoveResponse> | InstanceType<typeof responses.CGetResponse>

function fillProgress (r: ProgressResponse, status: number, p: Partial<Progress>, comment?: string): void {
  r.setStatus(status)
  if (status === STATUS.pending) r.setRemaining(p.remaining ?? 0)
  if (p.completed !== undefined) r.setCompleted(p.completed)
  if (p.failed !== undefined) r.setFailures(p.failed)
  if (p.warnings !== undefined) r.setWarnings(p.warnings)
  if (comment !== undefined) r.setErrorComment(comment)
}

function hex (status: number): string {
  return '0x' + status.toString(16).toUpperCase().padStart(4, '0')
}

/** Error messages from the network layer name addresses and PDU types, not dataset content; still capped. */
function safeMessage (error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/[^\x20-\x7e]/g, '?').slice(0, 200)
}

