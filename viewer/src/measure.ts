/**
 * Measurements on the stack view with Cornerstone3D's annotation tools: length, angle,
 * rectangle ROI and ellipse ROI. Their stats come from the tools themselves (mm from the
 * image's pixel spacing; area in mm², mean and SD in the modality's unit, HU for CT).
 *
 * A finished drawing (ANNOTATION_COMPLETED) becomes a `Measurement` in image coordinates
 * (columns, rows; the tool's handles in its own order) on its instance and frame, handed to
 * `onMeasured` (the study page saves it in the case document). Saved measurements are drawn
 * back with each tool's `hydrate` from those image coordinates on the image they belong to.
 */
import { eventTarget, getRenderingEngine, utilities, type Types } from '@cornerstonejs/core'
import { addTool, annotation, AngleTool, EllipticalROITool, Enums as ToolEnums, LengthTool, RectangleROITool, ToolGroupManager, WindowLevelTool } from '@cornerstonejs/tools'

export type MeasureTool = 'length' | 'angle' | 'rectangle' | 'ellipse'

export interface Measurement {
  readonly tool: MeasureTool
  readonly sopInstanceUid: string
  readonly frame: number
  readonly points: Array<[number, number]>
  readonly value: number
  readonly unit: string
  readonly text?: string
}

export const MEASURE_TOOLS: ReadonlyArray<{ id: MeasureTool, label: string, cls: { toolName: string, hydrate: (viewportId: string, points: Types.Point3[], options?: Record<string, unknown>) => void } }> = [
  { id: 'length', label: 'Length', cls: LengthTool as never },
  { id: 'angle', label: 'Angle', cls: AngleTool as never },
  { id: 'rectangle', label: 'Rectangle ROI', cls: RectangleROITool as never },
  { id: 'ellipse', label: 'Ellipse ROI', cls: EllipticalROITool as never }
]

const FRAME_OF = /\/instances\/([^/]+)\/frames\/(\d+)$/

/** The instance and frame of a `wadors:` image id. */
export function frameOf (imageId: string): { sop: string, frame: number } | undefined {
  const m = FRAME_OF.exec(imageId)
  return m === null ? undefined : { sop: decodeURIComponent(m[1]!), frame: Number(m[2]) }
}

const round = (x: unknown, digits = 2): string => typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x * 10 ** digits) / 10 ** digits) : '–'

/** What a finished annotation measured, from its tool's cached stats; undefined while they are not computed. */
function statsOf (tool: MeasureTool, stats: Record<string, unknown> | undefined): { value: number, unit: string, text?: string } | undefined {
  if (stats === undefined) return undefined
  if (tool === 'length') return typeof stats.length === 'number' ? { value: stats.length, unit: String(stats.unit ?? 'mm') } : undefined
  if (tool === 'angle') return typeof stats.angle === 'number' ? { value: stats.angle, unit: '°' } : undefined
  if (typeof stats.area !== 'number') return undefined
  const unit = String(stats.modalityUnit ?? '')
  return { value: stats.area, unit: String(stats.areaUnit ?? 'mm²'), text: `mean ${round(stats.mean, 1)} ${unit}, SD ${round(stats.stdDev, 1)} ${unit}`.replace(/ ,/g, ',').trim() }
}

/**
 * The page's CSP allows no style attributes (style-src 'self'), and Cornerstone's SVG labels set
 * one with setAttribute('style', ...) (drawTextBox), which the browser refuses and reports. The
 * same declarations set through the CSSOM (element.style) are allowed: SVG elements get theirs
 * that way, so the labels keep their shadow and stay out of the mouse's way.
 */
let stylesShimmed = false
function shimSvgStyles (): void {
  if (stylesShimmed) return
  stylesShimmed = true
  const setAttribute = Element.prototype.setAttribute
  Element.prototype.setAttribute = function (this: Element, name: string, value: string): void {
    if (this instanceof SVGElement && name.toLowerCase() === 'style') { this.style.cssText = value; return }
    setAttribute.call(this, name, value)
  }
}

const nextFrame = async (): Promise<void> => { await new Promise((resolve) => requestAnimationFrame(() => { resolve(undefined) })) }

export class Measurer {
  readonly #engine: string
  readonly #viewport: string
  readonly #group: string
  #active: MeasureTool | undefined
  /** Annotations drawn from saved measurements (not to be saved again). */
  readonly #hydrated = new Set<string>()
  readonly #onMeasured: (m: Measurement, annotationUid: string) => void
  readonly #completed = (event: Event): void => { void this.#finish(event as CustomEvent) }

