/**
 * What every DICOMweb route shares (error answers are in http-errors.ts): UID parameters that are
 * checked before anything is looked up (a UID is digits and dots, so nothing that reaches the
 * catalogue can name a path), and the base URL that RetrieveURL and BulkDataURI values are built on.
 */
import type { Context } from 'hono'
import { isValidUid } from '../dicom/uid.ts'
import { badRequest } from './http-errors.ts'

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
