/**
 * The audit record: what one `audit.event` op says happened, in the fields of the DICOM audit
 * message (PS3.15 A.5.1) — event, active participants, audit source, participant objects.
 *
 * `readAuditRecord` is the one check of a record's shape and vocabulary. The encoder runs it on
 * what a caller built and the decoder on what arrived, so both sides refuse the same things:
 * unknown keys, codes outside the vocabulary or not allowed for the event (vocabulary.ts), text
 * that is empty, too long or not well-formed Unicode, and counts past AUDIT_LIMITS. It returns a
 * fresh record holding only the keys that are present, so an absent field has one spelling.
 */
import { describe, isBytes } from '../bytes.ts'
import { InvalidArgumentError } from '../errors.ts'
import {
  EVENT_RULES, NAMES, ROLE_ID,
  type ActionCode, type EventId, type EventTypeCode, type IdTypeCode, type MediaTypeCode, type NetworkAccessPointType,
  type ObjectRoleCode, type ObjectTypeCode, type Outcome, type RoleIdCode, type SourceTypeCode
} from './vocabulary.ts'

export interface ActiveParticipant {
  /** A user name, an AE title, a node id or a process id (PS3.15 A.5.2.1). */
  userId: string
  altUserId?: string
  userName?: string
  requestor: boolean
  roleIdCode?: RoleIdCode
  /** MediaIdentifier/MediaType; only for the media roles 110154 and 110155 (PS3.15 A.5.3 Data Export, Data Import). */
  mediaType?: MediaTypeCode
  /** Present together with networkAccessPointType. */
  networkAccessPointId?: string
  networkAccessPointType?: NetworkAccessPointType
}

/** AuditSourceIdentification: the node that saw the event and wrote the record. */
export interface AuditSource {
  /** The node id (its member key in hex). */
  id: string
  enterpriseSiteId?: string
  typeCodes?: SourceTypeCode[]
}

/** One SOP class of a study (ParticipantObjectDescription/SOPClass); instanceUids may list some or all. */
export interface SopClassRef {
  uid: string
  instances: number
  instanceUids?: string[]
}

/** ParticipantObjectDetail: a typed value, carried as bytes (the schema's base64Binary). */
export interface ObjectDetail {
  type: string
  value: Uint8Array
}

export interface ParticipantObject {
  typeCode: ObjectTypeCode
  roleCode: ObjectRoleCode
  idTypeCode: IdTypeCode
  id: string
  /** At most one of name and query (the schema offers a choice between them). */
  name?: string
  /** The query as received (a C-FIND identifier, a QIDO query string), for 110112. */
  query?: Uint8Array
  description?: string
  sopClasses?: SopClassRef[]
  detail?: ObjectDetail[]
}

export interface AuditRecord {
  eventId: EventId
  eventTypeCodes?: EventTypeCode[]
  action: ActionCode
  outcome: Outcome
  outcomeDescription?: string
  /** When the event happened, ms since 1970 (UTC). */
  time: number
  participants: ActiveParticipant[]
  source: AuditSource
  objects: ParticipantObject[]
}

export const AUDIT_LIMITS = {
  /** Encoded record; with the secret box and the op around it this stays under MAX_OP_BYTES (256 KiB). */
  maxRecordBytes: 192 * 1024,
  /** Characters of any one text field. */
  maxText: 4096,
  maxParticipants: 32,
  maxObjects: 1024,
  maxSopClasses: 256,
  maxInstanceUids: 4096,
  maxDetails: 64,
  /** Bytes of a query or of a detail's value. */
  maxBinary: 64 * 1024,
  maxTypeCodes: 17
} as const

/** 9999-12-31T23:59:59.999Z: the last instant an xsd:dateTime with a four-digit year can say. */
export const MAX_AUDIT_TIME = 253402300799999

/** Raises the caller's error class with a message naming the field. */
export type Fail = (message: string) => never

type Loose = Record<string, unknown>

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function map (value: unknown, what: string, keys: readonly string[], fail: Fail): Loose {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isBytes(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    fail(`${what}: expected a map, got ${describe(value)}`)
  }
  const m = value as Loose
  for (const key of Object.keys(m)) {
    if (!keys.includes(key) && m[key] !== undefined) fail(`${what}: unknown key ${JSON.stringify(key.slice(0, 64))}`)
  }
  return m
}

function text (value: unknown, what: string, fail: Fail): string {
  if (typeof value !== 'string') fail(`${what}: expected text, got ${describe(value)}`)
  const s = value as string
  if (s.length === 0) fail(`${what}: expected non-empty text (omit the field instead)`)
  if (s.length > AUDIT_LIMITS.maxText) fail(`${what}: text of ${s.length} characters exceeds ${AUDIT_LIMITS.maxText}`)
  if (LONE_SURROGATE.test(s)) fail(`${what}: text is not well-formed Unicode (lone surrogate)`)
  return s
}

