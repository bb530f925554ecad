/**
 * Every field of an A-ASSOCIATE-RQ (PS3.8 9.3.2), checked before dcmjs-dimse parses it: that
 * parser trusts each length it reads, renumbers duplicate presentation context ids past 255
 * (and then throws a RangeError writing the A-ASSOCIATE-AC), and misreads whatever follows an
 * item type it does not know. So here:
 *  - the fixed part is 68 bytes, and each item's and sub-item's length stays inside its parent;
 *  - exactly one Application Context item (1-64 bytes), the DICOM one, else A-ASSOCIATE-RJ
 *    "application context name not supported"; protocol version bit 0 set, else RJ "protocol
 *    version not supported"; calling and called AE titles are 1-16 printable characters, else
 *    RJ "calling/called AE title not recognized";
 *  - 1 to 128 Presentation Context items with odd, distinct ids (1-255), each with one Abstract
 *    Syntax sub-item before one or more Transfer Syntax sub-items (UIDs 1-64 bytes);
 *  - at most one User Information item, whose sub-items the library reads field by field have
 *    exactly the lengths their fields add up to (max length 4, async ops 4, role selection,
 *    user identity, implementation class UID 1-64, version name 1-16), and a Maximum Length
 *    of 0 or at least 1024;
 *  - items of unknown types are skipped, as PS3.8 9.3.1 asks: they are cut out of the bytes the
 *    library gets.
 * A malformed request is answered with A-ABORT (service provider) and the PS3.8 reason.
 */
import { ABORT_REASON, abortProblem, REJECT, type PduProblem } from './ul-replies.ts'

export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1'
const FIXED = 68
const MAX_CONTEXTS = 128
/**
 * The smallest Maximum Length a requestor may announce (0 means no limit). The library cuts
 * each dataset it sends into PDVs of that length minus 6 and loops forever below 7; a length of
 * a few bytes would make every response a flood of PDUs. No real implementation asks for less.
 */
export const MIN_PEER_PDU_LENGTH = 1024

export type RqCheck =
  | { readonly ok: true, readonly body: Uint8Array, readonly contextIds: ReadonlySet<number> }
  | { readonly ok: false, readonly problem: PduProblem }