  constructor (ids: { engine: string, viewport: string, group: string }, onMeasured: (m: Measurement, annotationUid: string) => void) {
    this.#engine = ids.engine
    this.#viewport = ids.viewport
    this.#group = ids.group
    this.#onMeasured = onMeasured
    shimSvgStyles()
    const group = ToolGroupManager.getToolGroup(this.#group)
    if (group === undefined) throw new Error('the stack view is not attached')
    for (const { cls } of MEASURE_TOOLS) {
      addTool(cls as never)
      if (group.getToolInstance(cls.toolName) === undefined) group.addTool(cls.toolName)
      group.setToolPassive(cls.toolName)
    }
    eventTarget.addEventListener(ToolEnums.Events.ANNOTATION_COMPLETED, this.#completed)
  }

  get active (): MeasureTool | undefined { return this.#active }

  /** The primary button draws with `tool`; undefined gives it back to window/level. */
  use (tool: MeasureTool | undefined): void {
    const group = ToolGroupManager.getToolGroup(this.#group)
    if (group === undefined) return
    const primary = [{ mouseButton: ToolEnums.MouseBindings.Primary }]
    for (const { cls } of MEASURE_TOOLS) group.setToolPassive(cls.toolName)
    if (tool === undefined) group.setToolActive(WindowLevelTool.toolName, { bindings: primary })
    else {
      group.setToolPassive(WindowLevelTool.toolName)
      group.setToolActive(MEASURE_TOOLS.find((t) => t.id === tool)!.cls.toolName, { bindings: primary })
    }
    this.#active = tool
  }

  /** Draws saved measurements that belong to images of the current stack (the others wait for theirs). */
  draw (saved: ReadonlyArray<{ id: string, measurement: Measurement }>): void {
    const viewport = getRenderingEngine(this.#engine)?.getViewport(this.#viewport) as Types.IStackViewport | undefined
    if (viewport === undefined) return
    const byFrame = new Map<string, string>()
    for (const imageId of viewport.getImageIds()) {
      const f = frameOf(imageId)
      if (f !== undefined) byFrame.set(`${f.sop}\u0000${f.frame}`, imageId)
    }
    for (const { id, measurement: m } of saved) {
      const uid = `saved:${id}`
      if (annotation.state.getAnnotation(uid) !== undefined) continue
      const imageId = byFrame.get(`${m.sopInstanceUid}\u0000${m.frame}`)
      const tool = MEASURE_TOOLS.find((t) => t.id === m.tool)
      if (imageId === undefined || tool === undefined) continue
      const points = m.points.map((p) => utilities.imageToWorldCoords(imageId, p as Types.Point2) as Types.Point3)
      this.#hydrated.add(uid)
      tool.cls.hydrate(this.#viewport, points, { referencedImageId: imageId, annotationUID: uid })
      annotation.locking.setAnnotationLocked(uid, true)
    }
    viewport.render()
  }

  /** Takes a drawn annotation away (a save that was refused). */
  remove (annotationUid: string): void {
    annotation.state.removeAnnotation(annotationUid)
    getRenderingEngine(this.#engine)?.getViewport(this.#viewport)?.render()
  }

  dispose (): void {
    eventTarget.removeEventListener(ToolEnums.Events.ANNOTATION_COMPLETED, this.#completed)
  }

  async #finish (event: CustomEvent): Promise<void> {
    const a = (event.detail as { annotation?: { annotationUID?: string, metadata: { toolName: string, referencedImageId?: string }, data: { handles: { points: Types.Point3[] }, cachedStats?: Record<string, Record<string, unknown>> } } }).annotation
    if (a?.annotationUID === undefined || this.#hydrated.has(a.annotationUID)) return
    const tool = MEASURE_TOOLS.find((t) => t.cls.toolName === a.metadata.toolName)
    const imageId = a.metadata.referencedImageId
    const frame = imageId === undefined ? undefined : frameOf(imageId)
    if (tool === undefined || imageId === undefined || frame === undefined) return
    // The tool computes its stats as it renders, throttled while the handles move, so what it
    // holds at the end of a drag may be from the middle of it: clear them, and a render computes
    // them afresh from the final handles.
    a.data.cachedStats = {}
    getRenderingEngine(this.#engine)?.getViewport(this.#viewport)?.render()
    let stats: ReturnType<typeof statsOf>
    for (let i = 0; i < 30 && stats === undefined; i++) {
      stats = statsOf(tool.id, Object.values(a.data.cachedStats ?? {})[0])
      if (stats === undefined) await nextFrame()
    }
    if (stats === undefined) return
    const points = a.data.handles.points.map((p) => {
      const [x, y] = utilities.worldToImageCoords(imageId, p) as [number, number]
      return [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000] as [number, number]
    })
    this.#onMeasured({ tool: tool.id, sopInstanceUid: frame.sop, frame: frame.frame, points, ...stats }, a.annotationUID)
  }
}

/** How a measurement reads in the notes panel. */
export function describeMeasurement (m: Measurement): string {
  const label = MEASURE_TOOLS.find((t) => t.id === m.tool)?.label ?? m.tool
  const digits = m.tool === 'angle' ? 1 : 2
  return `${label}: ${round(m.value, digits)} ${m.unit}${m.text === undefined ? '' : ` (${m.text})`}`
}
