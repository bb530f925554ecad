/**
 * The association peerpacs opens to a C-MOVE destination: its own socket (so TCP_NODELAY is set,
 * which dcmjs-dimse's Client cannot do before it connects) driven by the library's network
 * layer (an Scp instance is a Network with no request handlers needed here). It proposes each
 * (SOP class, stored transfer syntax) pair once, with that syntax only: nothing is transcoded.
 *
 * To a TLS destination (issue 19; `tls: "required"` in dicom.remotes) it connects with TLS 1.2+
 * and the BCP 195 suites, shows the node's DICOM TLS certificate (the destination may ask for it),
 * and authenticates the destination by its pinned SHA-256 fingerprint when one is configured, else
 * by its certificate chaining to dicom.tls.ca (or the system's CAs). Host names in the certificate
 * are not checked (DICOM peers are configured by address; dcmtk does not check them either): pin
 * the destination to bind it to one certificate. Nothing is sent before the destination is
 * authenticated.
 */
import { connect, type Socket } from 'node:net'
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls'
import type { CatalogInstance } from '../query/attributes.ts'
import { association as assoc, constants, requests, Scp, type DimseAssociation, type DimseResponse } from './library.ts'
import type { RawDataset } from './raw-dataset.ts'
import { STATUS } from './statuses.ts'

const { PresentationContextResult } = constants

export interface OutboundOptions {
  readonly host: string
  readonly port: number
  readonly callingAe: string
  readonly calledAe: string
  readonly timeoutMs: number
  readonly maxPduLength: number
  /** A TLS destination: the node's certificate and CAs (undefined: no DICOM TLS port, so none), and its pin. */
  readonly tls?: { readonly options: ConnectionOptions | undefined, readonly pin: string | undefined }
}

/** Why a TLS destination is not trusted, or undefined when it is. */
function untrusted (socket: TLSSocket, pin: string | undefined): string | undefined {
  if (pin !== undefined) {
    const seen = socket.getPeerCertificate()?.fingerprint256?.toUpperCase()
    return seen === pin ? undefined : `destination certificate is not the pinned one (${seen === undefined ? 'none' : seen.slice(0, 23)}...)`
  }
  return socket.authorized ? undefined : `destination certificate not trusted (${String(socket.authorizationError ?? 'unknown').slice(0, 60)})`
}

class Requestor extends Scp {
  override abort (): void { /* handled through the events below */ }
}

export class OutboundAssociation {
  readonly #socket: Socket
  readonly #network: Requestor
  readonly #association: DimseAssociation
  #closed = false
  #closeWaiters: Array<() => void> = []

