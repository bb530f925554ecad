/**
 * A study's case notes and measurements over HTTP (docs/access-control.md):
 *
 *   GET  /api/studies/:study/case   {study, canWrite, entries: CaseEntry[]} (case-entry.ts); a
 *                                   study-read role and the study visible to the caller, else 404
 *                                   exactly as DICOMweb answers for a study that is not here
 *   POST /api/studies/:study/case   {kind: "note", text} | {kind: "measurement", measurement}
 *                                   → 201 the entry; {delete: "<entry id>"} → 200 {deleted};
 *                                   needs study.annotate (route-policy.ts) and a visible study
 *
 * :study is the StudyInstanceUID. Audit: a read is 110103 Instances Accessed with action R; a
 * write is 110103 with action U (the study's case, part of the study's record, is updated; no
 * instance moves between systems, so neither 110104 nor 110106 fits).
 */
import { Hono, type Context } from 'hono'
import { instancesAccessedEvent, nodeSource } from '../../protocol/audit/index.ts'
import { personUser, studyRefs, tokenUser } from '../audit/actors.ts'
import { RequestError } from '../dicomweb/http-errors.ts'
import { visibleOf } from '../dicomweb/study-visibility.ts'
import { silentLogger, type Logger } from '../logging/logger.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { callerOf, remoteAddressOf } from '../people/gate.ts'
import { jsonBody, textOf } from '../people/json-body.ts'
import { can } from '../people/roles.ts'
import { parseNewEntry } from './case-entry.ts'
import { CaseNotes, type Writer } from './case-notes.ts'

const UID = /^[0-9]+(\.[0-9]+)*$/

export function caseRoutes (pacs: Pacs, logger: Logger = silentLogger): Hono {
  const app = new Hono()
  let notes: Promise<CaseNotes> | undefined
  const service = async (): Promise<CaseNotes> => {
    notes ??= pacs.archive.log().then((log) => new CaseNotes({ provider: pacs.archive.provider, random: pacs.archive.random, keyring: pacs.archive.keyring, log, logger }))
    return await notes
  }

  /** The study named by :study, when it is here and the caller may see it; 404 otherwise. */
  const studyOf = (c: Context): { uid: string, id: ReturnType<Pacs['study']> & object } => {
    const uid = c.req.param('study') ?? ''
    if (uid.length > 64 || !UID.test(uid)) throw new RequestError('BAD_REQUEST', `the study must be a StudyInstanceUID (digits and dots, at most 64), got "${uid.slice(0, 70)}"`)
    const entry = pacs.study(uid)
    const visible = visibleOf(c)
    if (entry === undefined || (visible !== undefined && !visible(entry.storedIn))) throw new RequestError('NOT_FOUND', 'no such study')
    return { uid, id: entry }
  }

  const audit = async (c: Context, uid: string, action: 'R' | 'U'): Promise<void> => {
    const caller = callerOf(c)
    const address = remoteAddressOf(c)
    const user = caller.kind === 'person'
      ? personUser({ id: caller.account.id, ...caller.account.record }, address)
      : caller.kind === 'token' ? tokenUser(caller.token, address) : undefined
    if (user === undefined) return
    const audited = pacs.archive.audit
    audited.emit(instancesAccessedEvent({ time: Date.now(), source: nodeSource(audited.nodeId), action, user, studies: studyRefs(await pacs.instancesOf(uid)) }))
  }

  const writerOf = (c: Context): Writer => {
    const caller = callerOf(c)
    if (caller.kind === 'person') return { id: caller.account.id, displayName: caller.account.record.displayName }
    if (caller.kind === 'token' && caller.account !== undefined) return { id: caller.account.id, displayName: caller.account.record.displayName }
    throw new RequestError('FORBIDDEN', 'writing a case note needs a person (a signed-in session or a personal API token)')
  }

  app.get('/:study/case', async (c) => {
    const { uid, id } = studyOf(c)
    const entries = (await service()).entries(id.storedIn)
    const caller = callerOf(c)
    const role = caller.kind === 'person' ? caller.account.record.role : caller.kind === 'token' ? caller.role : undefined
    await audit(c, uid, 'R')
    return c.json({ study: uid, canWrite: role !== undefined && can(role, 'study.annotate'), entries })
  })

  app.post('/:study/case', async (c) => {
    const { uid, id } = studyOf(c)
    const writer = writerOf(c)
    const body = await jsonBody(c)
    const cases = await service()
    if (body.delete !== undefined) {
      const entry = textOf(body, 'delete', 64)
      await cases.remove(id.storedIn, writer, entry)
      await audit(c, uid, 'U')
      return c.json({ deleted: entry })
    }
    const entry = await cases.add(id.storedIn, writer, parseNewEntry(body))
    await audit(c, uid, 'U')
    return c.json(entry, 201)
  })

  return app
}