function int (value: unknown, what: string, min: number, max: number, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(`${what}: expected an integer, got ${describe(value)}`)
  const n = value as number
  if (n < min || n > max) fail(`${what}: expected an integer in [${min}, ${max}], got ${n}`)
  return n
}

function code<T extends number> (value: unknown, what: string, names: (code: number) => string | undefined, fail: Fail): T {
  if (typeof value !== 'number' || names(value) === undefined) fail(`${what}: ${typeof value === 'number' ? value : describe(value)} is not a known code here`)
  return value as T
}

function bytes (value: unknown, what: string, fail: Fail): Uint8Array {
  if (!isBytes(value)) fail(`${what}: expected a byte string, got ${describe(value)}`)
  const b = value as Uint8Array
  if (b.length > AUDIT_LIMITS.maxBinary) fail(`${what}: ${b.length} bytes exceed ${AUDIT_LIMITS.maxBinary}`)
  return b
}

function list<T> (value: unknown, what: string, min: number, max: number, fail: Fail, item: (v: unknown, what: string) => T): T[] {
  if (!Array.isArray(value)) fail(`${what}: expected an array, got ${describe(value)}`)
  const a = value as unknown[]
  if (a.length < min || a.length > max) fail(`${what}: expected ${min}..${max} entries, got ${a.length}`)
  return a.map((v, i) => item(v, `${what}[${i}]`))
}

function codes<T extends number> (value: unknown, what: string, max: number, names: (code: number) => string | undefined, fail: Fail): T[] {
  const out = list(value, what, 1, max, fail, (v, w) => code<T>(v, w, names, fail))
  if (new Set(out).size !== out.length) fail(`${what}: a code appears twice`)
  return out
}

/** Copies `key` when present (not undefined), through `read`. */
function opt<T> (out: Loose, from: Loose, key: string, read: (v: unknown) => T): void {
  if (from[key] !== undefined) out[key] = read(from[key])
}

function readParticipant (value: unknown, what: string, fail: Fail): ActiveParticipant {
  const m = map(value, what, ['userId', 'altUserId', 'userName', 'requestor', 'roleIdCode', 'mediaType', 'networkAccessPointId', 'networkAccessPointType'], fail)
  if (typeof m.requestor !== 'boolean') fail(`${what}.requestor: expected a boolean, got ${describe(m.requestor)}`)
  const out: Loose = { userId: text(m.userId, `${what}.userId`, fail) }
  opt(out, m, 'altUserId', v => text(v, `${what}.altUserId`, fail))
  opt(out, m, 'userName', v => text(v, `${what}.userName`, fail))
  out.requestor = m.requestor
  opt(out, m, 'roleIdCode', v => code(v, `${what}.roleIdCode`, NAMES.roleId, fail))
  opt(out, m, 'mediaType', v => code(v, `${what}.mediaType`, NAMES.mediaType, fail))
  opt(out, m, 'networkAccessPointId', v => text(v, `${what}.networkAccessPointId`, fail))
  opt(out, m, 'networkAccessPointType', v => code(v, `${what}.networkAccessPointType`, NAMES.networkAccessPoint, fail))
  if ((out.networkAccessPointId === undefined) !== (out.networkAccessPointType === undefined)) {
    fail(`${what}: networkAccessPointId and networkAccessPointType come together`)
  }
  if (out.mediaType !== undefined && out.roleIdCode !== ROLE_ID.destinationMedia && out.roleIdCode !== ROLE_ID.sourceMedia) {
    fail(`${what}.mediaType: only a media participant (role 110154 or 110155) has a media type`)
  }
  return out as unknown as ActiveParticipant
}

function readSource (value: unknown, what: string, fail: Fail): AuditSource {
  const m = map(value, what, ['id', 'enterpriseSiteId', 'typeCodes'], fail)
  const out: Loose = { id: text(m.id, `${what}.id`, fail) }
  opt(out, m, 'enterpriseSiteId', v => text(v, `${what}.enterpriseSiteId`, fail))
  opt(out, m, 'typeCodes', v => codes(v, `${what}.typeCodes`, 9, NAMES.sourceType, fail))
  return out as unknown as AuditSource
}

function readSopClass (value: unknown, what: string, fail: Fail): SopClassRef {
  const m = map(value, what, ['uid', 'instances', 'instanceUids'], fail)
  const out: Loose = { uid: text(m.uid, `${what}.uid`, fail), instances: int(m.instances, `${what}.instances`, 0, 2 ** 31 - 1, fail) }
  opt(out, m, 'instanceUids', v => list(v, `${what}.instanceUids`, 1, AUDIT_LIMITS.maxInstanceUids, fail, (u, w) => text(u, w, fail)))
  const uids = out.instanceUids as string[] | undefined
  if (uids !== undefined && uids.length > (out.instances as number)) fail(`${what}: lists ${uids.length} instance UIDs but counts ${out.instances as number} instances`)
  return out as unknown as SopClassRef
}

