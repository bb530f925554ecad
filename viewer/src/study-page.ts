/**
 * A study: its series down the side (number, modality, description, image count, and a
 * thumbnail the node renders from the series' first image), the selected series in the stack
 * view, and the toolbar: CT presets, invert, reset. The first series with images opens first.
 */
import { dicomJson, messageOf } from './api.ts'
import { type DicomJson, isoDate, num, personName, TAG, text } from './dicom-json.ts'
import { h, replace } from './dom.ts'
import { CT_PRESETS } from './presets.ts'
import { StackView, STACK_IDS } from './stack-view.ts'
import { MEASURE_TOOLS, Measurer, type MeasureTool, type Measurement } from './measure.ts'
import { NotesPanel } from './notes.ts'
import { startCornerstone } from './cornerstone.ts'

/** Starts Cornerstone3D ahead of the first study (main.ts calls it once the chunk has arrived). */
export function prepare (): void { startCornerstone() }

const seriesPath = (study: string, series: string): string => `/dicomweb/studies/${encodeURIComponent(study)}/series/${encodeURIComponent(series)}`

export function studyPage (main: HTMLElement, study: string): () => void {
  const title = h('h1.study-title', {}, 'Study')
  const list = h('ol.series-list', { 'aria-label': 'Series' })
  const view = new StackView()
  const buttons = CT_PRESETS.map((preset) => {
    const b = h('button', { type: 'button', 'data-preset': preset.id, title: `${preset.label}: W ${preset.width} L ${preset.center} (key ${preset.key})` }, preset.label)
    b.addEventListener('click', () => { view.applyPreset(preset); view.element.focus() })
    return b
  })
  const invert = h('button', { type: 'button', 'data-action': 'invert', title: 'Invert (i)' }, 'Invert')
  const reset = h('button', { type: 'button', 'data-action': 'reset', title: 'Reset window, zoom and pan (r)' }, 'Reset')
  invert.addEventListener('click', () => { view.invert(); view.element.focus() })
  reset.addEventListener('click', () => { view.reset(); view.element.focus() })
  const toolbar = h('div.toolbar', { role: 'toolbar', 'aria-label': 'Image tools' }, h('a', { href: '#/' }, '← Worklist'), h('span.presets', {}, ...buttons), invert, reset)
  const status = h('p.status', { role: 'status', hidden: true })
  // Case notes and measurements (notes.ts, measure.ts): tools in the toolbar, the panel at the right.
  const panel = new NotesPanel(study, (entries) => { measurer.draw(savedMeasurements(entries)) })
  const toolButtons = [{ id: undefined, label: 'W/L' }, ...MEASURE_TOOLS].map((tool) => {
    const b = h('button', { type: 'button', 'data-tool': tool.id ?? 'window', 'aria-pressed': String(tool.id === undefined), title: tool.id === undefined ? 'Window/level with the left button' : `Draw a ${tool.label.toLowerCase()} with the left button` }, tool.label)
    b.addEventListener('click', () => {
      measurer.use(tool.id as MeasureTool | undefined)
      for (const other of toolButtons) other.setAttribute('aria-pressed', String(other === b))
      view.element.focus()
    })
    return b
  })
  toolbar.append(h('span.measure-tools', { role: 'group', 'aria-label': 'Measure' }, ...toolButtons))
  replace(main, h('div.study', {}, h('div.study-head', {}, title, toolbar), status, h('div.study-body', {}, h('aside', {}, list), view.element, h('aside.case-aside', {}, panel.element))))
  view.attach()
  const measurer = new Measurer(STACK_IDS, (measurement: Measurement, annotationUid: string) => {
    // A role that may not write keeps its drawing on screen, unsaved.
    if (!panel.canWrite) return
    panel.saveMeasurement(measurement).then((entry) => {
      measurer.remove(annotationUid)
      measurer.draw(savedMeasurements([entry]))
    }).catch(() => { measurer.remove(annotationUid) })
  })
  panel.load().catch(() => undefined)

  const onKey = (e: KeyboardEvent): void => {
    const target = e.target as HTMLElement | null
    if (target !== null && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') || e.ctrlKey || e.metaKey || e.altKey) return
    const preset = CT_PRESETS.find((p) => p.key === e.key)
    if (preset !== undefined) { view.applyPreset(preset); e.preventDefault() }
  }
  document.addEventListener('keydown', onKey)

  // Thumbnails wait for the first image: they would compete with it for the node's time.
  let firstShown!: () => void
  const shown = new Promise<void>((resolve) => { firstShown = resolve })
  const select = (item: HTMLElement, series: string): void => {
    for (const other of list.children) other.removeAttribute('aria-current')
    item.setAttribute('aria-current', 'true')
    view.show({ study, series }).then(() => { measurer.draw(savedMeasurements(panel.entries)) }).catch(() => undefined).finally(firstShown)
    view.element.focus()
  }

  dicomJson<DicomJson[]>(`/dicomweb/studies/${encodeURIComponent(study)}/series?includefield=${TAG.SeriesDescription}&includefield=${TAG.NumberOfSeriesRelatedInstances}`).then(async ({ body: series }) => {
    series.sort((a, b) => (num(a, TAG.SeriesNumber) ?? 0) - (num(b, TAG.SeriesNumber) ?? 0))
    let first: { item: HTMLElement, uid: string } | undefined
    for (const s of series) {
      const uid = text(s, TAG.SeriesInstanceUID)
      const thumb = h('img.thumb', { alt: '', width: 64, height: 64, loading: 'lazy' })
      const item = h('li', { tabindex: 0, 'data-series': uid },
        thumb,
        h('span.series-text', {}, h('strong', {}, `${text(s, TAG.SeriesNumber)} ${text(s, TAG.Modality)}`), h('span', {}, text(s, TAG.SeriesDescription)), h('span.count', {}, `${num(s, TAG.NumberOfSeriesRelatedInstances) ?? '?'} images`)))
      item.addEventListener('click', () => { select(item, uid) })
      item.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(item, uid) })
      list.append(item)
      // The thumbnail: the node renders the series' first instance (cheap: one small JPEG).
      shown.then(async () => await dicomJson<DicomJson[]>(`${seriesPath(study, uid)}/instances?limit=1`)).then(({ body }) => {
        const sop = body[0] === undefined ? '' : text(body[0], TAG.SOPInstanceUID)
        if (sop !== '') thumb.src = `${seriesPath(study, uid)}/instances/${encodeURIComponent(sop)}/thumbnail`
      }).catch(() => undefined)
      if (first === undefined && (num(s, TAG.NumberOfSeriesRelatedInstances) ?? 1) > 0) first = { item, uid }
    }
    if (first !== undefined) select(first.item, first.uid)
    else { firstShown(); status.hidden = false; status.textContent = 'This study has no series.' }
    // The study line (patient, date, description) from the study's QIDO-RS record.
    const { body } = await dicomJson<DicomJson[]>(`/dicomweb/studies?StudyInstanceUID=${encodeURIComponent(study)}&includefield=${TAG.StudyDescription}`)
    const record = body[0]
    if (record !== undefined) title.textContent = [personName(record, TAG.PatientName), text(record, TAG.PatientID), isoDate(text(record, TAG.StudyDate)), text(record, TAG.StudyDescription)].filter(Boolean).join(' · ')
  }).catch((error: unknown) => {
    status.hidden = false
    status.classList.add('alert')
    status.textContent = `The study could not be opened: ${messageOf(error)}`
  })

  return () => {
    document.removeEventListener('keydown', onKey)
    measurer.dispose()
    view.detach()
  }
}

function savedMeasurements (entries: ReadonlyArray<{ id: string, measurement?: Measurement }>): Array<{ id: string, measurement: Measurement }> {
  return entries.filter((e): e is { id: string, measurement: Measurement } => e.measurement !== undefined)
}
