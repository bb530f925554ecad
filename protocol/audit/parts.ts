/**
 * Audit records for events that name many objects. One record names at most
 * AUDIT_LIMITS.maxObjects participant objects and encodes to at most maxRecordBytes, yet one
 * import, C-STORE association, C-MOVE or STOW can touch ten thousand studies. Such an event is
 * written as several records, its "parts", rather than as one record that names some studies
 * and only counts the rest: every study touched stays findable in the trail by its own UID (an
 * auditor asks "who touched this study?", which a count cannot answer).
 *
 *   - Every part is the same event: the same event id, type codes, action, outcome, time, active
 *     participants and source. Only the participant objects differ.
 *   - A part holds whole groups: a study's object(s) together with its patient. Each part names
 *     the patients of its own studies, so a patient whose studies fall in two parts is in both.
 *   - A part holds at most AUDIT_LIMITS.maxObjects objects, and its objects encode to at most
 *     PART_OBJECT_BYTES. Measured: a study object with one SOP class and its patient encode to
 *     ~120 B each (~147 B with 64-character names), so 1024 objects take 120–147 KiB and the
 *     byte bound is what cuts a part of studies with several SOP classes. A sealed part is then
 *     at most ~128 KiB plus its participants, half of MAX_OP_BYTES (256 KiB) and far inside
 *     MAX_SEALED_BYTES (250 KiB) and AUDIT_LIMITS.maxRecordBytes (192 KiB).
 *   - An event that fits in one record is one record, as before. An event of n > 1 parts says
 *     so in every part's EventOutcomeDescription, after the event's own description:
 *     "part i of n (studies a–b of N)", so an auditor sees the parts belong together and
 *     whether all n are there (each is also its own op in the node's contiguous audit chain).
 */
import { encodeCanonical, type CanonicalValue } from '../canonical.ts'
import { AUDIT_LIMITS, type AuditRecord, type ParticipantObject } from './record.ts'

/** Bytes of encoded participant objects one part may carry. */
export const PART_OBJECT_BYTES = 128 * 1024

/** Room kept for the part note, the objects array's header and rounding. */
const SLACK_BYTES = 512

/** Objects that go together (a study's objects), and the one object they need beside them (its patient). */
export interface ObjectGroup {
  readonly objects: readonly ParticipantObject[]
  /** Named once per part however many of the part's groups share it (same type, role, id type and id). */
  readonly shared?: ParticipantObject
}

export interface PartsOptions {
  /** What a group is, in the part note: "studies". */
  readonly noun: string
  /** Encoded object bytes per part; PART_OBJECT_BYTES unless a test asks for less. */
  readonly maxObjectBytes?: number
}

function size (object: ParticipantObject): number {
  return encodeCanonical(object as unknown as CanonicalValue).length
}

function keyOf (o: ParticipantObject): string {
  return `${o.typeCode}\u0000${o.roleCode}\u0000${o.idTypeCode}\u0000${o.id}`
}

interface Part { objects: ParticipantObject[], shared: Map<string, ParticipantObject>, count: number, bytes: number, first: number, last: number }

/** Clips `text` to at most `max` UTF-16 units without leaving half of a surrogate pair. */
export function clipText (text: string, max: number = AUDIT_LIMITS.maxText): string {
  if (text.length <= max) return text
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max
  return text.slice(0, end)
}

/**
 * The records of one event whose objects are `groups`, each record within the limits.
 * `skeleton` is the record without its objects; it is not checked here (the caller checks every part).
 */
export function auditParts (skeleton: Omit<AuditRecord, 'objects'>, groups: readonly ObjectGroup[], options: PartsOptions): AuditRecord[] {
  const overhead = encodeCanonical({ ...skeleton, objects: [] } as unknown as CanonicalValue).length
  const budget = Math.max(1, Math.min(options.maxObjectBytes ?? PART_OBJECT_BYTES, AUDIT_LIMITS.maxRecordBytes - overhead - SLACK_BYTES))
  const sharedBytes = new Map<string, number>()
  const parts: Part[] = []
  let part: Part | undefined
  groups.forEach((group, index) => {
    const bytes = group.objects.reduce((n, o) => n + size(o), 0)
    const key = group.shared === undefined ? undefined : keyOf(group.shared)
    const sharedSize = key === undefined ? 0 : sharedBytes.get(key) ?? size(group.shared!)
    if (key !== undefined) sharedBytes.set(key, sharedSize)
    const extra = (p: Part): [number, number] => key === undefined || p.shared.has(key) ? [0, 0] : [1, sharedSize]
    if (part !== undefined) {
      const [n, b] = extra(part)
      if (part.count + group.objects.length + n > AUDIT_LIMITS.maxObjects || part.bytes + bytes + b > budget) part = undefined
    }
    if (part === undefined) {
      part = { objects: [], shared: new Map(), count: 0, bytes: 0, first: index, last: index }
      parts.push(part)
    }
    const [n, b] = extra(part)
    part.objects.push(...group.objects)
    if (n > 0) part.shared.set(key!, group.shared!)
    part.count += group.objects.length + n
    part.bytes += bytes + b
    part.last = index
  })
  if (parts.length <= 1) return [{ ...skeleton, objects: parts.length === 0 ? [] : [...parts[0]!.objects, ...parts[0]!.shared.values()] }]
  return parts.map((p, i) => {
    const note = `part ${i + 1} of ${parts.length} (${options.noun} ${p.first + 1}–${p.last + 1} of ${groups.length})`
    const own = skeleton.outcomeDescription
    const outcomeDescription = own === undefined ? note : `${clipText(own, AUDIT_LIMITS.maxText - note.length - 2)}; ${note}`
    return { ...skeleton, outcomeDescription, objects: [...p.objects, ...p.shared.values()] }
  })
}
