/**
 * QIDO-RS (PS3.18 §10.6): query parameters become matching keys for the query module, which does
 * the matching (wildcards, ranges, UID lists); this file maps names and tags, applies the path's
 * UIDs, and writes each row as DICOM JSON with the level's required return attributes (Tables
 * 10.6.3-3 to -5) plus includefield. Anything it cannot honour is a 400 that says why.
 *
 * Several values for one attribute (PS3.18 §8.3.4.1: `1#value`, a comma-separated list) become
 * one multi-valued matching key, as do repeated parameters and backslash (%5C) lists: for VRs
 * whose values cannot hold a comma (UI, CS, DA, TM, DT, IS, US, AS) a comma separates values;
 * in text (PN, LO, SH...) a comma is part of the value, so lists there use a backslash or a
 * repeated parameter.
 */
import { visibleOf } from './study-visibility.ts'
import type { Context } from 'hono'
import { ATTRIBUTES, BY_KEYWORD, BY_TAG, levelRank, type AttributeDefinition, type QueryLevel } from '../query/attributes.ts'
import type { QueryRow } from '../query/query.ts'
import type { Pacs } from '../pacs/pacs.ts'
import { isValidUid } from '../dicom/uid.ts'
import { acceptsSingle, parseAccept } from './accept.ts'
import { badRequest, notAcceptable } from './http-errors.ts'
import { instancePath, serviceRoot } from './http-util.ts'

