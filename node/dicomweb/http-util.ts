/**
 * What every DICOMweb route shares: JSON error bodies, UID parameters that are checked before
 * anything is looked up (a UID is digits and dots, so nothing that reaches the catalogue can name
 * a path), and the base URL that RetrieveURL and BulkDataURI values are built on.
 */
import type { Context } from 'hono'
import { isValidUid } from '../dicom/uid.ts'

export type ErrorStatus = 400 | 404 | 406 | 409 | 413 | 415 | 500 | 503

/** A refusal that a handler throws and the router answers with `status` and a JSON body. */
export class HttpProblem extends Error {
  readonly status: ErrorStatus
  readonly error: string
  constructor (status: ErrorStatus, error: string, message: string) {
    super(message)
    this.status = status
    this.error = error
  }
}

export function problemResponse (p: HttpProblem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: p.error, message: p.message }), {
    status: p.status,
    headers: { 'Content-Type': 'application/json', ...headers }
  })
}

export function badRequest (message: string): HttpProblem { return new HttpProblem(400, 'bad-request', message) }
export function notFound (message: string): HttpProblem { return new HttpProblem(404, 'not-found', message) }
export function notAcceptable (message: string): HttpProblem { return new HttpProblem(406, 'not-acceptable', message) }

/** A UID from the path or the query string; `what` names it in the message (never the value's meaning). */
export function uidParam (value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw badRequest(`${what} is missing`)
  if (!isValidUid(value)) throw badRequest(`${what} is not a UID (digits and dots, at most 64 characters)`)
  return value
}

/**
 * The DICOMweb root as the client addressed it ('http://host:port/dicomweb'), from the
 * request path up to the resource: RetrieveURL and BulkDataURI are absolute and point back here.
 */
export function serviceRoot (c: Context): string {
  const url = new URL(c.req.url)
  const path = url.pathname
  const at = path.search(/\/(studies|series|instances)(\/|$)/)
  return url.origin + (at === -1 ? path.replace(/\/$/, '') : path.slice(0, at))
}

export function instancePath (root: string, study: string, series: string, sop: string): string {
  return `${root}/studies/${study}/series/${series}/instances/${sop}`
}

/** Bounded text of an error for a client (never for a log: it may name what the client sent). */
export function messageOf (error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.length > 500 ? text.slice(0, 497) + '...' : text
}

/** The code of a PeerpacsError-like error, for logs. */
export function codeOf (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'UNKNOWN'
}
