/**
 * A C-STORE sender for datasets dcmtk would refuse to send (truncated, garbage, wrong UIDs):
 * dcmjs-dimse's Client carrying a RawDataset, so the bytes go out exactly as the test made them.
 */
import dimse from 'dcmjs-dimse'
import { RawDataset } from '../../node/dimse/raw-dataset.ts'

const { Client, requests, association } = dimse
dimse.log.setLevel('silent')

export interface RawStore {
  /** What the command says. */
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  readonly transferSyntaxUid: string
  /** The dataset bytes sent, unchanged. */
  readonly dataset: Uint8Array
}

export interface StoreAnswer { readonly status: number | undefined, readonly comment: string | undefined }

export async function storeRaw (port: number, callingAe: string, calledAe: string, items: RawStore[]): Promise<StoreAnswer[]> {
  const client = new Client()
  const answers: StoreAnswer[] = items.map(() => ({ status: undefined, comment: undefined }))
  // The client proposes implicit and explicit LE for each request's SOP class; a context with the
  // dataset's own syntax alone makes the library pick it, so it never transcodes (raw-dataset.ts).
  const proposed = new Set<string>()
  for (const item of items) {
    const key = `${item.sopClassUid} ${item.transferSyntaxUid}`
    if (proposed.has(key)) continue
    proposed.add(key)
    client.addAdditionalPresentationContext(new association.PresentationContext(0, item.sopClassUid, item.transferSyntaxUid), true)
  }
  items.forEach((item, index) => {
    const request = new requests.CStoreRequest(new RawDataset(item.dataset, item.transferSyntaxUid, item.sopClassUid, item.sopInstanceUid))
    request.setAffectedSopClassUid(item.sopClassUid)
    request.setAffectedSopInstanceUid(item.sopInstanceUid)
    request.on('response', (response: InstanceType<typeof dimse.responses.CStoreResponse>) => {
      answers[index] = { status: response.getStatus(), comment: response.getErrorComment() }
    })
    client.addRequest(request)
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('storeRaw: no end of association')), 20_000)
    client.on('closed', () => { clearTimeout(timer); resolve() })
    client.on('networkError', () => { clearTimeout(timer); resolve() })
    client.on('associationRejected', () => { clearTimeout(timer); resolve() })
    client.send('127.0.0.1', port, callingAe, calledAe)
  })
  return answers
}

/** Removes one top-level element from an explicit VR little endian dataset. */
export function withoutElement (dataset: Uint8Array, tag: number): Uint8Array {
  const view = new DataView(dataset.buffer, dataset.byteOffset, dataset.byteLength)
  let offset = 0
  while (offset + 8 <= dataset.length) {
    const t = ((view.getUint16(offset, true) << 16) | view.getUint16(offset + 2, true)) >>> 0
    const vr = String.fromCharCode(dataset[offset + 4]!, dataset[offset + 5]!)
    const long = ['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'OV', 'SV', 'UV'].includes(vr)
    const length = long ? view.getUint32(offset + 8, true) : view.getUint16(offset + 6, true)
    const end = offset + (long ? 12 : 8) + (length === 0xffffffff ? 0 : length)
    if (t === tag) return Buffer.concat([dataset.subarray(0, offset), dataset.subarray(end)])
    if (t > tag) break
    offset = length === 0xffffffff ? afterDelimiter(dataset, end) : end
  }
  throw new Error(`element ${tag.toString(16)} not found at top level`)
}

/** Offset of a top-level element's header in an explicit VR little endian dataset. */
export function elementOffset (dataset: Uint8Array, tag: number): number {
  const view = new DataView(dataset.buffer, dataset.byteOffset, dataset.byteLength)
  let offset = 0
  while (offset + 8 <= dataset.length) {
    const t = ((view.getUint16(offset, true) << 16) | view.getUint16(offset + 2, true)) >>> 0
    if (t === tag) return offset
    const vr = String.fromCharCode(dataset[offset + 4]!, dataset[offset + 5]!)
    const long = ['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'OV', 'SV', 'UV'].includes(vr)
    const length = long ? view.getUint32(offset + 8, true) : view.getUint16(offset + 6, true)
    offset = length === 0xffffffff ? afterDelimiter(dataset, offset + 12) : offset + (long ? 12 : 8) + length
  }
  throw new Error(`element ${tag.toString(16)} not found at top level`)
}

/** After an undefined-length sequence: past its Sequence Delimitation Item (no nesting expected). */
function afterDelimiter (dataset: Uint8Array, from: number): number {
  const at = Buffer.from(dataset.buffer, dataset.byteOffset, dataset.byteLength).indexOf(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]), from)
  if (at < 0) throw new Error('unterminated sequence')
  return at + 8
}
