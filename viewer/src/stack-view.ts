/**
 * One series in a Cornerstone3D StackViewport: its images as `wadors:` image ids (frames fetched
 * by the DICOM image loader from this node's WADO-RS, with the series' metadata from
 * `/metadata` registered first, as Cornerstone's own DICOMweb examples do), window/level by
 * drag, stack scroll by wheel and keys, zoom (right drag) and pan (middle drag), CT presets,
 * invert, reset, and the overlay corners (patient, study, series, image n/N, W/L, zoom).
 *
 * The element carries its state as data attributes (data-state, data-index, data-count,
 * data-window, data-center, data-invert) for people's tools and the browser tests alike.
 */
import { Enums, getRenderingEngine, RenderingEngine, utilities, type Types } from '@cornerstonejs/core'
import { wadors } from '@cornerstonejs/dicom-image-loader'
import { Enums as ToolEnums, PanTool, StackScrollTool, ToolGroupManager, WindowLevelTool, ZoomTool } from '@cornerstonejs/tools'
import { dicomJson } from './api.ts'
import { type DicomJson, isoDate, num, personName, TAG, text } from './dicom-json.ts'
import { readingOrder } from './series-order.ts'
import { h } from './dom.ts'
import type { WindowPreset } from './presets.ts'
import { startCornerstone } from './cornerstone.ts'

const ENGINE = 'peerpacs'
const VIEWPORT = 'stack'
const TOOLS = 'stack-tools'
/** The Cornerstone ids of the view, for tools that work on it (measure.ts). */
export const STACK_IDS = { engine: ENGINE, viewport: VIEWPORT, group: TOOLS } as const

export interface SeriesRef { readonly study: string, readonly series: string }

export class StackView {
  readonly element: HTMLDivElement
  readonly #canvasHost: HTMLDivElement
  readonly #corners: Record<'tl' | 'tr' | 'bl' | 'br', HTMLDivElement>
  readonly #status: HTMLDivElement
  #viewport: Types.IStackViewport | undefined
  #first: DicomJson | undefined
  #loading = 0
  readonly #onRendered = (): void => { this.#updateOverlay() }
  readonly #resize = new ResizeObserver(() => { getRenderingEngine(ENGINE)?.resize(true, true) })

