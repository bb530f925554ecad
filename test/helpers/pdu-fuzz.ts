/**
 * Seeded mutations of valid DICOM upper layer streams, for fuzzing a DIMSE acceptor: a base
 * stream (an association request alone, or followed by C-ECHO, C-FIND or C-STORE in P-DATA-TF
 * and a release) is mutated where it hurts: PDU and item length fields set to edge values,
 * presentation contexts duplicated, multiplied past 128 or renumbered, PDV headers altered,
 * bytes flipped, inserted, repeated or cut; then it is cut into reads of random sizes. The same
 * seed gives the same cases, so a failure replays.
 */
import { Prng } from '../synthetic/prng.ts'
import { associateRq, cEchoRq, cStoreRq, EXPLICIT_LE, IMPLICIT_LE, item, pData, presentationContext, RELEASE_RQ, VERIFICATION, type ContextSpec, type PdvSpec } from './pdu-builder.ts'

const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1'

export interface FuzzBase { readonly name: string, readonly pdus: Buffer[] }

/** An implicit VR LE C-FIND-RQ command and a STUDY-level identifier asking every PatientName. */
function findRequest (messageId: number): [Buffer, Buffer] {
  const el = (group: number, element: number, value: Buffer): Buffer => {
    const h = Buffer.alloc(8)
    h.writeUInt16LE(group, 0)
    h.writeUInt16LE(element, 2)
    h.writeUInt32LE(value.length, 4)
    return Buffer.concat([h, value])
  }
  const us = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b }
  const body = Buffer.concat([el(0, 0x0002, Buffer.from(STUDY_ROOT_FIND + '\0')), el(0, 0x0100, us(0x0020)), el(0, 0x0110, us(messageId)), el(0, 0x0700, us(0)), el(0, 0x0800, us(0))])
  const length = Buffer.alloc(4)
  length.writeUInt32LE(body.length)
  const command = Buffer.concat([el(0, 0, length), body])
  const identifier = Buffer.concat([el(0x0008, 0x0052, Buffer.from('STUDY ')), el(0x0010, 0x0010, Buffer.from('* ')), el(0x0020, 0x000d, Buffer.alloc(0))])
  return [command, identifier]
}

/** The valid streams mutations start from. `dataset`: an explicit VR LE dataset of `sopClassUid`. */
export function fuzzBases (callingAe: string, calledAe: string, store: { sopClassUid: string, sopInstanceUid: string, dataset: Uint8Array }): FuzzBase[] {
  const contexts: ContextSpec[] = [
    { id: 1, abstract: VERIFICATION, transfer: [IMPLICIT_LE] },
    { id: 3, abstract: STUDY_ROOT_FIND, transfer: [IMPLICIT_LE] },
    { id: 5, abstract: store.sopClassUid, transfer: [EXPLICIT_LE] }
  ]
  const rq = associateRq({ calling: callingAe, called: calledAe, contexts })
  const echo = pData([{ context: 1, command: true, last: true, value: cEchoRq(1) }])
  const [findCommand, identifier] = findRequest(2)
  const find = pData([{ context: 3, command: true, last: true, value: findCommand }, { context: 3, command: false, last: true, value: identifier }])
  const storeCommand = pData([{ context: 5, command: true, last: true, value: cStoreRq(3, store.sopClassUid, store.sopInstanceUid) }])
  const fragments: Buffer[] = []
  for (let at = 0; at < store.dataset.length; at += 4000) {
    const value = store.dataset.subarray(at, at + 4000)
    fragments.push(pData([{ context: 5, command: false, last: at + 4000 >= store.dataset.length, value }]))
  }
  return [
    { name: 'request', pdus: [rq] },
    { name: 'echo', pdus: [rq, echo, RELEASE_RQ] },
    { name: 'find', pdus: [rq, find, RELEASE_RQ] },
    { name: 'store', pdus: [rq, storeCommand, ...fragments, RELEASE_RQ] }
  ]
}

