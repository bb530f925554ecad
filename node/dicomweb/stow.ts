/**
 * STOW-RS (PS3.18 §10.5): a multipart/related body of application/dicom parts, each streamed into
 * pacs.ingest as it arrives, so a study of any size passes in bounded memory. The body is counted
 * as it is read and reading stops at maxStowBytes (413). Each part succeeds or fails on its own:
 * a failed part stores nothing and is listed in FailedSOPSequence with a FailureReason code and,
 * in ErrorComment (0000,0902), peerpacs's message saying what was wrong. ErrorComment is the
 * standard's own free-text error attribute and is private-free; its LO length is not enforced.
 * What one request can cost is bounded whatever it holds: at most MAX_STOW_PARTS parts (past it,
 * 413 and reading stops; what came before stays stored), the first MAX_LISTED_FAILURES failures
 * described and the rest counted in one summary item (and a Warning header), and one log line
 * per request with counts by failure code, never one per part.
 */
import type { Context } from 'hono'
import { PeerpacsError } from '../../protocol/errors.ts'
import type { Logger } from '../logging/logger.ts'
import type { HttpSettings } from '../config/settings.ts'
import { parseFileMeta } from '../dicom/file-meta.ts'
import { Part10Inspector } from '../dicom/part10-inspector.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { DIMSE_STATUS_BY_CODE, dimseStatusOf } from '../dimse/error-statuses.ts'
import { STATUS } from '../dimse/statuses.ts'
import { badRequest, payloadTooLarge, unsupportedMediaType } from './http-errors.ts'
import { codeOf, instancePath, messageOf, serviceRoot } from './http-util.ts'
import { checkBoundary, MultipartError, parseMediaType, readMultipart } from './multipart.ts'
import { auditStored } from './audit.ts'

/*
 * FailureReason values (PS3.18 Table I.2-1) are PS3.4 statuses (Annex B.2.3): a failed part's
 * reason is its error code's row in the one DIMSE table (dimse/error-statuses.ts).
 */

class TooLargeError extends Error {}

class StudyMismatchError extends PeerpacsError {
  constructor (message: string) { super('STUDY_MISMATCH', message) }
}

interface Stored { sopClassUid?: string, sopInstanceUid: string, studyInstanceUid: string, seriesInstanceUid?: string }
interface Failed { sopClassUid?: string, sopInstanceUid?: string, reason: number, message: string }

/** The most parts one STOW-RS request may hold; past it reading stops (413) and what came before stays stored. */
export const MAX_STOW_PARTS = 10_000
/** Failed parts described one by one in the response; the rest are counted in one summary item. */
export const MAX_LISTED_FAILURES = 100

/** A request's failed parts: the first MAX_LISTED_FAILURES in full, the rest as counts by code. */
class Failures {
  readonly listed: Failed[] = []
  readonly codes: Record<string, number> = {}
  count = 0
  add (failure: Failed, code: string): void {
    this.count++
    this.codes[code] = (this.codes[code] ?? 0) + 1
    if (this.listed.length < MAX_LISTED_FAILURES) this.listed.push(failure)
  }

  /** The listed failures, then one item without UIDs that counts the ones left out. */
  summarised (): Failed[] {
    const unlisted = this.count - this.listed.length
    if (unlisted === 0) return this.listed
    return [...this.listed, { reason: STATUS.processingFailure, message: `${unlisted} further part(s) failed and are not listed one by one (${this.count} failures in all, by code: ${this.byCode()})` }]
  }

  /** "INVALID_DICOM 3, PART_TYPE 1": for the one log line of a request. */
  byCode (): string {
    return Object.entries(this.codes).map(([code, n]) => `${code} ${n}`).join(', ')
  }
}

/** Counts the body as it is read; past `limit` it stops reading and throws TooLargeError. */
async function * counted (body: ReadableStream<Uint8Array>, limit: number, state: { bytes: number }): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      state.bytes += value.length
      if (state.bytes > limit) throw new TooLargeError()
      yield value
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}

const PREFIX_BYTES = 64 * 1024

/**
 * Passes a part's bytes to ingest while learning its UIDs on the side (for the response when it
 * fails) and, for /studies/{study}, refusing an instance of another study before its end, so
 * ingest stores nothing.
 */
