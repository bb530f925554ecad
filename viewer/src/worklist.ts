/**
 * The worklist: studies from QIDO-RS (/dicomweb/studies) with patient, ID, date, modality,
 * description and series/instance counts; search by name, patient ID and a date range; paging
 * by limit/offset (one row more than a page is asked for, to know whether there is a next
 * page); keyboard: ↑/↓ move, Enter opens, / goes to the search.
 *
 * The search and page live in the address (worklist-query.ts), so Back returns to them.
 */
import { dicomJson, messageOf } from './api.ts'
import { allText, type DicomJson, isoDate, num, personName, TAG, text } from './dicom-json.ts'
import { h, replace } from './dom.ts'
import { hashOf, PAGE_SIZE, qidoOf, type WorklistQuery } from './worklist-query.ts'

export function worklistPage (main: HTMLElement, q: WorklistQuery, navigate: (hash: string) => void): () => void {
  const field = (name: keyof WorklistQuery, label: string, type = 'search'): HTMLInputElement =>
    h('input', { name, type, value: String(q[name]), 'aria-label': label, placeholder: type === 'search' ? label : undefined })
  const name = field('name', 'Patient name')
  const id = field('id', 'Patient ID')
  const from = field('from', 'From date', 'date')
  const to = field('to', 'To date', 'date')
  const form = h('form.search', { role: 'search' },
    h('label', {}, 'Name', name), h('label', {}, 'Patient ID', id), h('label', {}, 'From', from), h('label', {}, 'To', to),
    h('button', { type: 'submit' }, 'Search'),
    h('button', { type: 'reset' }, 'Clear'))
  form.addEventListener('submit', (e) => { e.preventDefault(); navigate(hashOf({ name: name.value, id: id.value, from: from.value, to: to.value, offset: 0 })) })
  form.addEventListener('reset', (e) => { e.preventDefault(); navigate('#/') })
  const body = h('tbody')
  const table = h('table.worklist', { 'aria-label': 'Studies' },
    h('thead', {}, h('tr', {}, ...['Patient', 'Patient ID', 'Date', 'Modality', 'Description', 'Accession', 'Series', 'Instances'].map((c) => h('th', { scope: 'col' }, c)))),
    body)
  const status = h('p.status', { role: 'status' }, 'Loading studies…')
  const prev = h('button', { type: 'button', disabled: true }, '← Previous')
  const next = h('button', { type: 'button', disabled: true }, 'Next →')
  const range = h('span.range')
  prev.addEventListener('click', () => { navigate(hashOf({ ...q, offset: Math.max(0, q.offset - PAGE_SIZE) })) })
  next.addEventListener('click', () => { navigate(hashOf({ ...q, offset: q.offset + PAGE_SIZE })) })
  replace(main, h('h1', {}, 'Studies'), form, status, table, h('div.pager', {}, prev, range, next))

  const rows: HTMLTableRowElement[] = []
  const open = (uid: string): void => { navigate(`#/study/${encodeURIComponent(uid)}`) }
  const onKey = (e: KeyboardEvent): void => {
    const target = e.target as HTMLElement | null
    const typing = target !== null && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')
    if (e.key === '/' && !typing) { e.preventDefault(); name.focus(); return }
    if (typing || rows.length === 0) return
    const at = rows.findIndex((r) => r === document.activeElement)
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      const to = at === -1 ? 0 : Math.max(0, Math.min(rows.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)))
      rows[to]!.focus()
    } else if (e.key === 'Enter' && at !== -1) {
      e.preventDefault()
      open(rows[at]!.dataset.study!)
    }
  }
  document.addEventListener('keydown', onKey)

  dicomJson<DicomJson[]>(qidoOf(q)).then(({ body: studies }) => {
    const page = studies.slice(0, PAGE_SIZE)
    for (const study of page) {
      const uid = text(study, TAG.StudyInstanceUID)
      const row = h('tr', { tabindex: 0, 'data-study': uid },
        h('td', {}, personName(study, TAG.PatientName)),
        h('td', {}, text(study, TAG.PatientID)),
        h('td', {}, isoDate(text(study, TAG.StudyDate))),
        h('td', {}, allText(study, TAG.ModalitiesInStudy).join(', ')),
        h('td', {}, text(study, TAG.StudyDescription)),
        h('td', {}, text(study, TAG.AccessionNumber)),
        h('td.n', {}, num(study, TAG.NumberOfStudyRelatedSeries) ?? ''),
        h('td.n', {}, num(study, TAG.NumberOfStudyRelatedInstances) ?? ''))
      row.addEventListener('click', () => { open(uid) })
      rows.push(row)
      body.append(row)
    }
    status.textContent = page.length === 0 ? (q.offset > 0 ? 'No more studies.' : 'No studies match.') : ''
    status.hidden = page.length > 0
    range.textContent = page.length === 0 ? '' : `${q.offset + 1}–${q.offset + page.length}`
    prev.disabled = q.offset === 0
    next.disabled = studies.length <= PAGE_SIZE
  }).catch((error: unknown) => {
    status.textContent = `The studies could not be listed: ${messageOf(error)}`
    status.classList.add('alert')
  })
  return () => { document.removeEventListener('keydown', onKey) }
}
