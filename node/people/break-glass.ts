/**
 * Emergency access, "break glass" (45 CFR 164.312(a)(2)(ii)): a clinician whose role reads only
 * some studies (a technologist: their own site's) opens one study outside them by giving a
 * reason. It works at once, for BREAK_GLASS_MS, for that session only; it is audited as a
 * 110113 Security Alert with 110127 "Emergency Override Started" naming the person, the study and
 * the reason, and every read during it is audited as usual. Admins see active openings in
 * `peerpacs status` and find them in the audit trail.
 */
import { EVENT_TYPE } from '../../protocol/audit/index.ts'
import { isValidUid } from '../dicom/uid.ts'
import { RequestError } from '../dicomweb/http-errors.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { personUser } from '../audit/actors.ts'
import type { Caller } from './gate.ts'
import type { People } from './people.ts'

export const BREAK_GLASS_MS = 60 * 60_000
const MIN_REASON = 10

export async function breakGlass (people: People, pacs: Pacs, me: Extract<Caller, { kind: 'person' }>, studyUid: string, reason: string, address: string): Promise<Record<string, unknown>> {
  if (!isValidUid(studyUid)) throw new RequestError('BAD_REQUEST', '"study" must be a StudyInstanceUID (digits and dots)')
  const trimmed = reason.trim()
  if ([...trimmed].length < MIN_REASON) throw new RequestError('BAD_REQUEST', `"reason" must say why, in at least ${MIN_REASON} characters; it goes into the audit trail`)
  const entry = pacs.study(studyUid)
  if (entry === undefined) throw new RequestError('NOT_FOUND', 'no such study at this site')
  const until = people.now() + BREAK_GLASS_MS
  await people.sessions.update(me.session.idHash, (s) => ({
    ...s,
    breakGlass: [...(s.breakGlass ?? []).filter((b) => b.until > people.now() && b.study !== entry.storedIn), { study: entry.storedIn, reason: trimmed, until }]
  }))
  people.alert([EVENT_TYPE.emergencyOverrideStarted], personUser({ id: me.account.id, ...me.account.record }, address), me.account.id,
    `emergency access to study ${entry.storedIn} until ${new Date(until).toISOString()}: ${trimmed}`)
  return { study: studyUid, until: new Date(until).toISOString(), reason: trimmed }
}

/** Emergency openings still running in this site's sessions, for `peerpacs status`. */
export async function activeBreakGlass (people: People): Promise<Array<{ user: string, username: string, study: string, reason: string, until: string }>> {
  const out: Array<{ user: string, username: string, study: string, reason: string, until: string }> = []
  const now = people.now()
  for (const account of people.directory.list()) {
    for (const s of await people.sessions.listOf(account.id)) {
      for (const b of s.breakGlass ?? []) {
        if (b.until > now) out.push({ user: account.id, username: account.record.username, study: b.study, reason: b.reason, until: new Date(b.until).toISOString() })
      }
    }
  }
  return out
}