/** Returned at each level whatever includefield says (PS3.18 Tables 10.6.3-3, -4, -5). */
const DEFAULT_FIELDS: Readonly<Record<'STUDY' | 'SERIES' | 'IMAGE', readonly string[]>> = {
  STUDY: ['StudyDate', 'StudyTime', 'AccessionNumber', 'ModalitiesInStudy', 'ReferringPhysicianName', 'PatientName', 'PatientID',
    'PatientBirthDate', 'PatientSex', 'StudyInstanceUID', 'StudyID', 'StudyDescription', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'],
  SERIES: ['Modality', 'SeriesDescription', 'SeriesNumber', 'SeriesInstanceUID', 'NumberOfSeriesRelatedInstances', 'BodyPartExamined'],
  IMAGE: ['SOPClassUID', 'SOPInstanceUID', 'InstanceNumber', 'Rows', 'Columns', 'NumberOfFrames', 'AvailableTransferSyntaxUID']
}

const CONTROL = new Set(['limit', 'offset', 'fuzzymatching', 'includefield', 'multiplevaluematching', 'emptyvaluematching'])
/** Optional matching modes peerpacs does not perform: accepted, and `true` answered with a Warning (PS3.18 §8.3.4.5, §8.3.4.6). */
const UNSUPPORTED_MODES: ReadonlyMap<string, string> = new Map([
  ['multiplevaluematching', 'The multiplevaluematching parameter is not supported. Multiple Value Matching has not been performed (a key with several values matches any of them).'],
  ['emptyvaluematching', 'The emptyvaluematching parameter is not supported. Empty Value Matching has not been performed.']
])
const MAX_LIMIT = 10000
/** VRs whose character repertoire has no comma: there a comma can only separate values. */
const COMMA_LIST_VRS = new Set(['UI', 'CS', 'DA', 'TM', 'DT', 'IS', 'US', 'AS'])

export interface QidoScope {
  readonly level: 'STUDY' | 'SERIES' | 'IMAGE'
  readonly study?: string
  readonly series?: string
}

function attributeOf (name: string): AttributeDefinition {
  const byTag = /^[0-9a-fA-F]{8}$/.test(name) ? BY_TAG.get(name.toUpperCase()) : undefined
  const definition = byTag ?? BY_KEYWORD.get(name)
  if (definition === undefined) {
    throw badRequest(/^[0-9a-fA-F]{8}$/.test(name)
      ? `attribute ${name} is not one peerpacs can query or return; known: ${ATTRIBUTES.map((a) => a.keyword).join(', ')}`
      : `"${name}" is not a query parameter or an attribute keyword peerpacs knows (parameters: limit, offset, includefield, fuzzymatching, multiplevaluematching, emptyvaluematching; attributes: ${ATTRIBUTES.map((a) => a.keyword).join(', ')})`)
  }
  return definition
}

function count (name: string, text: string, max: number): number {
  if (!/^\d{1,9}$/.test(text)) throw badRequest(`${name} must be a non-negative integer, got "${text}"`)
  const n = Number(text)
  if (n > max) throw badRequest(`${name} must be at most ${max}, got ${n}; ask for the rest with offset`)
  return n
}

function jsonValue (a: AttributeDefinition, value: QueryRow[string] | undefined): Record<string, unknown> {
  if (value === undefined || value === '') return { vr: a.vr }
  const values = Array.isArray(value) ? value : [value]
  if (values.length === 0) return { vr: a.vr }
  if (a.vr === 'PN') return { vr: 'PN', Value: values.map((v) => ({ Alphabetic: String(v) })) }
  if (a.vr === 'IS' || a.vr === 'US') return { vr: a.vr, Value: values.map((v) => Number(v)) }
  return { vr: a.vr, Value: values.map(String) }
}

export async function qido (c: Context, pacs: Pacs, scope: QidoScope): Promise<Response> {
  const accept = parseAccept(c.req.header('accept'))
  if (!acceptsSingle(accept, 'application/dicom+json', 'application/json')) {
    throw notAcceptable('QIDO-RS answers in application/dicom+json (or application/json); the Accept header allows neither')
  }
  const url = new URL(c.req.url)
  const keys: Record<string, string> = {}
  const include = new Set<string>(DEFAULT_FIELDS[scope.level])
  let all = false
  let limit: number | undefined
  let offset = 0
  const warnings = new Set<string>()
  for (const [name, value] of url.searchParams) {
    if (name === 'limit') { limit = count('limit', value, MAX_LIMIT); continue }
    if (name === 'offset') { offset = count('offset', value, Number.MAX_SAFE_INTEGER); continue }
    if (name === 'fuzzymatching') {
      if (value !== 'true' && value !== 'false') throw badRequest(`fuzzymatching must be true or false, got "${value}"`)
      continue
    }
    const unsupported = UNSUPPORTED_MODES.get(name)
    if (unsupported !== undefined) {
      if (value !== 'true' && value !== 'false') throw badRequest(`${name} must be true or false, got "${value}"`)
      if (value === 'true') warnings.add(`299 peerpacs "${unsupported}"`)
      continue
    }
    if (name === 'includefield') {
      for (const field of value.split(',').map((f) => f.trim()).filter((f) => f !== '')) {
        if (field === 'all') all = true
        else include.add(attributeOf(field).keyword)
      }
      continue
    }
    if (CONTROL.has(name.toLowerCase())) throw badRequest(`query parameter names are case-sensitive: use "${name.toLowerCase()}"`)
    // Sequence paths (a.b) and private tags are beyond what peerpacs catalogues.
    if (name.includes('.')) throw badRequest(`"${name}": peerpacs does not match on attributes inside sequences`)
    const definition = attributeOf(name)
    const values = COMMA_LIST_VRS.has(definition.vr) ? value.split(',').join('\\') : value
    // A repeated parameter adds values to the same key (an empty one asks for the attribute only).
    const before = keys[definition.keyword]
    keys[definition.keyword] = before === undefined || before === '' ? values : values === '' ? before : `${before}\\${values}`
    include.add(definition.keyword)
  }
  for (const [keyword, key] of Object.entries(keys)) {
    if (BY_KEYWORD.get(keyword)!.vr === 'UI' && key !== '' && key !== '*' && !key.split('\\').every(isValidUid)) {
      throw badRequest(`${keyword} must be a UID or a list of UIDs separated by commas or backslashes (digits and dots, at most 64 characters each)`)
    }
  }
  if (scope.study !== undefined) {
    if (keys.StudyInstanceUID !== undefined && keys.StudyInstanceUID !== scope.study) throw badRequest('StudyInstanceUID is given both in the path and as a parameter, with different values')
    keys.StudyInstanceUID = scope.study
  }
  if (scope.series !== undefined) {
    if (keys.SeriesInstanceUID !== undefined && keys.SeriesInstanceUID !== scope.series) throw badRequest('SeriesInstanceUID is given both in the path and as a parameter, with different values')
    keys.SeriesInstanceUID = scope.series
  }
  // An invalid matching key throws QueryKeyError: a 400 by HTTP_BY_CODE.
  const visible = visibleOf(c)
  const result = await pacs.query(scope.level as QueryLevel, keys, { ...(limit === undefined ? {} : { limit }), offset, ...(visible === undefined ? {} : { visible }) })
  const root = serviceRoot(c)
  const rows = result.rows.map((row) => {
    const out: Record<string, Record<string, unknown>> = {}
    for (const a of ATTRIBUTES) {
      if (levelRank(a.level) > levelRank(scope.level) || a.level === 'PATIENT' && a.over !== undefined) continue
      if (a.over !== undefined && a.level !== scope.level) continue
      if (!all && !include.has(a.keyword)) continue
      out[a.tag] = jsonValue(a, row[a.keyword])
    }
    // Study and series rows name their study even when not asked (clients need it to go deeper).
    const study = String(row.StudyInstanceUID ?? '')
    if (scope.level !== 'STUDY' && out['0020000D'] === undefined) out['0020000D'] = jsonValue(BY_KEYWORD.get('StudyInstanceUID')!, study)
    const series = String(row.SeriesInstanceUID ?? '')
    if (scope.level === 'IMAGE' && out['0020000E'] === undefined) out['0020000E'] = jsonValue(BY_KEYWORD.get('SeriesInstanceUID')!, series)
    const retrieve = scope.level === 'STUDY' ? `${root}/studies/${study}`
      : scope.level === 'SERIES' ? `${root}/studies/${study}/series/${series}`
        : instancePath(root, study, series, String(row.SOPInstanceUID ?? ''))
    out['00081190'] = { vr: 'UR', Value: [retrieve] }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
  })
  const headers: Record<string, string> = { 'Content-Type': 'application/dicom+json' }
  if (limit !== undefined && offset + rows.length < result.total) {
    warnings.add(`299 peerpacs "There are ${result.total - offset - rows.length} more results after these; ask again with offset=${offset + rows.length}"`)
  }
  if (warnings.size > 0) headers.Warning = [...warnings].join(', ')
  return new Response(JSON.stringify(rows), { status: 200, headers })
}
