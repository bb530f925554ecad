/**
 * P-DATA-TF PDUs (PS3.8 9.3.5) for one command set or one dataset, written by peerpacs: each PDU
 * carries one PDV, the fragments no longer than the peer's Maximum Length allows (the PDU's
 * length field counts the PDV item: 4 bytes of item length, the context id, the message control
 * header, and the fragment), the last fragment flagged.
 *
 * One PDV per PDU, and command and dataset in separate PDUs, as dcmtk and dcmjs-dimse send them:
 * several PDVs in one PDU are allowed, but receivers exist that drop the PDVs after the one that
 * completes a message (dcmjs-dimse's own _processPDataTf returns there; pynetdicom's decoder
 * too), so messages are never packed together. Fewer writes come from the caller sending many
 * PDUs in one socket write instead.
 */
import { InvalidArgumentError } from '../../protocol/errors.ts'

/** What dcmjs-dimse sends when the peer announced no limit (0), and the most it sends at all. */
export const UNLIMITED_PDU = 4 * 1024 * 1024

/** The largest PDU body to send to a peer that announced `maxPduLength` (0: no limit). */
export function sendLimit (maxPduLength: number): number {
  return maxPduLength === 0 ? UNLIMITED_PDU : Math.min(maxPduLength, UNLIMITED_PDU)
}

/**
 * The PDUs carrying `bytes` on presentation context `contextId` as a command set or a dataset,
 * in one buffer. `maxPduLength` is the peer's announced Maximum Length, already through sendLimit.
 */
export function pdataPdus (contextId: number, command: boolean, bytes: Uint8Array, maxPduLength: number): Buffer {
  if (!Number.isInteger(contextId) || contextId < 1 || contextId > 255 || contextId % 2 === 0) throw new InvalidArgumentError(`pdataPdus: a presentation context id is an odd number 1..255, got ${contextId}`)
  if (!Number.isInteger(maxPduLength) || maxPduLength < 7) throw new InvalidArgumentError(`pdataPdus: a maximum PDU length of at least 7 is needed to carry a fragment, got ${maxPduLength}`)
  const fragment = maxPduLength - 6
  const count = Math.max(1, Math.ceil(bytes.length / fragment))
  const out = Buffer.allocUnsafe(bytes.length + count * 12)
  let at = 0
  for (let i = 0; i < count; i++) {
    const start = i * fragment
    const end = Math.min(bytes.length, start + fragment)
    const length = end - start
    out[at] = 0x04
    out[at + 1] = 0
    out.writeUInt32BE(length + 6, at + 2)
    out.writeUInt32BE(length + 2, at + 6)
    out[at + 10] = contextId
    out[at + 11] = (command ? 0x01 : 0x00) | (i === count - 1 ? 0x02 : 0x00)
    out.set(bytes.subarray(start, end), at + 12)
    at += 12 + length
  }
  return out
}
