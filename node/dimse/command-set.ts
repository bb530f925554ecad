/**
 * DIMSE command sets (PS3.7 Annex E, Table E.1-1) written byte by byte: group 0000 in implicit
 * VR little endian, elements in tag order after their Command Group Length (0000,0000). dcmjs-dimse
 * writes a command set by denaturalizing it through dcmjs for every message it sends, about 1.5 ms
 * each, which made a C-FIND answer of 10,000 matches take 20 s; the bytes here are the same (the
 * unit test compares them with dcmjs's for the responses peerpacs sends) and cost microseconds.
 */
import { InvalidArgumentError } from '../../protocol/errors.ts'

type CommandVr = 'UI' | 'US' | 'AE' | 'LO'

/** The command elements a response or request of C-ECHO, C-STORE, C-FIND, C-MOVE or C-GET can carry. */
const COMMAND_ELEMENTS: ReadonlyMap<string, { readonly tag: number, readonly vr: CommandVr }> = new Map([
  ['AffectedSOPClassUID', { tag: 0x0002, vr: 'UI' }],
  ['RequestedSOPClassUID', { tag: 0x0003, vr: 'UI' }],
  ['CommandField', { tag: 0x0100, vr: 'US' }],
  ['MessageID', { tag: 0x0110, vr: 'US' }],
  ['MessageIDBeingRespondedTo', { tag: 0x0120, vr: 'US' }],
  ['MoveDestination', { tag: 0x0600, vr: 'AE' }],
  ['Priority', { tag: 0x0700, vr: 'US' }],
  ['CommandDataSetType', { tag: 0x0800, vr: 'US' }],
  ['Status', { tag: 0x0900, vr: 'US' }],
  ['ErrorComment', { tag: 0x0902, vr: 'LO' }],
  ['ErrorID', { tag: 0x0903, vr: 'US' }],
  ['AffectedSOPInstanceUID', { tag: 0x1000, vr: 'UI' }],
  ['RequestedSOPInstanceUID', { tag: 0x1001, vr: 'UI' }],
  ['NumberOfRemainingSuboperations', { tag: 0x1020, vr: 'US' }],
  ['NumberOfCompletedSuboperations', { tag: 0x1021, vr: 'US' }],
  ['NumberOfFailedSuboperations', { tag: 0x1022, vr: 'US' }],
  ['NumberOfWarningSuboperations', { tag: 0x1023, vr: 'US' }],
  ['MoveOriginatorApplicationEntityTitle', { tag: 0x1030, vr: 'AE' }],
  ['MoveOriginatorMessageID', { tag: 0x1031, vr: 'US' }]
])

/** Text padded to even length (UI with 00H, the others with a space), as latin1 (command sets are ASCII). */
function textBytes (vr: CommandVr, text: string): Buffer {
  const padded = text.length % 2 === 0 ? text : text + (vr === 'UI' ? '\0' : ' ')
  return Buffer.from(padded, 'latin1')
}

/**
 * The command set's bytes from its elements by keyword (dcmjs-dimse's naming). An element whose
 * value is undefined is left out, as dcmjs does. A keyword outside the table, a US that is not an
 * integer in 0..65535, or a text with a character outside printable ASCII is a caller's mistake
 * and throws: what a peer sent is checked before it is echoed (find-answer.ts).
 */
export function writeCommandSet (elements: Readonly<Record<string, unknown>>): Buffer {
  const items: Array<{ tag: number, value: Buffer }> = []
  for (const [keyword, value] of Object.entries(elements)) {
    if (value === undefined) continue
    const spec = COMMAND_ELEMENTS.get(keyword)
    if (spec === undefined) throw new InvalidArgumentError(`writeCommandSet: ${JSON.stringify(keyword)} is not a command element peerpacs writes; expected one of ${[...COMMAND_ELEMENTS.keys()].join(', ')}`)
    if (spec.vr === 'US') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) throw new InvalidArgumentError(`writeCommandSet: ${keyword} must be an integer in 0..65535, got ${String(value)}`)
      const bytes = Buffer.alloc(2)
      bytes.writeUInt16LE(value)
      items.push({ tag: spec.tag, value: bytes })
      continue
    }
    if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) throw new InvalidArgumentError(`writeCommandSet: ${keyword} must be printable ASCII text, got ${typeof value === 'string' ? `${value.length} characters with others` : typeof value}`)
    items.push({ tag: spec.tag, value: textBytes(spec.vr, value) })
  }
  items.sort((a, b) => a.tag - b.tag)
  const length = items.reduce((n, item) => n + 8 + item.value.length, 0)
  const out = Buffer.alloc(12 + length)
  // (0000,0000) UL: the length of everything after this element.
  out.writeUInt32LE(0, 0)
  out.writeUInt32LE(4, 4)
  out.writeUInt32LE(length, 8)
  let at = 12
  for (const item of items) {
    out.writeUInt16LE(0x0000, at)
    out.writeUInt16LE(item.tag, at + 2)
    out.writeUInt32LE(item.value.length, at + 4)
    item.value.copy(out, at + 8)
    at += 8 + item.value.length
  }
  return out
}
