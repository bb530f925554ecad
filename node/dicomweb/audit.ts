/**
 * The audit records of the DICOMweb edge: who (the bearer token) stored, searched and read
 * which studies. A middleware writes them after each request, from what the request touched:
 *   STOW-RS                    110104 Instances Transferred (C), the stored instances
 *   QIDO-RS                    110112 Query, with the query string
 *   WADO-RS / WADO-URI         110103 Instances Accessed (R), the study (series, instance) read
 * A viewer fetches a study frame by frame: reads are written once per user, study and minute,
 * not once per request, so the trail says who looked at what without flooding the log.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { instancesAccessedEvent, instancesTransferredEvent, nodeSource, queryEvent, STUDY_ROOT_FIND, type Actor } from '../../protocol/audit/index.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import { networkUser, studyRefs, thisNode, tokenUser } from '../audit/actors.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { CatalogInstance } from '../query/attributes.ts'

const READ_WINDOW_MS = 60_000
const STORED = 'peerpacs.audit.stored'

/** Called by STOW for each stored instance, so the request's audit record names it. */
export function auditStored (c: Context, sopInstanceUid: string): void {
  const list = (c.get(STORED as never) as string[] | undefined) ?? []
  list.push(sopInstanceUid)
  c.set(STORED as never, list as never)
}

function callerOf (c: Context): Actor {
  const caller = c.get('caller' as never) as { kind: string, token?: { id: string, name: string } } | undefined
  const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress
  if (caller?.token !== undefined) return tokenUser(caller.token, remote)
  return networkUser(caller?.kind === 'control' ? 'control-token' : 'unknown', remote)
}

const UID = '[0-9.]{1,64}'
const READ = new RegExp(`^/studies/(${UID})(?:/series/(${UID})(?:/instances/(${UID}))?)?(?:/(?:metadata|rendered|thumbnail|frames/.*|bulkdata/.*))?$`)

export function dicomwebAudit (pacs: Pacs, base: '/dicomweb' | '/wado'): MiddlewareHandler {
  const recent = new Map<string, number>()
  return async (c, next) => {
    await next()
    const archive = pacs.archive
    const status = c.res.status
    const path = new URL(c.req.url).pathname.slice(base.length) || '/'
    const user = callerOf(c)
    const common = { time: Date.now(), source: nodeSource(archive.keyring.nodeId) }
    if (c.req.method === 'POST') {
      const stored = (c.get(STORED as never) as string[] | undefined) ?? []
      const instances = stored.map((sop) => pacs.instance(sop)).filter((i): i is CatalogInstance => i !== undefined)
      if (instances.length === 0 && status < 400) return
      archive.auditor.emit(instancesTransferredEvent({
        ...common,
        ...(status < 300 ? {} : { outcome: instances.length === 0 ? 8 : 4 }),
        action: 'C', from: user, to: thisNode(archive.keyring.nodeId), requestedBy: 'from', studies: studyRefs(instances)
      }))
      return
    }
    if (c.req.method !== 'GET' || status === 401) return
    const search = new URL(c.req.url).search
    let uids: { study?: string, series?: string, instance?: string } | undefined
    if (base === '/wado') {
      const q = new URL(c.req.url).searchParams
      uids = { study: q.get('studyUID') ?? undefined, series: q.get('seriesUID') ?? undefined, instance: q.get('objectUID') ?? undefined }
    } else {
      const m = READ.exec(path)
      if (m !== null) uids = { study: m[1], series: m[2], instance: m[3] }
    }
    if (uids === undefined || uids.study === undefined) {
      archive.auditor.emit(queryEvent({
        ...common, ...(status < 400 ? {} : { outcome: 4 }), from: user, to: thisNode(archive.keyring.nodeId), sopClassUid: STUDY_ROOT_FIND,
        query: utf8Encode(`${path}${search}`.slice(0, 60_000))
      }))
      return
    }
    if (status >= 400) return
    const key = `${user.userId}\u0000${uids.study}`
    const now = Date.now()
    if ((recent.get(key) ?? 0) > now - READ_WINDOW_MS) return
    recent.set(key, now)
    if (recent.size > 10_000) for (const [k, t] of recent) if (t <= now - READ_WINDOW_MS) recent.delete(k)
    const instances = pacs.instancesOf(uids.study, uids.series).filter((i) => uids.instance === undefined || i.sopInstanceUid === uids.instance)
    if (instances.length === 0) return
    archive.auditor.emit(instancesAccessedEvent({ ...common, action: 'R', user, studies: studyRefs(instances) }))
  }
}