function readObject (value: unknown, what: string, fail: Fail): ParticipantObject {
  const m = map(value, what, ['typeCode', 'roleCode', 'idTypeCode', 'id', 'name', 'query', 'description', 'sopClasses', 'detail'], fail)
  const out: Loose = {
    typeCode: code(m.typeCode, `${what}.typeCode`, NAMES.objectType, fail),
    roleCode: code(m.roleCode, `${what}.roleCode`, NAMES.objectRole, fail),
    idTypeCode: code(m.idTypeCode, `${what}.idTypeCode`, NAMES.idType, fail),
    id: text(m.id, `${what}.id`, fail)
  }
  opt(out, m, 'name', v => text(v, `${what}.name`, fail))
  opt(out, m, 'query', v => bytes(v, `${what}.query`, fail))
  if (out.name !== undefined && out.query !== undefined) fail(`${what}: has both name and query (the schema allows one)`)
  opt(out, m, 'description', v => text(v, `${what}.description`, fail))
  opt(out, m, 'sopClasses', v => list(v, `${what}.sopClasses`, 1, AUDIT_LIMITS.maxSopClasses, fail, (c, w) => readSopClass(c, w, fail)))
  opt(out, m, 'detail', v => list(v, `${what}.detail`, 1, AUDIT_LIMITS.maxDetails, fail, (d, w) => {
    const dm = map(d, w, ['type', 'value'], fail)
    return { type: text(dm.type, `${w}.type`, fail), value: bytes(dm.value, `${w}.value`, fail) }
  }))
  return out as unknown as ParticipantObject
}

/** Checks `value` as an audit record and returns a normalized copy; `fail` raises the caller's error. */
export function readAuditRecord (value: unknown, fail: Fail, what = 'audit record'): AuditRecord {
  const m = map(value, what, ['eventId', 'eventTypeCodes', 'action', 'outcome', 'outcomeDescription', 'time', 'participants', 'source', 'objects'], fail)
  const eventId = code<EventId>(m.eventId, `${what}.eventId`, NAMES.eventId, fail)
  const rule = EVENT_RULES.get(eventId)!
  const out: Loose = { eventId }
  opt(out, m, 'eventTypeCodes', v => codes(v, `${what}.eventTypeCodes`, AUDIT_LIMITS.maxTypeCodes, NAMES.eventType, fail))
  const types = (out.eventTypeCodes ?? []) as EventTypeCode[]
  const name = NAMES.eventId(eventId)!
  for (const t of types) if (!rule.types.includes(t)) fail(`${what}.eventTypeCodes: ${t} is not a type code of ${eventId} ${name}`)
  if (rule.typeCount === 'one' && types.length !== 1) fail(`${what}.eventTypeCodes: ${eventId} ${name} takes exactly one of ${rule.types.join(', ')}, got ${types.length}`)
  if (rule.typeCount === 'some' && types.length === 0) fail(`${what}.eventTypeCodes: ${eventId} ${name} needs at least one type code`)
  if (typeof m.action !== 'string' || NAMES.action(m.action) === undefined) fail(`${what}.action: expected one of C R U D E, got ${describe(m.action)}`)
  if (!rule.actions.includes(m.action as ActionCode)) fail(`${what}.action: ${eventId} ${name} takes action ${rule.actions.join(' or ')}, got ${m.action as string}`)
  out.action = m.action
  out.outcome = code<Outcome>(m.outcome, `${what}.outcome`, NAMES.outcome, fail)
  opt(out, m, 'outcomeDescription', v => text(v, `${what}.outcomeDescription`, fail))
  out.time = int(m.time, `${what}.time`, 0, MAX_AUDIT_TIME, fail)
  out.participants = list(m.participants, `${what}.participants`, 1, AUDIT_LIMITS.maxParticipants, fail, (p, w) => readParticipant(p, w, fail))
  out.source = readSource(m.source, `${what}.source`, fail)
  out.objects = list(m.objects, `${what}.objects`, 0, AUDIT_LIMITS.maxObjects, fail, (o, w) => readObject(o, w, fail))
  return out as unknown as AuditRecord
}

/** readAuditRecord for a record a caller built: InvalidArgumentError names what is wrong. */
export function checkAuditRecord (record: AuditRecord, where = 'audit record'): AuditRecord {
  return readAuditRecord(record, (message) => { throw new InvalidArgumentError(message) }, where)
}