function watched (body: AsyncIterable<Uint8Array>, requiredStudy: string | undefined, seen: Partial<Stored>): AsyncIterable<Uint8Array> {
  const inspector = new Part10Inspector()
  let inspecting = true
  const prefix: Uint8Array[] = []
  let prefixLength = 0
  const check = (): void => {
    const header = inspector.header
    if (header === undefined) return
    inspecting = false
    seen.sopClassUid = header.sopClassUid
    seen.sopInstanceUid = header.sopInstanceUid
    seen.studyInstanceUid = header.studyInstanceUid
    seen.seriesInstanceUid = header.seriesInstanceUid
    if (requiredStudy !== undefined && header.studyInstanceUid !== requiredStudy) {
      throw new StudyMismatchError('the instance belongs to another study than the one in the request URL; it was not stored')
    }
  }
  return (async function * () {
    for await (const chunk of body) {
      if (prefixLength < PREFIX_BYTES) { prefix.push(chunk); prefixLength += chunk.length }
      if (inspecting) {
        try { inspector.push(chunk) } catch { inspecting = false }
        check()
      }
      yield chunk
    }
    if (inspecting) {
      try { inspector.finish() } catch { inspecting = false }
      check()
    }
    if (seen.sopInstanceUid === undefined) {
      const meta = (() => { try { return parseFileMeta(Buffer.concat(prefix), Number.MAX_SAFE_INTEGER) } catch { return undefined } })()
      if (meta?.mediaStorageSopInstanceUid !== undefined) seen.sopInstanceUid = meta.mediaStorageSopInstanceUid
      if (meta?.mediaStorageSopClassUid !== undefined) seen.sopClassUid = meta.mediaStorageSopClassUid
    }
  })()
}

function dicomJson (root: string, stored: Stored[], failed: Failed[], requiredStudy: string | undefined): Record<string, unknown> {
  const studies = new Set(stored.map((s) => s.studyInstanceUid))
  const out: Record<string, unknown> = {}
  const study = requiredStudy ?? (studies.size === 1 ? [...studies][0] : undefined)
  if (study !== undefined) out['00081190'] = { vr: 'UR', Value: [`${root}/studies/${study}`] }
  if (stored.length > 0) {
    out['00081199'] = {
      vr: 'SQ',
      Value: stored.map((s) => ({
        ...(s.sopClassUid === undefined ? {} : { '00081150': { vr: 'UI', Value: [s.sopClassUid] } }),
        '00081155': { vr: 'UI', Value: [s.sopInstanceUid] },
        '00081190': { vr: 'UR', Value: [instancePath(root, s.studyInstanceUid, s.seriesInstanceUid ?? '', s.sopInstanceUid)] }
      }))
    }
  }
  if (failed.length > 0) {
    out['00081198'] = {
      vr: 'SQ',
      Value: failed.map((f) => ({
        ...(f.sopClassUid === undefined ? {} : { '00081150': { vr: 'UI', Value: [f.sopClassUid] } }),
        ...(f.sopInstanceUid === undefined ? {} : { '00081155': { vr: 'UI', Value: [f.sopInstanceUid] } }),
        '00081197': { vr: 'US', Value: [f.reason] },
        '00000902': { vr: 'LO', Value: [f.message] }
      }))
    }
  }
  return out
}

