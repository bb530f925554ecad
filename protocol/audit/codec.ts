/**
 * The audit record's bytes: canonical CBOR (canonical.ts) of the record's map, keys named as in
 * record.ts. Encoding and decoding run the same check (readAuditRecord), so a record that
 * encodes always decodes to an equal record, and bytes that decode were a record some writer
 * could have encoded: unknown keys, codes outside the vocabulary and oversized records are
 * refused on both sides.
 */
import { expectBytes } from '../bytes.ts'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../canonical.ts'
import { DecodeError, InvalidArgumentError } from '../errors.ts'
import { AUDIT_LIMITS, readAuditRecord, type AuditRecord } from './record.ts'

export function encodeAuditRecord (record: AuditRecord): Uint8Array {
  const checked = readAuditRecord(record, (message) => { throw new InvalidArgumentError(`encodeAuditRecord: ${message}`) })
  const bytes = encodeCanonical(checked as unknown as CanonicalValue)
  if (bytes.length > AUDIT_LIMITS.maxRecordBytes) {
    throw new InvalidArgumentError(`encodeAuditRecord: record of ${bytes.length} bytes exceeds ${AUDIT_LIMITS.maxRecordBytes}`,
      { hint: 'count instances instead of listing their UIDs, or split the event over several records' })
  }
  return bytes
}

export function decodeAuditRecord (bytes: Uint8Array): AuditRecord {
  expectBytes(bytes, 'decodeAuditRecord(bytes)')
  const value = decodeCanonical(bytes, AUDIT_LIMITS.maxRecordBytes)
  return readAuditRecord(value, (message) => { throw new DecodeError(`decodeAuditRecord: ${message}`) })
}
