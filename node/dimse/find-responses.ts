/**
 * The responses to one C-FIND request: a pending response per match, its identifier written
 * by identifier.ts in the syntax the request came in (its context's accepted one), then the
 * final response. Whatever goes wrong on the way becomes a failure status of the final response,
 * so the caller always has exactly one set of responses to send.
 */
import type { Pacs } from '../pacs/pacs.ts'
import { find } from './find.ts'
import { IdentifierDataset, writeIdentifier } from './identifier.ts'
import { requests, responses } from './library.ts'
import { STATUS } from './statuses.ts'
import { FIND, IMPLICIT_LE, modelOf } from './syntaxes.ts'

type CFindRequest = InstanceType<typeof requests.CFindRequest>
type CFindResponse = InstanceType<typeof responses.CFindResponse>

export const FIND_CLASSES: ReadonlySet<string> = new Set<string>([FIND.patientRoot, FIND.studyRoot])

export interface FindResponses {
  readonly responses: CFindResponse[]
  readonly status: number
  readonly matches: number
  /** Keywords of stored values that could not be written and were left out. */
  readonly dropped: readonly string[]
  /** What failed unexpectedly (the status is then Processing Failure). */
  readonly error?: unknown
}

export function findResponses (pacs: Pacs, request: CFindRequest, mayQuery: boolean): FindResponses {
  const syntax = request.getDataset()?.getTransferSyntaxUid() ?? IMPLICIT_LE
  let status: number = STATUS.success
  let comment: string | undefined
  let pending: CFindResponse[] = []
  const dropped = new Set<string>()
  let error: unknown
  try {
    const model = modelOf(request.getAffectedSopClassUid())
    const answer = !mayQuery
      ? { status: STATUS.notAuthorized, comment: 'this AE may not query this node' }
      : model === undefined || !FIND_CLASSES.has(request.getAffectedSopClassUid())
        ? { status: STATUS.sopClassNotSupported, comment: 'unsupported query model' }
        : find(pacs, model, request.getDataset()?.getElements() ?? {})
    if ('status' in answer) {
      status = answer.status
      comment = answer.comment
    } else {
      pending = answer.identifiers.map((identifier) => {
        const r = responses.CFindResponse.fromRequest(request)
        r.setAffectedSopClassUid(request.getAffectedSopClassUid())
        r.setStatus(STATUS.pending)
        const written = writeIdentifier(identifier, syntax)
        for (const keyword of written.dropped) dropped.add(keyword)
        r.setDataset(new IdentifierDataset(written.bytes, syntax))
        return r
      })
    }
  } catch (caught) {
    error = caught
    status = STATUS.processingFailure
    comment = 'the query failed'
    pending = []
  }
  const final = responses.CFindResponse.fromRequest(request)
  final.setAffectedSopClassUid(request.getAffectedSopClassUid())
  final.setStatus(status)
  if (comment !== undefined) final.setErrorComment(comment)
  return { responses: [...pending, final], status, matches: pending.length, dropped: [...dropped], ...(error === undefined ? {} : { error }) }
}
