/**
 * The audit trail over HTTP, for the auditor's and the admin's pages (needs `audit.read`;
 * docs/access-control.md):
 *
 *   GET /api/audit?since&until&patient&study&user&event&limit&offset&asOf
 *       → {records, matched, offset, limit, asOf, records in the trail, unreadable}, newest first
 *   GET /api/audit/export?format=jsonl|dicom-xml&since&…   the matching records, oldest first,
 *       as `peerpacs audit export` writes them (a file to download)
 *
 * The criteria are the CLI's (audit-filter-input.ts): dates as ISO 8601 (a bare `until` date
 * means the end of that day), patient, study and user matched exactly, events as ids separated by
 * commas. Paging: `limit` 1–500 (50), `offset` from 0. Every answer names `asOf`, the newest
 * instant it considered; passing it back as `asOf` for the next pages keeps them on the same
 * records while new ones (this search's own 110101 among them) arrive at the top.
 *
 * Every read, a page or an export, is itself audited: 110101 Audit Log Used naming the reader,
 * as the CLI does. A parameter that is unknown, repeated or malformed is answered 400 naming it.
 */
import { Hono, type Context } from 'hono'
import { auditLogUsedEvent, ID_TYPE, matchesAuditFilter, NAMES, nodeSource, OBJECT_ROLE, toDicomAuditXml, toJsonLine, type Actor, type AuditFilter, type AuditRecord } from '../../protocol/audit/index.ts'
import { EVENT_ID, EVENT_TYPE } from '../../protocol/audit/index.ts'
import { RequestError } from '../dicomweb/http-errors.ts'
import type { AuditPort } from './audit-port.ts'
import type { AuditEntry } from './audit-trail.ts'
import { auditFilterFrom, FILTER_FIELDS, type FilterField, type FilterSurface } from './audit-filter-input.ts'

/** What the routes need: the trail, the audit writer, and who is asking. */
export interface AuditReadPort {
  /** Every audit record of the org this node can read, oldest first (audit-trail.ts). */
  readonly read: () => Promise<AuditEntry[]>
  readonly audit: AuditPort
  readonly orgId: string
  /** The person or token asking, as the audit vocabulary names them. */
  readonly actorOf: (c: Context) => Actor
  readonly now?: () => number
}

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 500

const HTTP_FILTER: FilterSurface = {
  name: (field) => `"${field}"`,
  fail: (message, hint) => new RequestError('BAD_REQUEST', hint === undefined ? message : `${message}: ${hint}`)
}

const bad = (message: string): RequestError => new RequestError('BAD_REQUEST', message)

/** The query's parameters, each at most once, none unknown. */
function paramsOf (c: Context, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  const url = new URL(c.req.url)
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) throw bad(`unknown parameter "${name.slice(0, 40)}": use ${allowed.join(', ')}`)
    if (out.has(name)) throw bad(`"${name}" is given more than once`)
    if (value.length > 512) throw bad(`"${name}" is longer than 512 characters`)
    out.set(name, value)
  }
  return out
}

function wholeNumber (params: Map<string, string>, name: string, fallback: number, min: number, max: number): number {
  const value = params.get(name)
  if (value === undefined) return fallback
  const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(`"${name}" must be a whole number from ${min} to ${max}, got "${value.slice(0, 40)}"`)
  return n
}

function filterOf (params: Map<string, string>, now: number): { filter: AuditFilter, asOf: number } {
  const given: Partial<Record<FilterField, string>> = {}
  for (const field of FILTER_FIELDS) {
    const v = params.get(field)
    if (v !== undefined && v.trim() !== '') given[field] = v.trim()
  }
  const filter = auditFilterFrom(given, HTTP_FILTER)
  const asOfText = params.get('asOf')
  let asOf = now
  if (asOfText !== undefined) {
    asOf = Date.parse(asOfText)
    if (!/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(asOfText) || Number.isNaN(asOf)) throw bad(`"asOf" must be the UTC date-time an earlier answer gave (e.g. 2026-12-03T21:00:00.000Z), got "${asOfText.slice(0, 40)}"`)
    if (asOf > now) asOf = now
  }
  return { filter: { ...filter, until: Math.min(filter.until ?? asOf, asOf) }, asOf }
}

const OUTCOMES: Record<number, string> = { 0: 'success', 4: 'minor failure', 8: 'serious failure', 12: 'major failure' }

