/**
 * Upper layer PDUs built byte by byte (PS3.8 9.3), for tests that send what a real client
 * would, and then what no client should: A-ASSOCIATE-RQ with chosen contexts and user
 * information, P-DATA-TF with chosen PDVs, and DIMSE command sets (implicit VR little endian)
 * for C-ECHO and C-STORE.
 */

export const VERIFICATION = '1.2.840.10008.1.1'
export const IMPLICIT_LE = '1.2.840.10008.1.2'
export const EXPLICIT_LE = '1.2.840.10008.1.2.1'
export const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1'

export function item (type: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(4)
  header[0] = type
  header.writeUInt16BE(body.length, 2)
  return Buffer.concat([header, body])
}

export interface ContextSpec { readonly id: number, readonly abstract: string, readonly transfer: readonly string[] }

export function presentationContext (c: ContextSpec): Buffer {
  return item(0x20, Buffer.concat([Buffer.from([c.id, 0, 0, 0]), item(0x30, Buffer.from(c.abstract)), ...c.transfer.map((t) => item(0x40, Buffer.from(t)))]))
}

/** A user information item as dcmtk sends it: max length, implementation class UID and version, and the given extras. */
export function userInformation (maxPdu = 16384, extra: Buffer[] = []): Buffer {
  const max = Buffer.alloc(4)
  max.writeUInt32BE(maxPdu)
  return item(0x50, Buffer.concat([item(0x51, max), item(0x52, Buffer.from('1.2.276.0.7230010.3.0.3.6.8')), ...extra, item(0x55, Buffer.from('TESTCLIENT'))]))
}

export function pdu (type: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(6)
  header[0] = type
  header.writeUInt32BE(body.length, 2)
  return Buffer.concat([header, body])
}

export interface RqSpec {
  readonly called?: string
  readonly calling?: string
  readonly version?: number
  readonly applicationContext?: string
  readonly contexts: readonly ContextSpec[]
  /** Replaces the default user information item (empty buffer: none). */
  readonly userInformation?: Buffer
  /** Items appended after the others. */
  readonly extraItems?: readonly Buffer[]
}

export function associateRq (spec: RqSpec): Buffer {
  const fixed = Buffer.alloc(68, 0)
  fixed.writeUInt16BE(spec.version ?? 1, 0)
  fixed.write((spec.called ?? 'PEERPACS').padEnd(16, ' '), 4, 'latin1')
  fixed.write((spec.calling ?? 'STORESCU').padEnd(16, ' '), 20, 'latin1')
  return pdu(0x01, Buffer.concat([
    fixed,
    item(0x10, Buffer.from(spec.applicationContext ?? APPLICATION_CONTEXT)),
    ...spec.contexts.map(presentationContext),
    spec.userInformation ?? userInformation(),
    ...(spec.extraItems ?? [])
  ]))
}

export interface PdvSpec { readonly context: number, readonly command: boolean, readonly last: boolean, readonly value: Uint8Array }

export function pdv (p: PdvSpec): Buffer {
  const header = Buffer.alloc(6)
  header.writeUInt32BE(p.value.length + 2, 0)
  header[4] = p.context
  header[5] = (p.command ? 1 : 0) | (p.last ? 2 : 0)
  return Buffer.concat([header, p.value])
}

export function pData (pdvs: readonly PdvSpec[]): Buffer {
  return pdu(0x04, Buffer.concat(pdvs.map(pdv)))
}

export const RELEASE_RQ = pdu(0x05, Buffer.alloc(4))

/** An implicit VR little endian element of a command set. */
function element (tag: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt16LE(tag >>> 16, 0)
  header.writeUInt16LE(tag & 0xffff, 2)
  header.writeUInt32LE(value.length, 4)
  return Buffer.concat([header, value])
}

const us = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b }
const uid = (text: string): Buffer => Buffer.from(text.length % 2 === 1 ? text + '\0' : text, 'latin1')

/** A command set with its group length (0000,0000) first. */
function commandSet (elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(body.length)
  return Buffer.concat([element(0x00000000, length), body])
}

export function cEchoRq (messageId: number): Buffer {
  return commandSet([element(0x00000002, uid(VERIFICATION)), element(0x00000100, us(0x0030)), element(0x00000110, us(messageId)), element(0x00000800, us(0x0101))])
}

export function cStoreRq (messageId: number, sopClassUid: string, sopInstanceUid: string): Buffer {
  return commandSet([
    element(0x00000002, uid(sopClassUid)), element(0x00000100, us(0x0001)), element(0x00000110, us(messageId)),
    element(0x00000700, us(0)), element(0x00000800, us(0x0000)), element(0x00001000, uid(sopInstanceUid))
  ])
}