  private constructor (socket: Socket, network: Requestor, association: DimseAssociation) {
    this.#socket = socket
    this.#network = network
    this.#association = association
    const closed = (): void => {
      this.#closed = true
      for (const w of this.#closeWaiters.splice(0)) w()
    }
    socket.once('close', closed)
    network.on('networkError', () => { socket.destroy() })
    network.on('abort', () => { socket.destroy() })
  }

  /** Connects and negotiates; rejects with a message fit for an Error Comment. */
  static async open (options: OutboundOptions, pairs: ReadonlyArray<{ sopClassUid: string, transferSyntaxUid: string }>): Promise<OutboundAssociation> {
    const association = new assoc.Association(options.callingAe, options.calledAe)
    association.setMaxPduLength(options.maxPduLength)
    const seen = new Set<string>()
    for (const { sopClassUid, transferSyntaxUid } of pairs) {
      const key = `${sopClassUid} ${transferSyntaxUid}`
      if (seen.has(key)) continue
      seen.add(key)
      if (seen.size > 128) throw new Error('more than 128 SOP class and transfer syntax pairs to propose')
      const pcId = association.addPresentationContext(sopClassUid)
      association.addTransferSyntaxToPresentationContext(pcId, transferSyntaxUid)
    }
    const tls = options.tls
    if (tls !== undefined && tls.options === undefined) throw new Error('destination needs TLS but this node has no DICOM TLS port (dicom.tls)')
    const socket: Socket = tls === undefined
      ? connect({ host: options.host, port: options.port })
      : connectTls({ ...tls.options, host: options.host, port: options.port, rejectUnauthorized: false, checkServerIdentity: () => undefined })
    socket.setNoDelay(true)
    const network = new Requestor(socket, { connectTimeout: options.timeoutMs, associationTimeout: options.timeoutMs, pduTimeout: options.timeoutMs })
    const outbound = new OutboundAssociation(socket, network, association)
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string): void => { socket.destroy(); reject(new Error(message)) }
      const timer = setTimeout(() => fail('destination did not answer the association request'), options.timeoutMs)
      socket.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); fail(`cannot connect to destination (${e.code ?? 'error'})`) })
      socket.once('close', () => { clearTimeout(timer); reject(new Error('destination closed the connection')) })
      if (tls === undefined) network.once('connect', () => { network.sendAssociationRequest(association) })
      else {
        socket.once('secureConnect', () => {
          const problem = untrusted(socket as TLSSocket, tls.pin)
          if (problem !== undefined) { clearTimeout(timer); fail(problem); return }
          network.sendAssociationRequest(association)
        })
      }
      network.once('associationAccepted', () => { clearTimeout(timer); resolve() })
      network.once('associationRejected', (r: { result: number, source: number, reason: number }) => {
        clearTimeout(timer)
        fail(`destination rejected the association (reason ${r.reason})`)
      })
    })
    return outbound
  }

  /** Whether an instance in this syntax can go out untouched. */
  accepts (sopClassUid: string, transferSyntaxUid: string): boolean {
    return this.#association.getPresentationContexts().some(({ context }) =>
      context.getAbstractSyntaxUid() === sopClassUid && context.getResult() === PresentationContextResult.Accept &&
      context.getAcceptedTransferSyntaxUid() === transferSyntaxUid)
  }

  get closed (): boolean { return this.#closed }

  /** One C-STORE sub-operation; resolves to the destination's status. */
  async store (instance: CatalogInstance, dataset: RawDataset, originator: { aeTitle: string, messageId: number }, timeoutMs: number): Promise<number> {
    if (this.#closed) return STATUS.processingFailure
    if (!this.accepts(instance.sopClassUid, dataset.getTransferSyntaxUid())) return STATUS.sopClassNotSupported
    const request = new requests.CStoreRequest(dataset)
    request.setAffectedSopClassUid(instance.sopClassUid)
    request.setAffectedSopInstanceUid(instance.sopInstanceUid)
    request.getCommandDataset().setElement('MoveOriginatorApplicationEntityTitle', originator.aeTitle)
    request.getCommandDataset().setElement('MoveOriginatorMessageID', originator.messageId as unknown as string)
    return await new Promise<number>((resolve) => {
      const timer = setTimeout(() => { this.#socket.destroy(); finish(STATUS.processingFailure) }, timeoutMs)
      const finish = (status: number): void => {
        clearTimeout(timer)
        this.#closeWaiters = this.#closeWaiters.filter((w) => w !== onClose)
        resolve(status)
      }
      const onClose = (): void => { finish(STATUS.processingFailure) }
      this.#closeWaiters.push(onClose)
      request.on('response', (response: DimseResponse) => { finish(response.getStatus()) })
      this.#network.sendRequests(request)
    })
  }

  /** Releases (or, failing that, drops) the association. */
  async release (timeoutMs: number): Promise<void> {
    if (this.#closed) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.#socket.destroy(); resolve() }, timeoutMs)
      this.#closeWaiters.push(() => { clearTimeout(timer); resolve() })
      this.#network.once('associationReleaseResponse', () => { this.#socket.end() })
      this.#network.sendAssociationReleaseRequest()
    })
  }

  destroy (): void { this.#socket.destroy() }
}