const invalid = (detail: string): RqCheck => ({ ok: false, problem: abortProblem(ABORT_REASON.invalidPduParameterValue, `A-ASSOCIATE-RQ: ${detail}`) })
const unexpected = (detail: string): RqCheck => ({ ok: false, problem: abortProblem(ABORT_REASON.unexpectedPduParameter, `A-ASSOCIATE-RQ: ${detail}`) })
const reject = (source: number, reason: number, detail: string): RqCheck => ({ ok: false, problem: { kind: 'reject', result: REJECT.permanent, source, reason, detail: `A-ASSOCIATE-RQ: ${detail}` } })

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!
const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`
const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, to))

/** A 16-byte AE title field: printable default repertoire, no backslash, not all spaces (PS3.5 6.2). */
function aeTitleOk (b: Uint8Array, from: number): boolean {
  const text = ascii(b, from, from + 16)
  return /^[\x20-\x5b\x5d-\x7e]{16}$/.test(text) && text.trim() !== ''
}

/** Sub-items of an item, each as [type, value start, value end]; a string if one overruns. */
function subItems (b: Uint8Array, from: number, to: number, what: string): Array<[number, number, number]> | string {
  const out: Array<[number, number, number]> = []
  let at = from
  while (at < to) {
    if (to - at < 4) return `${what}: ${to - at} bytes left where a 4-byte sub-item header is needed`
    const length = u16(b, at + 2)
    if (at + 4 + length > to) return `${what}: sub-item ${hex(b[at]!)} of ${length} bytes overruns its item (${to - at - 4} left)`
    out.push([b[at]!, at + 4, at + 4 + length])
    at += 4 + length
  }
  return out
}

function checkPresentationContext (b: Uint8Array, from: number, to: number, ids: Set<number>): string | undefined {
  if (to - from < 4) return `presentation context item of ${to - from} bytes (at least 4 expected)`
  const id = b[from]!
  if (id % 2 === 0) return `presentation context id ${id} is even (odd ids 1-255 expected)`
  if (ids.has(id)) return `presentation context id ${id} is proposed twice`
  ids.add(id)
  if (ids.size > MAX_CONTEXTS) return `more than ${MAX_CONTEXTS} presentation contexts`
  const subs = subItems(b, from + 4, to, `presentation context ${id}`)
  if (typeof subs === 'string') return subs
  let abstract = 0
  let transfer = 0
  for (const [type, start, end] of subs) {
    if (type !== 0x30 && type !== 0x40) continue
    if (end - start < 1 || end - start > 64) return `presentation context ${id}: a UID of ${end - start} bytes (1-64 expected)`
    if (type === 0x30 && (++abstract > 1 || transfer > 0)) return `presentation context ${id}: one abstract syntax sub-item, before the transfer syntaxes, expected`
    if (type === 0x40) {
      if (abstract === 0) return `presentation context ${id}: a transfer syntax before the abstract syntax`
      transfer++
    }
  }
  if (abstract !== 1 || transfer === 0) return `presentation context ${id}: ${abstract} abstract and ${transfer} transfer syntax sub-items (1 and at least 1 expected)`
  return undefined
}

/** The sub-items dcmjs-dimse reads field by field: their lengths must be what their fields add up to. */
function checkUserInformation (b: Uint8Array, from: number, to: number): string | undefined {
  const subs = subItems(b, from, to, 'user information')
  if (typeof subs === 'string') return subs
  for (const [type, start, end] of subs) {
    const length = end - start
    const bad = (expected: string): string => `user information sub-item ${hex(type)} of ${length} bytes (${expected})`
    switch (type) {
      case 0x51: {
        if (length !== 4) return bad('4 expected')
        const max = ((b[start]! << 24) >>> 0) + (b[start + 1]! << 16) + (b[start + 2]! << 8) + b[start + 3]!
        if (max !== 0 && max < MIN_PEER_PDU_LENGTH) return `maximum length ${max} (0, or at least ${MIN_PEER_PDU_LENGTH}, expected)`
        break
      }
      case 0x53:
        if (length !== 4) return bad('4 expected')
        break
      case 0x52:
        if (length < 1 || length > 64) return bad('a UID of 1-64 expected')
        break
      case 0x55:
        if (length < 1 || length > 16) return bad('1-16 expected')
        break
      case 0x54: {
        if (length < 4) return bad('at least 4 expected')
        const uid = u16(b, start)
        if (uid < 1 || uid > 64 || 2 + uid + 2 !== length) return bad(`a ${uid}-byte UID and two role bytes do not add up`)
        break
      }
      case 0x58: {
        if (length < 6) return bad('at least 6 expected')
        const primary = u16(b, start + 2)
        if (4 + primary + 2 > length) return bad(`its ${primary}-byte primary field overruns it`)
        const secondary = u16(b, start + 4 + primary)
        if (6 + primary + secondary !== length) return bad(`its fields of ${primary} and ${secondary} bytes do not add up`)
        break
      }
      default:
        // 0x56, 0x57 and unknown sub-items are skipped whole by the library.
        break
    }
  }
  return undefined
}

/** `body`: the PDU after its 6-byte header. */
export function checkAssociateRq (body: Uint8Array): RqCheck {
  if (body.length < FIXED) return invalid(`${body.length} bytes, shorter than the 68-byte fixed part`)
  const ids = new Set<number>()
  const kept: Array<[number, number]> = []
  let skipped = false
  let applicationContext: string | undefined
  let userInformation = 0
  let at = FIXED
  while (at < body.length) {
    if (body.length - at < 4) return invalid(`${body.length - at} bytes left where a 4-byte item header is needed`)
    const type = body[at]!
    const length = u16(body, at + 2)
    const start = at + 4
    const end = start + length
    if (end > body.length) return invalid(`item ${hex(type)} of ${length} bytes overruns the PDU (${body.length - start} left)`)
    if (type === 0x10) {
      if (applicationContext !== undefined) return unexpected('a second application context item')
      if (length < 1 || length > 64) return invalid(`application context name of ${length} bytes (1-64 expected)`)
      applicationContext = ascii(body, start, end).replace(/[\0 ]+$/, '')
    } else if (type === 0x20) {
      if (applicationContext === undefined) return invalid('a presentation context before the application context')
      const problem = checkPresentationContext(body, start, end, ids)
      if (problem !== undefined) return invalid(problem)
    } else if (type === 0x50) {
      if (++userInformation > 1) return unexpected('a second user information item')
      const problem = checkUserInformation(body, start, end)
      if (problem !== undefined) return invalid(problem)
    }
    if (type === 0x10 || type === 0x20 || type === 0x50) kept.push([at, end])
    else skipped = true
    at = end
  }
  if (applicationContext === undefined) return invalid('no application context item')
  if (ids.size === 0) return invalid('no presentation context item')
  if ((u16(body, 0) & 1) === 0) return reject(REJECT.serviceProviderAcse, REJECT.protocolVersionNotSupported, `protocol version 0x${u16(body, 0).toString(16)} (bit 0, version 1, expected)`)
  if (applicationContext !== DICOM_APPLICATION_CONTEXT) return reject(REJECT.serviceUser, REJECT.applicationContextNotSupported, 'application context name is not the DICOM one')
  if (!aeTitleOk(body, 4)) return reject(REJECT.serviceUser, REJECT.calledAeNotRecognized, 'called AE title is not 1-16 printable characters')
  if (!aeTitleOk(body, 20)) return reject(REJECT.serviceUser, REJECT.callingAeNotRecognized, 'calling AE title is not 1-16 printable characters')
  if (!skipped) return { ok: true, body, contextIds: ids }
  const parts = [body.subarray(0, FIXED), ...kept.map(([s, e]) => body.subarray(s, e))]
  return { ok: true, body: Buffer.concat(parts), contextIds: ids }
}
