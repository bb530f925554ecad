/**
 * The audit records of the DICOMweb edge: who (the bearer token) stored, searched and read
 * which studies. Each route declares what it does with the same decoded, checked parameters its
 * handler uses (never a pattern over the raw path, which a percent-encoded UID slips past), and
 * a middleware writes the record after the request from that declaration:
 *   STOW-RS                    110104 Instances Transferred (C), the stored instances (auditStored)
 *   QIDO-RS                    110112 Query, with the query string (auditQuery)
 *   WADO-RS / WADO-URI         110103 Instances Accessed (R), the study (series, instance) read (auditRead)
 * A request that declared nothing (an unknown resource) reads no PHI and writes no record.
 * A viewer fetches a study frame by frame: reads are written once per user, study and minute,
 * not once per request, so the trail says who looked at what without flooding the log.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { instancesAccessedEvent, instancesTransferredEvent, nodeSource, queryEvent, STUDY_ROOT_FIND, type Actor } from '../../protocol/audit/index.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import { networkUser, personUser, studyRefs, thisNode, tokenUser } from '../audit/actors.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { CatalogInstance } from '../query/attributes.ts'

const READ_WINDOW_MS = 60_000
const STORED = 'peerpacs.audit.stored'
const DECLARED = 'peerpacs.audit.declared'

/** What a retrieve route reads: the decoded, checked UIDs its handler is given. */
export interface ReadTarget { readonly study: string, readonly series?: string, readonly instance?: string }

type Declared = { kind: 'read', target: ReadTarget } | { kind: 'query' }

/** Called by STOW for each stored instance, so the request's audit record names it. */
export function auditStored (c: Context, sopInstanceUid: string): void {
  const list = (c.get(STORED as never) as string[] | undefined) ?? []
  list.push(sopInstanceUid)
  c.set(STORED as never, list as never)
}

/**
 * Declares that this request reads `target` and returns it unchanged, so a route passes the very
 * same object to its handler: `retrieve(c, pacs, auditRead(c, { study: study(c) }))`.
 */
export function auditRead<T extends ReadTarget> (c: Context, target: T): T {
  c.set(DECLARED as never, { kind: 'read', target: { study: target.study, series: target.series, instance: target.instance } } as never)
  return target
}

/** Declares that this request is a search (QIDO-RS). */
export function auditQuery (c: Context): void {
  c.set(DECLARED as never, { kind: 'query' } as never)
}

function callerOf (c: Context): Actor {
  const caller = c.get('caller' as never) as { kind: string, token?: { id: string, name: string }, account?: { id: string, record: { username: string, displayName: string } } } | undefined
  const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress
  if (caller?.kind === 'person' && caller.account !== undefined) return personUser({ id: caller.account.id, ...caller.account.record }, remote)
  if (caller?.token !== undefined) return tokenUser(caller.token, remote)
  return networkUser(caller?.kind === 'control' ? 'control-token' : 'unknown', remote)
}

export function dicomwebAudit (pacs: Pacs, base: '/dicomweb' | '/wado'): MiddlewareHandler {
  const recent = new Map<string, number>()
  return async (c, next) => {
    await next()
    const audit = pacs.archive.audit
    const status = c.res.status
    const user = callerOf(c)
    const common = { time: Date.now(), source: nodeSource(audit.nodeId) }
    if (c.req.method === 'POST') {
      const stored = (c.get(STORED as never) as string[] | undefined) ?? []
      const instances = (await Promise.all(stored.map(async (sop) => await pacs.findInstance(sop)))).filter((i): i is CatalogInstance => i !== undefined)
      if (instances.length === 0 && status < 400) return
      audit.emit(instancesTransferredEvent({
        ...common,
        ...(status < 300 ? {} : { outcome: instances.length === 0 ? 8 : 4 }),
        action: 'C', from: user, to: thisNode(audit.nodeId), requestedBy: 'from', studies: studyRefs(instances)
      }))
      return
    }
    if (c.req.method !== 'GET' || status === 401) return
    const declared = c.get(DECLARED as never) as Declared | undefined
    if (declared === undefined) return
    if (declared.kind === 'query') {
      const url = new URL(c.req.url)
      const path = url.pathname.slice(base.length) || '/'
      audit.emit(queryEvent({
        ...common, ...(status < 400 ? {} : { outcome: 4 }), from: user, to: thisNode(audit.nodeId), sopClassUid: STUDY_ROOT_FIND,
        query: utf8Encode(`${path}${url.search}`.slice(0, 60_000))
      }))
      return
    }
    if (status >= 400) return
    const { study, series, instance } = declared.target
    const key = `${user.userId}\u0000${study}`
    const now = Date.now()
    if ((recent.get(key) ?? 0) > now - READ_WINDOW_MS) return
    const instances = instance !== undefined
      ? [await pacs.findInstance(instance)].filter((i): i is CatalogInstance => i !== undefined && i.studyInstanceUid === study)
      : await pacs.instancesOf(study, series)
    if (instances.length === 0) return
    recent.set(key, now)
    if (recent.size > 10_000) for (const [k, t] of recent) if (t <= now - READ_WINDOW_MS) recent.delete(k)
    audit.emit(instancesAccessedEvent({ ...common, action: 'R', user, studies: studyRefs(instances) }))
  }
}
