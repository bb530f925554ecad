/**
 * Export of audit records as JSON lines: one JSON object per line, for `peerpacs audit export`
 * and for tools like jq. Keys come in a fixed order (the order of record.ts) and optional keys
 * are left out, so the same record always prints the same line.
 *
 * Coded values of the DICOM vocabulary (event id, event types, role, media type, id type) print
 * as `{code, codeSystemName, displayName}`; the schema's plain enumerations (action, outcome,
 * object type and role, network access point type, source types) print as their values, as the
 * XML attributes carry them. Time prints as ISO 8601 UTC with milliseconds; bytes (a query, a
 * detail's value) as base64. Characters a line splitter or a terminal would act on are \u-escaped,
 * so a line is one line for every reader. `fromJsonLine` reads a line back into the record and its op.
 */
import { base64, hex } from '@scure/base'
import { describe, expectInteger, expectObject, isBytes } from '../bytes.ts'
import { DecodeError, InvalidArgumentError } from '../errors.ts'
import { checkAuditRecord, readAuditRecord, type AuditRecord } from './record.ts'
import { codedValue, type CodedValue } from './vocabulary.ts'
import { INVISIBLE_CONTROLS } from './xml-escape.ts'

/** Where the record sits in the log: its op's id, author and seq. */
export interface AuditOpRef {
  opId: string
  author: string
  seq: number
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function put (target: Record<string, Json>, key: string, value: Json | undefined): void {
  if (value !== undefined) target[key] = value
}

const codes = (list: readonly number[] | undefined): Json | undefined => list === undefined ? undefined : list.map(c => ({ ...codedValue(c) }))

function asHex (value: string | Uint8Array, name: string): string {
  if (isBytes(value)) return hex.encode(value)
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name}: expected hex text or bytes, got ${describe(value)}`)
  return value
}

/** One line (without the newline) for `record`, stored as op `extra`. */
export function toJsonLine (record: AuditRecord, extra: { opId: string | Uint8Array, author: string | Uint8Array, seq: number }): string {
  const r = checkAuditRecord(record, 'toJsonLine(record)')
  expectObject(extra, 'toJsonLine(extra)')
  const line: Record<string, Json> = {
    opId: asHex(extra.opId, 'toJsonLine(extra.opId)'),
    author: asHex(extra.author, 'toJsonLine(extra.author)'),
    seq: expectInteger(extra.seq, 'toJsonLine(extra.seq)', 1),
    eventId: { ...codedValue(r.eventId) }
  }
  put(line, 'eventTypeCodes', codes(r.eventTypeCodes))
  line.action = r.action
  line.outcome = r.outcome
  put(line, 'outcomeDescription', r.outcomeDescription)
  line.time = new Date(r.time).toISOString()
  line.participants = r.participants.map(p => {
    const out: Record<string, Json> = { userId: p.userId }
    put(out, 'altUserId', p.altUserId)
    put(out, 'userName', p.userName)
    out.requestor = p.requestor
    put(out, 'roleIdCode', p.roleIdCode === undefined ? undefined : { ...codedValue(p.roleIdCode) })
    put(out, 'mediaType', p.mediaType === undefined ? undefined : { ...codedValue(p.mediaType) })
    put(out, 'networkAccessPointId', p.networkAccessPointId)
    put(out, 'networkAccessPointType', p.networkAccessPointType)
    return out
  })
  const source: Record<string, Json> = { id: r.source.id }
  put(source, 'enterpriseSiteId', r.source.enterpriseSiteId)
  put(source, 'typeCodes', r.source.typeCodes)
  line.source = source
  line.objects = r.objects.map(o => {
    const out: Record<string, Json> = { typeCode: o.typeCode, roleCode: o.roleCode, idTypeCode: { ...codedValue(o.idTypeCode) }, id: o.id }
    put(out, 'name', o.name)
    put(out, 'query', o.query === undefined ? undefined : base64.encode(o.query))
    put(out, 'description', o.description)
    put(out, 'sopClasses', o.sopClasses?.map(c => {
      const sc: Record<string, Json> = { uid: c.uid, instances: c.instances }
      put(sc, 'instanceUids', c.instanceUids)
      return sc
    }))
    put(out, 'detail', o.detail?.map(d => ({ type: d.type, value: base64.encode(d.value) })))
    return out
  })
  // JSON.stringify escapes C0 controls; these it leaves raw, and line splitters (U+0085, U+2028,
  // U+2029) or an auditor's terminal (bidirectional controls) would act on them.
  return JSON.stringify(line).replace(INVISIBLE_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

// ---- Reading a line back ----

type Loose = Record<string, unknown>

function fail (message: string): never {
  throw new DecodeError(`fromJsonLine: ${message}`)
}

function isMap (v: unknown): v is Loose {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** A coded value back to its number, checking the system and name match the vocabulary. */
function uncode (v: unknown, what: string): number {
  if (!isMap(v) || typeof v.code !== 'string' || !/^[0-9]{1,6}$/.test(v.code)) fail(`${what}: expected a coded value`)
  const code = Number((v as Loose).code)
  let known: CodedValue
  try { known = codedValue(code) } catch { return fail(`${what}: ${code} is not a code of the audit vocabulary`) }
  if (v.codeSystemName !== known.codeSystemName || v.displayName !== known.displayName) fail(`${what}: code ${code} does not match its system and display name`)
  return code
}

function unbase64 (v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string') fail(`${what}: expected base64 text`)
  try { return base64.decode(v as string) } catch { return fail(`${what}: not valid base64`) }
}

/** Copies `from` with `read` applied to the keys it names (those present). */
function mapped (from: unknown, what: string, read: Record<string, (v: unknown, what: string) => unknown>): Loose {
  if (!isMap(from)) fail(`${what}: expected an object`)
  const out: Loose = { ...(from as Loose) }
  for (const [key, fn] of Object.entries(read)) if (out[key] !== undefined) out[key] = fn(out[key], `${what}.${key}`)
  return out
}

function arrayOf (v: unknown, what: string, item: (v: unknown, what: string) => unknown): unknown[] {
  if (!Array.isArray(v)) fail(`${what}: expected an array`)
  return (v as unknown[]).map((x, i) => item(x, `${what}[${i}]`))
}

/** Inverse of toJsonLine: DecodeError when the line is not one toJsonLine could have written. */
export function fromJsonLine (line: string): { record: AuditRecord } & AuditOpRef {
  if (typeof line !== 'string') throw new InvalidArgumentError(`fromJsonLine(line): expected string, got ${describe(line)}`)
  let parsed: unknown
  try { parsed = JSON.parse(line) } catch (cause) { throw new DecodeError('fromJsonLine: not JSON', { cause }) }
  if (!isMap(parsed)) fail('expected a JSON object')
  const { opId, author, seq, time, ...rest } = parsed as Loose
  if (typeof opId !== 'string' || typeof author !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) fail('opId, author and seq are missing or mistyped')
  if (typeof time !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(time)) fail('time: expected ISO 8601 UTC with milliseconds')
  const ms = Date.parse(time as string)
  if (!Number.isSafeInteger(ms) || new Date(ms).toISOString() !== time) fail('time: not a real instant')
  const value = mapped(rest, 'line', {
    eventId: uncode,
    eventTypeCodes: (v, w) => arrayOf(v, w, uncode),
    participants: (v, w) => arrayOf(v, w, (p, pw) => mapped(p, pw, { roleIdCode: uncode, mediaType: uncode })),
    objects: (v, w) => arrayOf(v, w, (o, ow) => mapped(o, ow, {
      idTypeCode: uncode,
      query: unbase64,
      detail: (d, dw) => arrayOf(d, dw, (x, xw) => mapped(x, xw, { value: unbase64 }))
    }))
  })
  value.time = ms
  const record = readAuditRecord(value, fail, 'line')
  return { record, opId: opId as string, author: author as string, seq: seq as number }
}