const EDGE_32 = [0, 1, 2, 3, 4, 5, 6, 7, 0x44, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
const EDGE_16 = [0, 1, 2, 3, 4, 0x3f, 0x40, 0x41, 0x7fff, 0x8000, 0xfffe, 0xffff]
const EDGE_8 = [0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff]

function pick<T> (prng: Prng, list: readonly T[]): T { return list[prng.nextU32() % list.length]! }
function below (prng: Prng, n: number): number { return n <= 0 ? 0 : prng.nextU32() % n }

/** Offsets of the item headers of an A-ASSOCIATE-RQ (top level and one level down). */
function rqItemHeaders (rq: Buffer): number[] {
  const out: number[] = []
  const walk = (from: number, to: number, depth: number): void => {
    let at = from
    while (at + 4 <= to) {
      out.push(at)
      const length = rq.readUInt16BE(at + 2)
      if (depth === 0 && (rq[at] === 0x20 || rq[at] === 0x50)) walk(at + 4 + (rq[at] === 0x20 ? 4 : 0), Math.min(to, at + 4 + length), 1)
      at += 4 + length
    }
  }
  walk(6 + 68, rq.length, 0)
  return out
}

/** A request with its presentation contexts rearranged: duplicated ids, over 128, even or zero ids. */
function contextStorm (prng: Prng, callingAe: string, calledAe: string): Buffer {
  const count = pick(prng, [2, 3, 127, 128, 129, 130, 200, 255, 300])
  const mode = below(prng, 4)
  const contexts: ContextSpec[] = Array.from({ length: count }, (_, i) => ({
    id: mode === 0 ? (2 * i + 1) & 0xff : mode === 1 ? 1 + 2 * below(prng, 3) : mode === 2 ? below(prng, 256) : (2 * i) & 0xff,
    abstract: VERIFICATION,
    transfer: [IMPLICIT_LE]
  }))
  return associateRq({ calling: callingAe, called: calledAe, contexts })
}

export interface FuzzCase { readonly name: string, readonly chunks: Buffer[] }

/** One mutated stream, cut into reads. */
export function mutate (prng: Prng, bases: readonly FuzzBase[], callingAe: string, calledAe: string): FuzzCase {
  const base = pick(prng, bases)
  const pdus: Buffer[] = base.pdus.map((p) => Buffer.from(p))
  let what: string
  const kind = below(prng, 13)
  const target = below(prng, pdus.length)
  const p = pdus[target]!
  switch (kind) {
    case 0: { // a PDU length field
      p.writeUInt32BE(pick(prng, [...EDGE_32, p.length - 7, p.length - 5, p.length + 100]) >>> 0, 2)
      what = `PDU ${target} length`
      break
    }
    case 1: { // an item or sub-item length of the request
      const headers = rqItemHeaders(pdus[0]!)
      const at = pick(prng, headers)
      pdus[0]!.writeUInt16BE(pick(prng, EDGE_16), at + 2)
      what = `RQ item at ${at} length`
      break
    }
    case 2: { // an item type of the request
      const at = pick(prng, rqItemHeaders(pdus[0]!))
      pdus[0]![at] = pick(prng, [0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x54, 0x55, 0x58, 0x00, 0xff])
      what = `RQ item at ${at} type`
      break
    }
    case 3: { // presentation contexts: duplicated, too many, even ids
      pdus[0] = contextStorm(prng, callingAe, calledAe)
      what = 'context storm'
      break
    }
    case 4: { // a PDV header inside a P-DATA-TF
      const pdata = pdus.findIndex((x, i) => i >= target && x[0] === 0x04)
      if (pdata < 0) { pdus[0]!.writeUInt16BE(1 + below(prng, 3), 6); what = 'protocol version'; break }
      const q = pdus[pdata]!
      const field = below(prng, 3)
      if (field === 0) q.writeUInt32BE(pick(prng, EDGE_32) >>> 0, 6)
      else if (field === 1) q[10] = pick(prng, [0, 1, 2, 3, 4, 5, 7, 255])
      else q[11] = pick(prng, [0, 1, 2, 3, 4, 0x80, 0xff])
      what = `PDV header field ${field} of PDU ${pdata}`
      break
    }
    case 5: { // a PDU type
      p[0] = pick(prng, [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0xff])
      what = `PDU ${target} type`
      break
    }
    case 6: { // random bytes flipped
      for (let n = 1 + below(prng, 8); n > 0; n--) { const at = below(prng, p.length); p[at] = p[at]! ^ (1 + below(prng, 255)) }
      what = `PDU ${target} bytes flipped`
      break
    }
    case 7: { // an edge value somewhere
      const at = below(prng, p.length)
      p[at] = pick(prng, EDGE_8)
      what = `PDU ${target} byte ${at}`
      break
    }
    case 8: { // bytes inserted
      const at = below(prng, p.length)
      const junk = Buffer.from(Array.from({ length: 1 + below(prng, 40) }, () => below(prng, 256)))
      pdus[target] = Buffer.concat([p.subarray(0, at), junk, p.subarray(at)])
      what = `PDU ${target} ${junk.length} bytes inserted`
      break
    }
    case 9: { // a PDU repeated, or the stream reordered
      if (below(prng, 2) === 0) pdus.splice(target, 0, Buffer.from(p))
      else pdus.reverse()
      what = `PDU ${target} repeated or stream reversed`
      break
    }
    case 10: { // unknown or extra items in the request
      const extra = pick(prng, [item(0x77, Buffer.from('x')), item(0x50, Buffer.alloc(0)), item(0x10, Buffer.from('1.2.3')), presentationContext({ id: 1, abstract: VERIFICATION, transfer: [IMPLICIT_LE] })])
      const rq = pdus[0]!
      const grown = Buffer.concat([rq, extra])
      grown.writeUInt32BE(grown.length - 6, 2)
      pdus[0] = grown
      what = 'RQ extra item'
      break
    }
    case 11: { // the Maximum Length the requestor announces
      const rq = pdus[0]!
      const at = rq.indexOf(Buffer.from([0x51, 0x00, 0x00, 0x04]))
      if (at > 0) rq.writeUInt32BE(pick(prng, [...EDGE_32, 7, 8, 100, 1023, 1024]) >>> 0, at + 4)
      what = 'maximum length value'
      break
    }
    default: { // valid, but a PDV split oddly (the acceptor must take it)
      const pdvs: PdvSpec[] = [{ context: 1, command: true, last: false, value: cEchoRq(4).subarray(0, 10) }, { context: 1, command: true, last: true, value: cEchoRq(4).subarray(10) }]
      pdus.splice(1, 0, pData(pdvs))
      what = 'valid split command'
    }
  }
  let stream = Buffer.concat(pdus)
  if (below(prng, 4) === 0) stream = stream.subarray(0, below(prng, stream.length))
  const chunks: Buffer[] = []
  const pieces = pick(prng, [1, 1, 2, 3, 7, 40])
  for (let at = 0; at < stream.length;) {
    const n = pieces === 1 ? stream.length : 1 + below(prng, Math.max(1, Math.ceil(2 * stream.length / pieces)))
    chunks.push(stream.subarray(at, at + n))
    at += n
  }
  return { name: `${base.name}: ${what}`, chunks }
}
