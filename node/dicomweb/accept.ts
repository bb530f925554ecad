/**
 * Accept header negotiation for WADO-RS (PS3.18 §8.7): each resource offers what it can send
 * (peerpacs never transcodes, so a stored instance offers its own transfer syntax only) and the
 * first acceptable entry wins. Nothing acceptable is a 406 that says what would have been.
 */
import { parseMediaType, type MediaType } from './multipart.ts'

export interface AcceptEntry extends MediaType { readonly q: number }

/** Entries with q > 0, best first; a missing or empty header accepts anything. */
export function parseAccept (header: string | undefined): AcceptEntry[] {
  if (header === undefined || header.trim() === '') return [{ type: '*/*', params: {}, q: 1 }]
  const out: AcceptEntry[] = []
  // Commas split entries, except inside quoted parameter values.
  for (const raw of header.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const media = parseMediaType(raw)
    if (media === undefined) continue
    const q = media.params.q === undefined ? 1 : Number(media.params.q)
    if (!(q > 0)) continue
    out.push({ ...media, q })
  }
  return out.sort((a, b) => b.q - a.q)
}

/** Whether `entry` (a single-part media range like image/*) covers `type`. */
export function covers (range: string, type: string): boolean {
  if (range === '*/*' || range === type) return true
  return range.endsWith('/*') && type.startsWith(range.slice(0, -1))
}

/**
 * A multipart/related entry (or a wildcard) that accepts parts of `partType` in `transferSyntax`
 * (undefined: the part type has no transfer syntax, like rendered images). `defaultSyntax` is what
 * an entry without a transfer-syntax parameter means (PS3.18 Table 8.7.3-5 etc.).
 */
export function acceptsMultipart (entries: readonly AcceptEntry[], partTypes: string | readonly string[], transferSyntax: string | undefined, defaultSyntax?: string): boolean {
  const types = typeof partTypes === 'string' ? [partTypes] : partTypes
  return entries.some((e) => {
    if (e.type === '*/*' || (e.type === 'multipart/*' && e.params.type === undefined)) return true
    if (e.type !== 'multipart/related') return false
    const type = e.params.type ?? 'application/octet-stream'
    if (!types.some((t) => covers(type.toLowerCase(), t))) return false
    if (transferSyntax === undefined) return true
    const asked = e.params['transfer-syntax']
    if (asked === '*') return true
    return (asked ?? defaultSyntax) === transferSyntax
  })
}

/** A single-part entry that accepts `type` (e.g. image/png, application/dicom+json). */
export function acceptsSingle (entries: readonly AcceptEntry[], ...types: string[]): boolean {
  return entries.some((e) => types.some((t) => covers(e.type, t)))
}
