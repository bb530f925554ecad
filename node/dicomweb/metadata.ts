/**
 * WADO-RS metadata (PS3.18 §8.3.3.1, Annex F): a stored instance's dataset as DICOM JSON, built
 * from what dcmjs parsed. Bulk data (Pixel Data, and any binary value over 1 KiB) is never
 * inline: it becomes a BulkDataURI pointing at this instance's /bulkdata route, addressed by the
 * element's path (tag, or tag/item/tag inside sequences, items counted from 1). Small binary
 * values go inline as base64 (InlineBinary). Group 0002 stays out; AvailableTransferSyntaxUID
 * says how the instance is stored.
 */
import { badRequest, notFound } from './http-errors.ts'
import type { Dataset, Element, OpenedInstance } from './instance-data.ts'

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])
const INLINE_LIMIT = 1024
const PIXEL_TAGS = new Set(['7FE00010', '7FE00008', '7FE00009'])

function binaryLength (value: unknown): number {
  if (value instanceof ArrayBuffer) return value.byteLength
  if (ArrayBuffer.isView(value)) return value.byteLength
  return 0
}

function toBase64 (value: unknown): string {
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64')
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  return ''
}

function convert (ds: Dataset, bulkBase: string, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const tag of Object.keys(ds).sort()) {
    if (tag.startsWith('0002')) continue
    const element = ds[tag]!
    const vr = element.vr
    const here = path === '' ? tag : `${path}/${tag}`
    if (BINARY_VRS.has(vr)) {
      const values = element.Value ?? []
      const size = values.reduce<number>((n, v) => n + binaryLength(v), 0)
      if (size === 0) out[tag] = { vr }
      else if (PIXEL_TAGS.has(tag) || size > INLINE_LIMIT || values.length !== 1) out[tag] = { vr, BulkDataURI: `${bulkBase}/${here}` }
      else out[tag] = { vr, InlineBinary: toBase64(values[0]) }
      continue
    }
    if (vr === 'SQ') {
      const items = (element.Value ?? []) as Dataset[]
      out[tag] = items.length === 0 ? { vr } : { vr, Value: items.map((item, i) => convert(item, bulkBase, `${here}/${i + 1}`)) }
      continue
    }
    const values = (element.Value ?? []).filter((v) => v !== undefined)
    out[tag] = values.length === 0 ? { vr } : { vr, Value: values }
  }
  return out
}

export function metadataOf (opened: OpenedInstance, instanceUrl: string): Record<string, unknown> {
  const json = convert(opened.dataset, `${instanceUrl}/bulkdata`, '')
  json['00083002'] = { vr: 'UI', Value: [opened.transferSyntaxUid] }
  return Object.fromEntries(Object.entries(json).sort(([a], [b]) => a.localeCompare(b)))
}

/** The element a bulkdata path names ("7FE00010", "00540016/1/00181234"), or a 400/404. */
export function elementAt (ds: Dataset, path: string): { tag: string, element: Element } {
  if (!/^[0-9A-Fa-f]{8}(\/\d{1,6}\/[0-9A-Fa-f]{8}){0,8}$/.test(path)) throw badRequest('a bulk data path is a tag (8 hex digits), or tag/item/tag inside sequences')
  const segments = path.toUpperCase().split('/')
  let current: Dataset = ds
  for (let i = 0; i < segments.length; i += 2) {
    const tag = segments[i]!
    const element = current[tag]
    if (element === undefined) throw notFound(`the instance has no element ${tag} at that path`)
    if (i === segments.length - 1) {
      if (!BINARY_VRS.has(element.vr)) throw notFound(`element ${tag} is not bulk data`)
      return { tag, element }
    }
    const item = (element.Value as Dataset[] | undefined)?.[Number(segments[i + 1]) - 1]
    if (element.vr !== 'SQ' || item === undefined) throw notFound(`the instance has no item ${segments[i + 1]} in ${tag}`)
    current = item
  }
  throw notFound('no such bulk data')
}
