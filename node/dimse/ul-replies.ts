/**
 * The upper layer answers the edge writes itself, without dcmjs-dimse, when a peer breaks the
 * protocol (PS3.8 9.3.4 A-ASSOCIATE-RJ, 9.3.8 A-ABORT), or when a connection is over a limit
 * before any PDU was read. Each problem found on the wire is one PduProblem: what to answer
 * and a detail for the log (never PHI: PDU types, lengths, item types, context ids).
 */

/** A-ABORT Reason/Diag. (PS3.8 Table 9-26), meaningful when the source is the service provider. */
export const ABORT_REASON = {
  notSpecified: 0,
  unrecognizedPdu: 1,
  unexpectedPdu: 2,
  unrecognizedPduParameter: 4,
  unexpectedPduParameter: 5,
  invalidPduParameterValue: 6
} as const

/** A-ABORT Source (PS3.8 Table 9-26): 0 service user, 2 service provider (the upper layer). */
export const ABORT_SOURCE = { serviceUser: 0, serviceProvider: 2 } as const

/** A-ASSOCIATE-RJ Result, Source and Reason/Diag. (PS3.8 Table 9-21). */
export const REJECT = {
  permanent: 1,
  transient: 2,
  /** Source 1, service user: 1 no reason, 2 application context name not supported, 3 calling AE, 7 called AE. */
  serviceUser: 1,
  applicationContextNotSupported: 2,
  callingAeNotRecognized: 3,
  calledAeNotRecognized: 7,
  /** Source 2, service provider (ACSE related function): 2 protocol version not supported. */
  serviceProviderAcse: 2,
  protocolVersionNotSupported: 2,
  /** Source 3, service provider (presentation related function): 1 temporary congestion, 2 local limit exceeded. */
  serviceProviderPresentation: 3,
  temporaryCongestion: 1,
  localLimitExceeded: 2
} as const

export type PduProblem =
  | { readonly kind: 'abort', readonly reason: number, readonly detail: string }
  | { readonly kind: 'reject', readonly result: number, readonly source: number, readonly reason: number, readonly detail: string }
  /** The peer aborted (or sent a broken A-ABORT): nothing to answer, the transport closes. */
  | { readonly kind: 'close', readonly detail: string }

export function abortProblem (reason: number, detail: string): PduProblem { return { kind: 'abort', reason, detail } }

/** An A-ABORT PDU from the service provider. */
export function abortPdu (reason: number): Buffer {
  return Buffer.from([0x07, 0, 0, 0, 0, 4, 0, 0, ABORT_SOURCE.serviceProvider, reason])
}

/** An A-ASSOCIATE-RJ PDU. */
export function rejectPdu (result: number, source: number, reason: number): Buffer {
  return Buffer.from([0x03, 0, 0, 0, 0, 4, 0, result, source, reason])
}

/** The PDU that answers `problem`, if any. */
export function replyTo (problem: PduProblem): Buffer | undefined {
  if (problem.kind === 'abort') return abortPdu(problem.reason)
  if (problem.kind === 'reject') return rejectPdu(problem.result, problem.source, problem.reason)
  return undefined
}

/** What the log says for a problem: the PS3.8 name of the answer and the detail. */
export function describe (problem: PduProblem): Record<string, string | number> {
  if (problem.kind === 'abort') return { answer: 'A-ABORT', abortReason: problem.reason, reason: problem.detail }
  if (problem.kind === 'reject') return { answer: 'A-ASSOCIATE-RJ', rejectResult: problem.result, rejectSource: problem.source, rejectReason: problem.reason, reason: problem.detail }
  return { answer: 'close', reason: problem.detail }
}
