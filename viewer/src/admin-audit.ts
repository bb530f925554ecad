/**
 * The Audit page (admin, auditor: `audit.read`): a search of the audit trail (dates, patient,
 * study, user, event) over GET /api/audit, newest first, in pages that stay on the same records
 * (`asOf`); emergency access (break-glass) rows stand out; the openings still running at this
 * site (GET /api/status `people.breakGlass`) above; the same search exported as JSON lines or
 * DICOM audit XML. Each search is itself recorded in the trail (110101 Audit Log Used).
 */
import { api, messageOf } from './api.ts'
import { when } from './admin-forms.ts'
import { h, replace } from './dom.ts'

export const AUDIT_PAGE_SIZE = 50

const EVENTS: ReadonlyArray<[string, string]> = [
  ['', 'any event'], ['110114', '110114 User Authentication'], ['110113', '110113 Security Alert'],
  ['110103', '110103 Instances Accessed'], ['110104', '110104 Instances Transferred'], ['110106', '110106 Export'],
  ['110107', '110107 Import'], ['110112', '110112 Query'], ['110101', '110101 Audit Log Used'], ['110100', '110100 Application Activity']
]

interface AuditRow {
  readonly opId: string
  readonly time: string
  readonly eventId: number
  readonly event: string
  readonly eventTypes: ReadonlyArray<{ code: number, name: string }>
  readonly action: string
  readonly outcome: number
  readonly outcomeName: string
  readonly outcomeDescription?: string
  readonly participants: ReadonlyArray<{ userId: string, userName?: string, requestor: boolean, address?: string }>
  readonly objects: ReadonlyArray<{ role: string, idType: string, id: string, name?: string, description?: string, patient?: true, study?: true }>
  readonly breakGlass: boolean
}

interface AuditAnswer { readonly records: AuditRow[], readonly matched: number, readonly offset: number, readonly limit: number, readonly asOf: string, readonly trail: number, readonly unreadable: number }

interface Opening { readonly username: string, readonly study: string, readonly reason: string, readonly until: string }

type Criteria = Record<'since' | 'until' | 'patient' | 'study' | 'user' | 'event', string>

export function auditQuery (c: Criteria, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...c, ...extra })) if (v.trim() !== '') q.set(k, v.trim())
  return q.toString()
}

