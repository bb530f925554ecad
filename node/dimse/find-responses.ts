/**
 * The answer to one C-FIND request: an identifier per match, written by one IdentifierWriter in
 * the syntax the request came in (its context's accepted one), and the final status. Whatever
 * goes wrong on the way becomes a failure status of the final response, so the caller always has
 * exactly one answer to send (find-answer.ts writes and sends it; no response goes through
 * dcmjs's denaturalizer).
 */
import type { Pacs } from '../pacs/pacs.ts'
import { FindAnswer } from './find-answer.ts'
import { find } from './find.ts'
import { IdentifierWriter } from './identifier.ts'
import type { requests } from './library.ts'
import { STATUS } from './statuses.ts'
import { FIND, IMPLICIT_LE, modelOf } from './syntaxes.ts'

type CFindRequest = InstanceType<typeof requests.CFindRequest>

export const FIND_CLASSES: ReadonlySet<string> = new Set<string>([FIND.patientRoot, FIND.studyRoot])

export interface FindResponses {
  readonly answer: FindAnswer
  readonly status: number
  readonly matches: number
  /** Keywords of stored values that could not be written and were left out. */
  readonly dropped: readonly string[]
  /** What failed unexpectedly (the status is then Processing Failure). */
  readonly error?: unknown
}

export async function findResponses (pacs: Pacs, request: CFindRequest, mayQuery: boolean): Promise<FindResponses> {
  const syntax = request.getDataset()?.getTransferSyntaxUid() ?? IMPLICIT_LE
  let status: number = STATUS.success
  let comment: string | undefined
  let identifiers: Buffer[] = []
  const dropped: string[] = []
  let error: unknown
  try {
    const model = modelOf(request.getAffectedSopClassUid())
    const answer = !mayQuery
      ? { status: STATUS.notAuthorized, comment: 'this AE may not query this node' }
      : model === undefined || !FIND_CLASSES.has(request.getAffectedSopClassUid())
        ? { status: STATUS.sopClassNotSupported, comment: 'unsupported query model' }
        : await find(pacs, model, request.getDataset()?.getElements() ?? {})
    if ('status' in answer) {
      status = answer.status
      comment = answer.comment
    } else if (answer.rows.length > 0) {
      const writer = new IdentifierWriter(answer.columns, syntax)
      identifiers = answer.rows.map((values) => writer.write(values, dropped))
    }
  } catch (caught) {
    error = caught
    status = STATUS.processingFailure
    comment = 'the query failed'
    identifiers = []
  }
  const answer = new FindAnswer({
    sopClassUid: request.getAffectedSopClassUid(),
    messageId: request.getMessageId(),
    identifiers,
    status,
    ...(comment === undefined ? {} : { comment })
  })
  return { answer, status, matches: identifiers.length, dropped: [...new Set(dropped)], ...(error === undefined ? {} : { error }) }
}