export async function stow (c: Context, pacs: Pacs, settings: HttpSettings, log: Logger, requiredStudy: string | undefined): Promise<Response> {
  const contentType = parseMediaType(c.req.header('content-type') ?? '')
  if (contentType === undefined || contentType.type !== 'multipart/related') {
    throw unsupportedMediaType('STOW-RS takes a multipart/related body with application/dicom parts (Content-Type: multipart/related; type="application/dicom"; boundary=...)')
  }
  const partType = contentType.params.type?.toLowerCase()
  if (partType !== undefined && partType !== 'application/dicom') {
    throw unsupportedMediaType(`peerpacs stores application/dicom parts (Part 10 files); type="${partType}" is not supported`)
  }
  const boundary = contentType.params.boundary
  if (boundary === undefined || boundary === '') throw badRequest('the Content-Type has no boundary parameter')
  try { checkBoundary(boundary) } catch (error) { throw badRequest(messageOf(error)) }
  const declared = c.req.header('content-length')
  if (declared !== undefined && Number(declared) > settings.maxStowBytes) {
    log.warn('stow.refused', { reason: 'too-large', declared: Number(declared), limit: settings.maxStowBytes })
    throw payloadTooLarge(`the body (${declared} bytes) is larger than this node accepts in one STOW-RS request (${settings.maxStowBytes} bytes); send the study in several requests`)
  }
  const body = c.req.raw.body
  if (body === null) throw badRequest('the request has no body')

  const root = serviceRoot(c)
  const stored: Stored[] = []
  const failures = new Failures()
  const state = { bytes: 0 }
  let framing: MultipartError | undefined
  let framingListed = false
  let tooLarge = false
  let tooMany = false
  let parts = 0
  try {
    for await (const part of readMultipart(counted(body, settings.maxStowBytes, state), boundary)) {
      if (parts === MAX_STOW_PARTS) { tooMany = true; break }
      parts++
      const type = parseMediaType(part.headers['content-type'] ?? 'application/dicom')?.type
      if (type !== 'application/dicom') {
        failures.add({ reason: STATUS.cannotUnderstand, message: `part ${parts}: the part is ${(part.headers['content-type'] ?? '(no type)').slice(0, 100)}, not application/dicom; skipped` }, 'PART_TYPE')
        continue
      }
      const seen: Partial<Stored> = {}
      try {
        const result = await pacs.ingest(watched(part.body, requiredStudy, seen))
        stored.push({ sopClassUid: seen.sopClassUid, sopInstanceUid: result.sopInstanceUid, studyInstanceUid: result.studyInstanceUid, seriesInstanceUid: seen.seriesInstanceUid } as Stored)
        auditStored(c, result.sopInstanceUid)
      } catch (error) {
        if (error instanceof TooLargeError) throw error
        if (error instanceof MultipartError) { framing = error; framingListed = true }
        failures.add({ sopClassUid: seen.sopClassUid, sopInstanceUid: seen.sopInstanceUid, reason: dimseStatusOf(error), message: `part ${parts}: ${messageOf(error)}` }, codeOf(error))
        if (framing !== undefined) break
      }
    }
  } catch (error) {
    if (error instanceof TooLargeError) tooLarge = true
    else if (error instanceof MultipartError) framing ??= error
    else throw error
  }

  if (tooMany) {
    log.warn('stow.refused', { reason: 'too-many-parts', limit: MAX_STOW_PARTS, stored: stored.length, failed: failures.count, codes: failures.byCode() })
    return new Response(JSON.stringify({
      error: 'too-many-parts',
      message: `the body holds more than ${MAX_STOW_PARTS} parts, the most this node takes in one STOW-RS request; reading stopped there. ` +
        `${stored.length} instance(s) of the first ${MAX_STOW_PARTS} parts were stored (listed in "stored"); send the rest in further requests`,
      stored: dicomJson(root, stored, [], requiredStudy)
    }), { status: 413, headers: { 'Content-Type': 'application/json', Connection: 'close' } })
  }
  if (tooLarge) {
    log.warn('stow.refused', { reason: 'too-large', read: state.bytes, limit: settings.maxStowBytes, stored: stored.length })
    return new Response(JSON.stringify({
      error: 'too-large',
      message: `the body is larger than this node accepts in one STOW-RS request (${settings.maxStowBytes} bytes); reading stopped there. ` +
        `${stored.length} instance(s) completed before the limit were stored (listed in "stored"); send the rest in further requests`,
      stored: dicomJson(root, stored, [], requiredStudy)
    }), { status: 413, headers: { 'Content-Type': 'application/json', Connection: 'close' } })
  }
  if (framing !== undefined && parts === 0) {
    log.info('stow.refused', { reason: 'malformed', code: framing.code })
    throw badRequest(`the multipart body could not be read: ${framing.message}`)
  }
  if (framing !== undefined && !framingListed) {
    failures.add({ reason: DIMSE_STATUS_BY_CODE[framing.code], message: `the multipart body is malformed after part ${parts}: ${framing.message}` }, framing.code)
  }
  if (stored.length === 0 && failures.count === 0) throw badRequest('the multipart body has no parts')
  const status = failures.count === 0 ? 200 : stored.length === 0 ? 409 : 202
  // One line per request, whatever the number of parts: counts and failure codes, never a UID.
  log.info('stow.done', { parts, stored: stored.length, failed: failures.count, codes: failures.byCode(), bytes: state.bytes, status })
  const unlisted = failures.count - failures.listed.length
  return new Response(JSON.stringify(dicomJson(root, stored, failures.summarised(), requiredStudy)), {
    status,
    headers: {
      'Content-Type': 'application/dicom+json',
      ...(unlisted > 0 ? { Warning: `299 peerpacs "${failures.count} parts failed; the first ${failures.listed.length} are listed in FailedSOPSequence"` } : {})
    }
  })
}