function short (text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function rowOf (r: AuditRow): HTMLTableRowElement {
  const users = r.participants.filter((p) => p.requestor)
  const who = users.length > 0 ? users : r.participants.slice(0, 1)
  const patients = r.objects.filter((o) => o.patient === true).map((o) => o.id)
  const studies = r.objects.filter((o) => o.study === true).map((o) => o.id)
  const other = r.objects.filter((o) => o.patient !== true && o.study !== true).map((o) => o.description ?? o.name ?? o.id)
  const types = r.eventTypes.map((t) => t.name).join(', ')
  return h('tr', { 'data-op': r.opId, 'data-event': r.eventId, class: [r.breakGlass ? 'break-glass' : '', r.outcome !== 0 ? 'failed' : ''].join(' ').trim() || undefined },
    h('td', {}, when(r.time)),
    h('td', {}, r.breakGlass ? h('span.badge', {}, 'Break-glass') : null, `${r.eventId} ${r.event}`, types === '' ? '' : h('div.sub', {}, types)),
    h('td', {}, r.outcomeName, r.outcomeDescription === undefined ? '' : h('div.sub', {}, short(r.outcomeDescription, 120))),
    h('td', {}, who.map((p) => p.userId).join(', ')),
    h('td', {}, who.map((p) => p.address ?? '').filter((a) => a !== '').join(', ')),
    h('td', {}, short(patients.join(', '))),
    h('td.uid', {}, short(studies.join(', '))),
    h('td', {}, short(other.join('; '), 120)))
}

export function auditPage (main: HTMLElement): () => void {
  const field = (name: keyof Criteria, label: string, type = 'search'): HTMLInputElement => h('input', { name, type, 'aria-label': label, spellcheck: 'false' })
  const since = field('since', 'From date', 'date')
  const until = field('until', 'To date', 'date')
  const patient = field('patient', 'Patient ID')
  const study = field('study', 'Study Instance UID')
  const user = field('user', 'Username')
  const event = h('select', { name: 'event', 'aria-label': 'Event' }, ...EVENTS.map(([v, l]) => h('option', { value: v }, l)))
  const box = h('p.alert', { role: 'alert', hidden: true })
  const form = h('form.search', { role: 'search', 'data-form': 'audit-search' },
    h('label', {}, 'From', since), h('label', {}, 'To', until), h('label', {}, 'Patient ID', patient), h('label', {}, 'Study UID', study),
    h('label', {}, 'User', user), h('label', {}, 'Event', event),
    h('button', { type: 'submit' }, 'Search'), h('button', { type: 'reset' }, 'Clear'))
  const exportJsonl = h('a.button', { href: '/api/audit/export?format=jsonl', download: '', 'data-action': 'export-jsonl' }, 'Export JSON lines')
  const exportXml = h('a.button', { href: '/api/audit/export?format=dicom-xml', download: '', 'data-action': 'export-xml' }, 'Export DICOM XML')
  const openings = h('section.panel.openings', { 'aria-label': 'Emergency access now' })
  const body = h('tbody')
  const status = h('p.status', { role: 'status' }, 'Searching…')
  const prev = h('button', { type: 'button', disabled: true }, '← Newer')
  const next = h('button', { type: 'button', disabled: true }, 'Older →')
  const range = h('span.range')
  replace(main, h('h1', {}, 'Audit trail'), openings, form, box, h('div.exports', {}, exportJsonl, exportXml), status,
    h('table.grid.audit', { 'aria-label': 'Audit records' },
      h('thead', {}, h('tr', {}, ...['Time (UTC)', 'Event', 'Outcome', 'User', 'Address', 'Patient', 'Study', 'Details'].map((c) => h('th', { scope: 'col' }, c)))), body),
    h('div.pager', {}, prev, range, next))

  let left = false
  let criteria: Criteria = { since: '', until: '', patient: '', study: '', user: '', event: '' }
  let asOf: string | undefined
  let offset = 0

  const search = async (): Promise<void> => {
    box.hidden = true
    status.hidden = false
    status.textContent = 'Searching…'
    try {
      const answer = await api<AuditAnswer>('GET', `/api/audit?${auditQuery(criteria, { limit: String(AUDIT_PAGE_SIZE), offset: String(offset), ...(asOf === undefined ? {} : { asOf }) })}`)
      if (left) return
      asOf = answer.asOf
      body.replaceChildren(...answer.records.map(rowOf))
      status.textContent = answer.records.length === 0 ? 'No audit record matches.' : `${answer.matched} records match (of ${answer.trail} in the trail${answer.unreadable > 0 ? `, ${answer.unreadable} unreadable here` : ''}), up to ${when(answer.asOf)}.`
      range.textContent = answer.records.length === 0 ? '' : `${offset + 1}–${offset + answer.records.length} of ${answer.matched}`
      prev.disabled = offset === 0
      next.disabled = offset + answer.records.length >= answer.matched
      const q = auditQuery(criteria)
      exportJsonl.setAttribute('href', `/api/audit/export?format=jsonl${q === '' ? '' : `&${q}`}`)
      exportXml.setAttribute('href', `/api/audit/export?format=dicom-xml${q === '' ? '' : `&${q}`}`)
    } catch (error) {
      status.hidden = true
      box.textContent = messageOf(error)
      box.hidden = false
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    criteria = { since: since.value, until: until.value, patient: patient.value, study: study.value, user: user.value, event: event.value }
    asOf = undefined
    offset = 0
    void search()
  })
  form.addEventListener('reset', () => { criteria = { since: '', until: '', patient: '', study: '', user: '', event: '' }; asOf = undefined; offset = 0; void search() })
  prev.addEventListener('click', () => { offset = Math.max(0, offset - AUDIT_PAGE_SIZE); void search() })
  next.addEventListener('click', () => { offset += AUDIT_PAGE_SIZE; void search() })

  api<{ people?: { breakGlass?: Opening[] } }>('GET', '/api/status').then((s) => {
    const list = s.people?.breakGlass ?? []
    replace(openings, h('h2', {}, 'Emergency access (break-glass) running now'),
      list.length === 0
        ? h('p.muted', {}, 'None at this site.')
        : h('ul', {}, ...list.map((o) => h('li.break-glass', { 'data-opening': o.username }, `${o.username} — study ${o.study} until ${when(o.until)}: ${o.reason}`))))
  }).catch((error: unknown) => { replace(openings, h('p.alert', {}, `Emergency access could not be read: ${messageOf(error)}`)) })
  void search()
  return () => { left = true }
}
