/**
 * WADO-URI (PS3.18 §9): one instance by its three UIDs in the query string, as the stored Part 10
 * file (contentType=application/dicom) or rendered as image/jpeg or image/png by the same renderer
 * as WADO-RS. Without a contentType it answers image/jpeg, the standard's default (PS3.18 §9.1.2.1,
 * Table 8.7.4-1); a contentType it cannot produce is a 406.
 */
import { maySee } from './study-visibility.ts'
import type { Context } from 'hono'
import type { Logger } from '../logging/logger.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { badRequest, notAcceptable, notFound } from './http-errors.ts'
import { uidParam } from './http-util.ts'
import { auditRead } from './audit.ts'
import { openInstance } from './instance-data.ts'
import { renderFrame } from './render.ts'
import { resolve, streamed } from './wado.ts'

export async function wadoUri (c: Context, pacs: Pacs, log: Logger): Promise<Response> {
  const requestType = c.req.query('requestType')
  if (requestType !== 'WADO') throw badRequest('requestType=WADO is required')
  const study = uidParam(c.req.query('studyUID'), 'studyUID')
  const series = uidParam(c.req.query('seriesUID'), 'seriesUID')
  const instance = uidParam(c.req.query('objectUID'), 'objectUID')
  auditRead(c, { study, series, instance })
  if (!maySee(c, pacs, study)) throw notFound('no such instance')
  const contentTypes = (c.req.query('contentType') ?? 'image/jpeg').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase())
  const [found] = await resolve(pacs, { study, series, instance })
  const wanted = c.req.query('transferSyntax')
  if (wanted !== undefined) uidParam(wanted, 'transferSyntax')

  if (contentTypes.includes('application/dicom')) {
    if (wanted !== undefined && wanted !== found!.transferSyntaxUid) {
      throw notAcceptable(`the instance is stored as ${found!.transferSyntaxUid} and peerpacs does not transcode; leave transferSyntax out or ask for that one`)
    }
    async function * body (): AsyncGenerator<Uint8Array> { yield * pacs.read(found!) }
    log.info('wado-uri.retrieve', { contentType: 'application/dicom' })
    return new Response(streamed(body(), log, 'wado-uri'), { status: 200, headers: { 'Content-Type': 'application/dicom' } })
  }
  const image = contentTypes.find((t) => t === 'image/jpeg' || t === 'image/png' || t === 'image/*' || t === '*/*')
  if (image !== undefined) {
    const frameText = c.req.query('frameNumber') ?? '1'
    if (!/^\d{1,6}$/.test(frameText) || Number(frameText) < 1) throw badRequest('frameNumber must be a frame number starting at 1')
    const center = c.req.query('windowCenter')
    const width = c.req.query('windowWidth')
    if ((center === undefined) !== (width === undefined)) throw badRequest('windowCenter and windowWidth go together')
    const rows = c.req.query('rows')
    const columns = c.req.query('columns')
    const opened = await openInstance(pacs, found!)
    const quality = c.req.query('imageQuality')
    const type = image === 'image/png' ? 'image/png' : 'image/jpeg'
    const bytes = await renderFrame(opened, Number(frameText), type, {
      ...(center !== undefined ? { window: `${center},${width}` } : {}),
      ...(rows !== undefined || columns !== undefined ? { viewport: `${columns ?? rows},${rows ?? columns}` } : {}),
      ...(quality !== undefined ? { quality } : {})
    })
    return new Response(bytes, { status: 200, headers: { 'Content-Type': type } })
  }
  throw notAcceptable('peerpacs answers WADO-URI with contentType=application/dicom, image/jpeg or image/png')
}
