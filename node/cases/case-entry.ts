/**
 * What the viewer keeps in a study's case document: free-text notes and measurements, each
 * written by a person. The case document (protocol/case-doc) holds notes as
 * `{author: member key, time, text}` items whose author is checked against the Yjs client that
 * inserted them; a peerpacs entry is such a note whose text is this JSON envelope:
 *
 *   {"v": "peerpacs/case-entry/1", "kind": "note", "account": "<32 hex>", "name": "Dr Ada", "text": "..."}
 *   {"v": "peerpacs/case-entry/1", "kind": "measurement", "account": ..., "name": ...,
 *    "measurement": {"tool": "length"|"angle"|"rectangle"|"ellipse", "sopInstanceUid": "1.2...",
 *                    "frame": 1, "points": [[x, y], ...], "value": 12.5, "unit": "mm", "text"?: "..."}}
 *
 * So the member (site) that wrote an entry is proven by the log and the Yjs client id; the person
 * (account id and display name) is what that site says, inside the sealed content. A note whose
 * text is not such an envelope (another program's note) is shown as a plain note of its site.
 * `parseNewEntry` checks what a request asks to add; every message names the field and what arrived.
 */
import { RequestError } from '../dicomweb/http-errors.ts'

export const ENTRY_VERSION = 'peerpacs/case-entry/1'
export const MEASUREMENT_TOOLS = ['length', 'angle', 'rectangle', 'ellipse'] as const
export type MeasurementTool = typeof MEASUREMENT_TOOLS[number]
/** Points each tool takes, in image coordinates (columns, rows), laid out as Cornerstone3D's tools hold their handles: a length's two ends, an angle's three points (vertex in the middle), a rectangle's four corners, an ellipse's bottom, top, left and right. */
export const TOOL_POINTS: Record<MeasurementTool, number> = { length: 2, angle: 3, rectangle: 4, ellipse: 4 }
export const MAX_NOTE_TEXT = 8000
const UID = /^[0-9]+(\.[0-9]+)*$/

export interface Measurement {
  readonly tool: MeasurementTool
  readonly sopInstanceUid: string
  /** 1-based frame number. */
  readonly frame: number
  readonly points: ReadonlyArray<readonly [number, number]>
  readonly value: number
  readonly unit: string
  /** What the viewer showed beside it (mean, SD, area), informative. */
  readonly text?: string
}

export type NewEntry =
  | { readonly kind: 'note', readonly text: string }
  | { readonly kind: 'measurement', readonly measurement: Measurement }

export interface CaseEntry {
  /** The case document's note id ("<client>:<clock>"). */
  readonly id: string
  readonly kind: 'note' | 'measurement'
  /** The member (node id hex key) whose signed op carried it. */
  readonly site: string
  /** The person's account id, or null for a note not written through peerpacs' viewer. */
  readonly account: string | null
  readonly name: string | null
  /** ms since 1970, the writer's clock. */
  readonly time: number
  readonly text?: string
  readonly measurement?: Measurement
}

const bad = (message: string): RequestError => new RequestError('BAD_REQUEST', message)

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'string') return `text of ${value.length} characters`
  return typeof value
}

function finite (value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(`"${name}" must be a finite number, got ${describe(value)}`)
  return value
}

/** Checks what a POST asks to add (see the header); throws RequestError BAD_REQUEST naming the field. */
export function parseNewEntry (body: Readonly<Record<string, unknown>>): NewEntry {
  const kind = body.kind
  if (kind === 'note') {
    const text = body.text
    if (typeof text !== 'string') throw bad(`"text" must be text, got ${describe(text)}`)
    if (text.trim() === '') throw bad('"text" is empty')
    if (text.length > MAX_NOTE_TEXT) throw bad(`"text" is ${text.length} characters long; at most ${MAX_NOTE_TEXT}`)
    return { kind, text }
  }
  if (kind === 'measurement') return { kind, measurement: parseMeasurement(body.measurement) }
  throw bad(`"kind" must be "note" or "measurement", got ${typeof kind === 'string' ? `"${kind.slice(0, 40)}"` : describe(kind)}`)
}

export function parseMeasurement (value: unknown): Measurement {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`"measurement" must be an object, got ${describe(value)}`)
  const m = value as Record<string, unknown>
  const tool = m.tool
  if (typeof tool !== 'string' || !(MEASUREMENT_TOOLS as readonly string[]).includes(tool)) throw bad(`"measurement.tool" must be one of ${MEASUREMENT_TOOLS.join(', ')}, got ${typeof tool === 'string' ? `"${tool.slice(0, 40)}"` : describe(tool)}`)
  const sop = m.sopInstanceUid
  if (typeof sop !== 'string' || sop.length > 64 || !UID.test(sop)) throw bad(`"measurement.sopInstanceUid" must be a UID (digits and dots, at most 64), got ${describe(sop)}`)
  const frame = m.frame
  if (typeof frame !== 'number' || !Number.isSafeInteger(frame) || frame < 1) throw bad(`"measurement.frame" must be a whole number from 1, got ${typeof frame === 'number' ? frame : describe(frame)}`)
  const want = TOOL_POINTS[tool as MeasurementTool]
  const points = m.points
  if (!Array.isArray(points) || points.length !== want) throw bad(`"measurement.points" must be ${want} points [x, y] for ${tool}, got ${describe(points)}`)
  const checked = points.map((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2) throw bad(`"measurement.points[${i}]" must be [x, y], got ${describe(p)}`)
    return [finite(p[0], `measurement.points[${i}][0]`), finite(p[1], `measurement.points[${i}][1]`)] as const
  })
  const valueNumber = finite(m.value, 'measurement.value')
  const unit = m.unit
  if (typeof unit !== 'string' || unit.length === 0 || unit.length > 16) throw bad(`"measurement.unit" must be text of 1 to 16 characters, got ${describe(unit)}`)
  const text = m.text
  if (text !== undefined && (typeof text !== 'string' || text.length > 500)) throw bad(`"measurement.text" must be text of at most 500 characters, got ${describe(text)}`)
  return { tool: tool as MeasurementTool, sopInstanceUid: sop, frame, points: checked, value: valueNumber, unit, ...(text === undefined ? {} : { text: text as string }) }
}

/** The note text that carries an entry written by a person. */
export function encodeEntry (entry: NewEntry, person: { id: string, displayName: string }): string {
  const base = { v: ENTRY_VERSION, kind: entry.kind, account: person.id, name: person.displayName }
  return JSON.stringify(entry.kind === 'note' ? { ...base, text: entry.text } : { ...base, measurement: entry.measurement })
}

/** An entry from a case-document note (its id, member and time come from the document). */
export function decodeEntry (note: { id: string, author: string, time: number, text: string }): CaseEntry {
  const plain: CaseEntry = { id: note.id, kind: 'note', site: note.author, account: null, name: null, time: note.time, text: note.text }
  if (!note.text.startsWith('{')) return plain
  let value: unknown
  try { value = JSON.parse(note.text) } catch { return plain }
  if (value === null || typeof value !== 'object') return plain
  const v = value as Record<string, unknown>
  if (v.v !== ENTRY_VERSION || typeof v.account !== 'string' || typeof v.name !== 'string') return plain
  const who = { id: note.id, site: note.author, account: v.account, name: v.name, time: note.time }
  try {
    if (v.kind === 'note' && typeof v.text === 'string') return { ...who, kind: 'note', text: v.text }
    if (v.kind === 'measurement') return { ...who, kind: 'measurement', measurement: parseMeasurement(v.measurement) }
  } catch { /* a malformed measurement is shown as the raw note */ }
  return plain
}