/** One record as the pages show it: names beside the codes, who and from where, what it names. */
export function recordView (e: AuditEntry & { record: AuditRecord }): Record<string, unknown> {
  const r = e.record
  const types = r.eventTypeCodes ?? []
  return {
    opId: e.opId,
    author: e.author,
    seq: e.seq,
    time: new Date(r.time).toISOString(),
    eventId: r.eventId,
    event: NAMES.eventId(r.eventId) ?? String(r.eventId),
    eventTypes: types.map((t) => ({ code: t, name: NAMES.eventType(t) ?? String(t) })),
    action: r.action,
    outcome: r.outcome,
    outcomeName: OUTCOMES[r.outcome] ?? String(r.outcome),
    ...(r.outcomeDescription === undefined ? {} : { outcomeDescription: r.outcomeDescription }),
    participants: r.participants.map((p) => ({
      userId: p.userId,
      ...(p.altUserId === undefined ? {} : { altUserId: p.altUserId }),
      ...(p.userName === undefined ? {} : { userName: p.userName }),
      requestor: p.requestor,
      ...(p.networkAccessPointId === undefined ? {} : { address: p.networkAccessPointId })
    })),
    objects: r.objects.map((o) => ({
      role: NAMES.objectRole(o.roleCode) ?? String(o.roleCode),
      idType: NAMES.idType(o.idTypeCode) ?? String(o.idTypeCode),
      id: o.id,
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.description === undefined ? {} : { description: o.description }),
      ...(o.roleCode === OBJECT_ROLE.patient ? { patient: true } : {}),
      ...(o.idTypeCode === ID_TYPE.studyInstanceUid ? { study: true } : {})
    })),
    breakGlass: r.eventId === EVENT_ID.securityAlert && (types as number[]).includes(EVENT_TYPE.emergencyOverrideStarted)
  }
}

export function auditRoutes (port: AuditReadPort): Hono {
  const app = new Hono()
  const now = port.now ?? Date.now

  const matching = async (filter: AuditFilter): Promise<{ matched: Array<AuditEntry & { record: AuditRecord }>, total: number, unreadable: number }> => {
    const entries = await port.read()
    const matched: Array<AuditEntry & { record: AuditRecord }> = []
    let unreadable = 0
    for (const e of entries) {
      if (e.record === undefined) unreadable++
      else if (matchesAuditFilter(e.record, filter)) matched.push(e as AuditEntry & { record: AuditRecord })
    }
    return { matched, total: entries.length, unreadable }
  }

  /** 110101 Audit Log Used, after the read and after `asOf` (so a next page keeps its records). */
  const recordUse = (c: Context, asOf: number): void => {
    port.audit.emit(auditLogUsedEvent({
      time: Math.max(now(), asOf + 1),
      source: nodeSource(port.audit.nodeId),
      user: port.actorOf(c),
      log: `urn:peerpacs:org:${port.orgId}:audit`
    }))
  }

  app.get('/', async (c) => {
    const params = paramsOf(c, [...FILTER_FIELDS, 'limit', 'offset', 'asOf'])
    const limit = wholeNumber(params, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT)
    const offset = wholeNumber(params, 'offset', 0, 0, 1_000_000_000)
    const { filter, asOf } = filterOf(params, now())
    const { matched, total, unreadable } = await matching(filter)
    matched.reverse() // newest first
    recordUse(c, asOf)
    return c.json({
      records: matched.slice(offset, offset + limit).map(recordView),
      matched: matched.length,
      offset,
      limit,
      asOf: new Date(asOf).toISOString(),
      trail: total,
      unreadable
    })
  })

  app.get('/export', async (c) => {
    const params = paramsOf(c, [...FILTER_FIELDS, 'format', 'asOf'])
    const format = params.get('format') ?? 'jsonl'
    if (format !== 'jsonl' && format !== 'dicom-xml') throw bad(`"format" must be jsonl or dicom-xml, got "${format.slice(0, 40)}"`)
    const { filter, asOf } = filterOf(params, now())
    const { matched } = await matching(filter)
    recordUse(c, asOf)
    const stamp = new Date(asOf).toISOString().replace(/[:.]/g, '-')
    if (format === 'jsonl') {
      const body = matched.map((e) => toJsonLine(e.record, { opId: e.opId, author: e.author, seq: e.seq }) + '\n').join('')
      return c.body(body, 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Content-Disposition': `attachment; filename="audit-${stamp}.jsonl"` })
    }
    const body = ['<?xml version="1.0" encoding="UTF-8"?>', '<AuditMessages>', ...matched.map((e) => toDicomAuditXml(e.record)), '</AuditMessages>'].join('\n') + '\n'
    return c.body(body, 200, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Disposition': `attachment; filename="audit-${stamp}.xml"` })
  })
  return app
}
