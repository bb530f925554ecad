/**
 * The DICOMweb edge of a running node as hono sub-apps: /dicomweb (STOW-RS, QIDO-RS, WADO-RS)
 * and /wado (WADO-URI). The node's HTTP server mounts them behind its token check and CORS.
 * Every UID in a path is decoded and checked (digits and dots) before anything is looked up; the
 * audit record of a request is declared by its route from those same decoded UIDs (audit.ts). Every
 * refusal is a JSON body {error, message}; unexpected errors are logged by code only, never with
 * a UID or a name.
 */
import { Hono, type Context } from 'hono'
import type { Logger } from '../logging/logger.ts'
import type { HttpSettings } from '../config/settings.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { badRequest, httpAnswerOf, notFound, problemResponse } from './http-errors.ts'
import { codeOf, uidParam } from './http-util.ts'
import { qido } from './qido.ts'
import { auditQuery, auditRead, dicomwebAudit } from './audit.ts'
import { stow } from './stow.ts'
import { wadoUri } from './wado-uri.ts'
import { bulkdata, frames, metadata, rendered, retrieve } from './wado.ts'
import { studyGuard } from './study-visibility.ts'

/**
 * Dot segments are resolved by the URL parser before routing ("/studies/../series" would become
 * "/series"); the path as sent, which @hono/node-server keeps in env.incoming, is refused instead.
 */
function refuseDotSegments (app: Hono): void {
  app.use('*', async (c, next) => {
    const raw = (c.env as { incoming?: { url?: unknown } } | undefined)?.incoming?.url
    const path = typeof raw === 'string' ? raw.split('?')[0]! : new URL(c.req.url).pathname
    if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(path) || /%2f|%5c|%00/i.test(path)) {
      return problemResponse(badRequest('the path holds "." or ".." segments or encoded slashes; DICOMweb paths are UIDs only'))
    }
    await next()
  })
}

function handleErrors (app: Hono, log: Logger): void {
  refuseDotSegments(app)
  app.notFound(() => problemResponse(notFound('no such DICOMweb resource')))
  app.onError((error, c) => {
    // Status, name and message come from the one table (http-errors.ts).
    const answer = httpAnswerOf(error)
    if (answer.says !== undefined) log.error('dicomweb.failed', { method: c.req.method, code: codeOf(error) })
    else if (answer.status >= 500) log.error('dicomweb.failed', { method: c.req.method, status: answer.status, error: answer.error })
    // A refused body is not read: closing the connection stops the client sending it.
    return problemResponse(error, answer.status === 413 ? { Connection: 'close' } : {})
  })
}

const study = (c: Context): string => uidParam(c.req.param('study'), 'the study UID in the path')
const series = (c: Context): string => uidParam(c.req.param('series'), 'the series UID in the path')
const instance = (c: Context): string => uidParam(c.req.param('instance'), 'the instance UID in the path')

export function dicomwebRoutes (pacs: Pacs, settings: HttpSettings, log: Logger): Hono {
  const app = new Hono()
  const l = log.child({ component: 'dicomweb' })
  handleErrors(app, l)
  app.use('*', dicomwebAudit(pacs, '/dicomweb'))
  // A study the caller's role may not see answers 404, as one that is not here.
  app.use('/studies/:study', studyGuard(pacs))
  app.use('/studies/:study/*', studyGuard(pacs))

  // STOW-RS
  app.post('/studies', (c) => stow(c, pacs, settings, l, undefined))
  app.post('/studies/:study', (c) => stow(c, pacs, settings, l, study(c)))

  // QIDO-RS: each declares a search for the audit trail.
  const search = (c: Context, query: Parameters<typeof qido>[2]): Promise<Response> | Response => { auditQuery(c); return qido(c, pacs, query) }
  app.get('/studies', (c) => search(c, { level: 'STUDY' }))
  app.get('/series', (c) => search(c, { level: 'SERIES' }))
  app.get('/instances', (c) => search(c, { level: 'IMAGE' }))
  app.get('/studies/:study/series', (c) => search(c, { level: 'SERIES', study: study(c) }))
  app.get('/studies/:study/instances', (c) => search(c, { level: 'IMAGE', study: study(c) }))
  app.get('/studies/:study/series/:series/instances', (c) => search(c, { level: 'IMAGE', study: study(c), series: series(c) }))

  // WADO-RS: each route declares the read it makes from the same decoded UIDs its handler gets.
  app.get('/studies/:study', (c) => retrieve(c, pacs, l, auditRead(c, { study: study(c) })))
  app.get('/studies/:study/metadata', (c) => metadata(c, pacs, l, auditRead(c, { study: study(c) })))
  app.get('/studies/:study/series/:series', (c) => retrieve(c, pacs, l, auditRead(c, { study: study(c), series: series(c) })))
  app.get('/studies/:study/series/:series/metadata', (c) => metadata(c, pacs, l, auditRead(c, { study: study(c), series: series(c) })))
  const one = (c: Context): { study: string, series: string, instance: string } => auditRead(c, { study: study(c), series: series(c), instance: instance(c) })
  const base = '/studies/:study/series/:series/instances/:instance'
  app.get(base, (c) => retrieve(c, pacs, l, one(c)))
  app.get(`${base}/metadata`, (c) => metadata(c, pacs, l, one(c)))
  app.get(`${base}/rendered`, (c) => rendered(c, pacs, one(c), undefined, false))
  app.get(`${base}/thumbnail`, (c) => rendered(c, pacs, one(c), undefined, true))
  app.get(`${base}/frames/:frames`, (c) => frames(c, pacs, l, one(c), c.req.param('frames')))
  app.get(`${base}/frames/:frames/rendered`, (c) => rendered(c, pacs, one(c), c.req.param('frames'), false))
  app.get(`${base}/frames/:frames/thumbnail`, (c) => rendered(c, pacs, one(c), c.req.param('frames'), true))
  app.get(`${base}/bulkdata/:path{.+}`, (c) => bulkdata(c, pacs, l, one(c), c.req.param('path')))
  // Mounted with route(), a sub-app's notFound is not used: this catches what nothing else did.
  app.all('*', () => problemResponse(notFound('no such DICOMweb resource')))
  return app
}

export function wadoUriRoutes (pacs: Pacs, log: Logger): Hono {
  const app = new Hono()
  const l = log.child({ component: 'wado-uri' })
  handleErrors(app, l)
  app.use('*', dicomwebAudit(pacs, '/wado'))
  app.get('/', (c) => wadoUri(c, pacs, l))
  return app
}