  constructor () {
    this.#canvasHost = h('div.stack-canvas', { 'aria-label': 'image' })
    this.#corners = { tl: h('div.corner.tl'), tr: h('div.corner.tr'), bl: h('div.corner.bl'), br: h('div.corner.br') }
    this.#status = h('div.stack-status', { role: 'status' })
    this.element = h('div.stack-view', { tabindex: 0, 'data-state': 'empty' }, this.#canvasHost, ...Object.values(this.#corners), this.#status)
    // The context menu would cover the zoom drag (right button).
    this.#canvasHost.addEventListener('contextmenu', (e) => e.preventDefault())
    this.element.addEventListener('keydown', (e) => { this.#key(e) })
  }

  /** Starts Cornerstone and the viewport; call once the element is in the document. */
  attach (): void {
    startCornerstone()
    const engine = getRenderingEngine(ENGINE) ?? new RenderingEngine(ENGINE)
    engine.enableElement({ viewportId: VIEWPORT, type: Enums.ViewportType.STACK, element: this.#canvasHost, defaultOptions: { background: [0, 0, 0] } })
    this.#viewport = engine.getViewport(VIEWPORT) as Types.IStackViewport
    let group = ToolGroupManager.getToolGroup(TOOLS)
    if (group === undefined) {
      group = ToolGroupManager.createToolGroup(TOOLS)!
      for (const tool of [WindowLevelTool, StackScrollTool, PanTool, ZoomTool]) group.addTool(tool.toolName)
      group.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] })
      group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] })
      group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] })
      group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }] })
    }
    group.addViewport(VIEWPORT, ENGINE)
    this.#canvasHost.addEventListener(Enums.Events.IMAGE_RENDERED, this.#onRendered)
    this.#resize.observe(this.#canvasHost)
  }

  /** Frees the viewport (leaving the page). */
  detach (): void {
    this.#resize.disconnect()
    this.#canvasHost.removeEventListener(Enums.Events.IMAGE_RENDERED, this.#onRendered)
    ToolGroupManager.getToolGroup(TOOLS)?.removeViewports(ENGINE, VIEWPORT)
    getRenderingEngine(ENGINE)?.disableElement(VIEWPORT)
    this.#viewport = undefined
  }

  /**
   * Shows a series: fetches its metadata, then its first image; the rest load as they are
   * scrolled to. Multi-frame instances show their first frame (cine and frames: a later slice).
   */
  async show (ref: SeriesRef): Promise<void> {
    const viewport = this.#viewport
    if (viewport === undefined) throw new Error('the stack view is not attached')
    const ticket = ++this.#loading
    this.#state('loading', 'Loading the series…')
    try {
      const base = `/dicomweb/studies/${encodeURIComponent(ref.study)}/series/${encodeURIComponent(ref.series)}`
      const { body } = await dicomJson<DicomJson[]>(`${base}/metadata`)
      if (ticket !== this.#loading) return
      // Images only: a series may also hold objects without pixels (SR, presentation states, key objects).
      const instances = readingOrder(body.filter((i) => i[TAG.PixelData] !== undefined || num(i, TAG.Rows) !== undefined))
      if (instances.length === 0) { this.#state('empty', 'This series has no images to show.'); return }
      const imageIds = instances.map((instance) => {
        const imageId = `wadors:${location.origin}${base}/instances/${encodeURIComponent(text(instance, TAG.SOPInstanceUID))}/frames/1`
        wadors.metaDataManager.add(imageId, instance as never)
        return imageId
      })
      this.#first = instances[0]
      await viewport.setStack(imageIds, 0)
      if (ticket !== this.#loading) return
      viewport.render()
      this.#state('loaded', '')
    } catch (error) {
      if (ticket === this.#loading) this.#state('failed', `The images could not be shown: ${error instanceof Error ? error.message : String(error)}`)
      throw error
    }
  }

  get count (): number { return this.#viewport?.getImageIds().length ?? 0 }
  get index (): number { return this.#viewport?.getCurrentImageIdIndex() ?? 0 }

  async scrollTo (index: number): Promise<void> {
    const viewport = this.#viewport
    if (viewport === undefined || this.count === 0) return
    const next = Math.max(0, Math.min(this.count - 1, index))
    if (next !== this.index) await viewport.setImageIdIndex(next)
  }

  async scrollBy (delta: number): Promise<void> { await this.scrollTo(this.index + delta) }

  /** Sets the window (width, centre) in the image's output units (HU for CT). */
  setWindow (width: number, center: number): void {
    const viewport = this.#viewport
    if (viewport === undefined) return
    // The DICOM linear function's bounds (PS3.3 C.11.2.1.2.1), as Cornerstone reads stored windows.
    viewport.setProperties({ voiRange: utilities.windowLevel.toLowHighRange(width, center) })
    viewport.render()
  }

  applyPreset (preset: WindowPreset): void { this.setWindow(preset.width, preset.center) }

  invert (): void {
    const viewport = this.#viewport
    if (viewport === undefined) return
    viewport.setProperties({ invert: viewport.getProperties().invert !== true })
    viewport.render()
  }

  reset (): void {
    const viewport = this.#viewport
    if (viewport === undefined) return
    viewport.resetProperties()
    viewport.resetCamera()
    viewport.render()
  }

  #key (e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return
    const steps: Record<string, number> = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10 }
    if (e.key in steps) void this.scrollBy(steps[e.key]!)
    else if (e.key === 'Home') void this.scrollTo(0)
    else if (e.key === 'End') void this.scrollTo(this.count - 1)
    else if (e.key === 'i') this.invert()
    else if (e.key === 'r') this.reset()
    else return
    e.preventDefault()
  }

  #state (state: string, message: string): void {
    this.element.dataset.state = state
    this.#status.textContent = message
    this.#status.hidden = message === ''
  }

  #updateOverlay (): void {
    const viewport = this.#viewport
    const first = this.#first
    if (viewport === undefined || first === undefined) return
    const { voiRange, invert } = viewport.getProperties()
    const n = viewport.getCurrentImageIdIndex() + 1
    const total = viewport.getImageIds().length
    const zoom = viewport.getZoom?.() ?? 1
    const win = voiRange == null ? undefined : utilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper)
    const round = (x: number): string => String(Math.round(x))
    this.#corners.tl.replaceChildren(line(personName(first, TAG.PatientName)), line(text(first, TAG.PatientID)), line([text(first, TAG.PatientSex), isoDate(text(first, TAG.PatientBirthDate))].filter(Boolean).join('  ')))
    this.#corners.tr.replaceChildren(line(text(first, TAG.StudyDescription)), line(isoDate(text(first, TAG.StudyDate))), line(text(first, TAG.AccessionNumber)))
    this.#corners.bl.replaceChildren(line(`Se: ${text(first, TAG.SeriesNumber)}  ${text(first, TAG.SeriesDescription)}`), line(`Im: ${n}/${total}`, 'slice'))
    this.#corners.br.replaceChildren(line(win === undefined ? 'W: –  L: –' : `W: ${round(win.windowWidth)}  L: ${round(win.windowCenter)}`, 'window'), line(`Zoom: ${Math.round(zoom * 100)}%${invert === true ? '  Inverted' : ''}`))
    Object.assign(this.element.dataset, {
      index: String(n - 1), count: String(total), invert: String(invert === true),
      ...(win === undefined ? {} : { window: round(win.windowWidth), center: round(win.windowCenter) })
    })
  }
}

function line (content: string, name?: string): HTMLDivElement {
  return h('div', name === undefined ? {} : { 'data-overlay': name }, content)
}
