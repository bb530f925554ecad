/**
 * The study's case notes panel: its notes and measurements (GET /api/studies/:study/case), each
 * with who wrote it and when, and — for a role that may annotate — a free-text note box. Saving
 * a note or a measurement POSTs it; the node writes it into the study's case document (a signed,
 * encrypted op that every site holding the study receives). A role that may not write sees the
 * list only, without a save button.
 */
import { api, messageOf } from './api.ts'
import { h, replace } from './dom.ts'
import { describeMeasurement, type Measurement } from './measure.ts'

export interface CaseEntry {
  readonly id: string
  readonly kind: 'note' | 'measurement'
  readonly site: string
  readonly account: string | null
  readonly name: string | null
  readonly time: number
  readonly text?: string
  readonly measurement?: Measurement
}

interface CaseAnswer { readonly study: string, readonly canWrite: boolean, readonly entries: CaseEntry[] }

const when = (time: number): string => new Date(time).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export class NotesPanel {
  readonly element: HTMLElement
  readonly #path: string
  readonly #list: HTMLOListElement
  readonly #form: HTMLFormElement
  readonly #status: HTMLParagraphElement
  readonly #onEntries: (entries: CaseEntry[]) => void
  #entries: CaseEntry[] = []
  canWrite = false

  constructor (study: string, onEntries: (entries: CaseEntry[]) => void) {
    this.#path = `/api/studies/${encodeURIComponent(study)}/case`
    this.#onEntries = onEntries
    this.#list = h('ol.case-entries', { 'aria-label': 'Notes and measurements' })
    this.#status = h('p.case-status', { role: 'status', hidden: true })
    const box = h('textarea', { name: 'note', rows: 3, maxlength: 8000, placeholder: 'Write a note about this study', 'aria-label': 'Note' })
    this.#form = h('form.note-form', { hidden: true }, box, h('button.save-note', { type: 'submit' }, 'Save note'))
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault()
      const text = box.value
      if (text.trim() === '') return
      this.#post({ kind: 'note', text }).then(() => { box.value = '' }).catch(() => undefined)
    })
    this.element = h('section.case-notes', { 'aria-label': 'Case notes' }, h('h2', {}, 'Notes and measurements'), this.#list, this.#form, this.#status)
  }

  get entries (): readonly CaseEntry[] { return this.#entries }

  async load (): Promise<void> {
    try {
      const answer = await api<CaseAnswer>('GET', this.#path)
      this.canWrite = answer.canWrite
      this.#form.hidden = !answer.canWrite
      this.element.dataset.canWrite = String(answer.canWrite)
      this.#show(answer.entries)
    } catch (error) {
      this.#say(`The notes could not be loaded: ${messageOf(error)}`)
      throw error
    }
  }

  /** Saves a measurement; rejects (after saying why) when the node refuses it. */
  async saveMeasurement (measurement: Measurement): Promise<CaseEntry> {
    return await this.#post({ kind: 'measurement', measurement })
  }

  async #post (body: unknown): Promise<CaseEntry> {
    try {
      const entry = await api<CaseEntry>('POST', this.#path, body)
      this.#say('')
      this.#show([...this.#entries, entry])
      return entry
    } catch (error) {
      this.#say(`Not saved: ${messageOf(error)}`)
      throw error
    }
  }

  #say (message: string): void {
    this.#status.textContent = message
    this.#status.hidden = message === ''
    this.#status.classList.toggle('alert', message !== '')
  }

  #show (entries: CaseEntry[]): void {
    this.#entries = entries
    this.element.dataset.count = String(entries.length)
    replace(this.#list, ...entries.map((e) => h('li', { 'data-entry': e.id, 'data-kind': e.kind },
      h('div.entry-text', {}, e.kind === 'measurement' && e.measurement !== undefined ? describeMeasurement(e.measurement) : e.text ?? ''),
      h('div.entry-meta', {}, `${e.name ?? `site ${e.site.slice(0, 8)}`} · `, h('time', { datetime: new Date(e.time).toISOString() }, when(e.time))))))
    if (entries.length === 0) this.#list.append(h('li.empty', {}, 'No notes yet.'))
    this.#onEntries(entries)
  }
}
