/**
 * What dcmtk reads, peerpacs accepts (issue 12 item 13), checked at the inspector:
 *  - a deflated dataset followed by a gzip trailer (CRC-32 + length), with or without the
 *    PS3.5 A.5 pad byte; a trailer whose values do not match stays trailing garbage;
 *  - private sequences nested in private sequences, in implicit and explicit VR, of defined
 *    and undefined length, including the explicit VR form dcmtk and others write for an
 *    unknown private sequence: UN of undefined length whose content is implicit VR (CP-246);
 *  - a dataset without SOP Class/Instance UID, which takes them from the file meta.
 * The header (UIDs, patient) must come out right whatever sits before it.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib'
import { InvalidDicomError } from '../../../../node/dicom/errors.ts'
import type { InstanceHeader } from '../../../../node/dicom/instance-header.ts'
import { Part10Inspector } from '../../../../node/dicom/part10-inspector.ts'
import {
  build, concat, CT_IMAGE, ITEM, ITEM_DELIMITER, metaEnd, PATIENT, RAW_EXPLICIT_BE, RAW_EXPLICIT_LE, RAW_IMPLICIT_LE, rawDelimiter,
  rawElement, rawHeader, SEQUENCE_DELIMITER, TS, UIDS, UNDEFINED_LENGTH, withDataset, fileWithDataset, type RawEncoding
} from '../helpers/dicom.ts'
import { randomPieces, seeded } from '../helpers/seeded.ts'

function inspect (file: Uint8Array, pieces: Uint8Array[] = [file]): InstanceHeader {
  const inspector = new Part10Inspector(file.length)
  for (const piece of pieces) inspector.push(piece)
  return inspector.finish()
}

/** Same header whole, in random pieces and byte by byte. */
function accepted (file: Uint8Array, what: string): InstanceHeader {
  const header = inspect(file)
  for (const size of [64, 1]) assert.deepEqual(inspect(file, randomPieces(file, seeded(file.length + size), size)), header, what)
  return header
}

function refused (file: Uint8Array, pattern: RegExp): void {
  assert.throws(() => inspect(file), (error: unknown) => error instanceof InvalidDicomError && pattern.test(error.message))
}

const le32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0, true); return b }

describe('deflated datasets: what may follow the deflate stream', () => {
  const file = build({ transferSyntaxUid: TS.deflatedExplicitVrLittleEndian })
  const head = file.subarray(0, metaEnd(file))
  const dataset = inflateRawSync(file.subarray(metaEnd(file)))
  const stream = deflateRawSync(dataset)
  const trailer = concat(le32(crc32(dataset)), le32(dataset.length))

  test('a gzip trailer (CRC-32 + length of the inflated dataset) is accepted', () => {
    const header = accepted(concat(head, stream, trailer), 'gzip trailer')
    assert.equal(header.sopInstanceUid, UIDS.sopInstance)
    assert.equal(header.patientName, PATIENT)
  })

  test('a gzip trailer followed by the pad byte of an odd-length stream is accepted', () => {
    // Find a dataset whose deflate stream has odd length, so stream + trailer is odd and padded.
    let odd: { stream: Uint8Array, dataset: Uint8Array } | undefined
    for (let extra = 0; odd === undefined && extra < 64; extra += 2) {
      const d = concat(dataset, rawElement(0x0040_a160, 'UT', 'x'.repeat(extra)))
      const s = deflateRawSync(d)
      if (s.length % 2 === 1) odd = { stream: s, dataset: d }
    }
    assert.ok(odd !== undefined)
    const padded = concat(head, odd.stream, le32(crc32(odd.dataset)), le32(odd.dataset.length), new Uint8Array(1))
    assert.equal(accepted(padded, 'trailer and pad').sopInstanceUid, UIDS.sopInstance)
  })

  test('8 bytes that are not the trailer of this dataset, or more than a trailer, stay trailing garbage', () => {
    const wrongCrc = trailer.slice()
    wrongCrc[0]! ^= 1
    refused(concat(head, stream, wrongCrc), /8 bytes follow the end of the deflated dataset \(trailing garbage; they are not a gzip trailer/)
    const wrongLength = trailer.slice()
    wrongLength[4]! ^= 1
    refused(concat(head, stream, wrongLength), /not a gzip trailer/)
    refused(concat(head, stream, trailer, new Uint8Array([0, 0])), /10 bytes follow the end of the deflated dataset/)
    refused(concat(head, stream, trailer, new Uint8Array([1])), /9 bytes follow the end of the deflated dataset/)
  })
})

/** Private creator (0009,0010) and a private sequence (0009,10xx) holding `inner` in one item, as `vr` (SQ, UN or none in implicit). */
function privateSequence (element: number, inner: Uint8Array, enc: RawEncoding, form: { vr: 'SQ' | 'UN', defined: boolean }): Uint8Array {
  const innerEnc = form.vr === 'UN' && enc.explicit ? RAW_IMPLICIT_LE : enc
  const body = concat(rawElement(0x0009_0010, 'LO', 'ACME 1.0', innerEnc), inner)
  if (form.defined) {
    const item = concat(rawDelimiter(ITEM, body.length, innerEnc.little), body)
    return concat(rawHeader(0x0009_0000 | element, form.vr, item.length, enc), item)
  }
  // Undefined length: in explicit VR an undefined-length UN holds implicit VR little endian (CP-246).
  return concat(
    rawHeader(0x0009_0000 | element, form.vr, UNDEFINED_LENGTH, enc),
    rawDelimiter(ITEM, UNDEFINED_LENGTH, innerEnc.little), body, rawDelimiter(ITEM_DELIMITER, 0, innerEnc.little),
    rawDelimiter(SEQUENCE_DELIMITER, 0, innerEnc.little)
  )
}

/** Three private sequences nested in one another, before the patient and study attributes. */
function nestedPrivateDataset (enc: RawEncoding, form: { vr: 'SQ' | 'UN', defined: boolean }): Uint8Array {
  const innerEnc = form.vr === 'UN' && enc.explicit ? RAW_IMPLICIT_LE : enc
  const leaf = rawElement(0x0009_1003, 'LO', 'LEAF', innerEnc)
  // Inside an undefined-length UN everything is implicit VR, so the nested ones have no VR to give.
  const nested = (el: number, inner: Uint8Array): Uint8Array => privateSequence(el, inner, innerEnc, form.vr === 'UN' && enc.explicit ? { vr: 'SQ', defined: form.defined } : form)
  const outer = privateSequence(0x1000, nested(0x1001, nested(0x1002, leaf)), enc, form)
  return concat(
    rawElement(0x0008_0016, 'UI', CT_IMAGE, enc), rawElement(0x0008_0018, 'UI', UIDS.sopInstance, enc), rawElement(0x0008_0060, 'CS', 'CT', enc),
    rawElement(0x0009_0010, 'LO', 'ACME 1.0', enc), outer,
    rawElement(0x0010_0010, 'PN', PATIENT, enc), rawElement(0x0010_0020, 'LO', 'PPX-NEST-1', enc),
    rawElement(0x0020_000d, 'UI', UIDS.study, enc), rawElement(0x0020_000e, 'UI', UIDS.series, enc),
    rawElement(0x0020_0013, 'IS', '7', enc)
  )
}

describe('private sequences nested in private sequences', () => {
  const syntaxes: Array<[string, RawEncoding, string]> = [
    ['implicit VR LE', RAW_IMPLICIT_LE, TS.implicitVrLittleEndian],
    ['explicit VR LE', RAW_EXPLICIT_LE, TS.explicitVrLittleEndian],
    ['explicit VR BE', RAW_EXPLICIT_BE, TS.explicitVrBigEndian],
    ['deflated explicit VR LE', RAW_EXPLICIT_LE, TS.deflatedExplicitVrLittleEndian]
  ]
  for (const [name, enc, ts] of syntaxes) {
    for (const vr of enc.explicit ? ['SQ', 'UN'] as const : ['SQ'] as const) {
      for (const defined of [true, false]) {
        const label = `${name}, ${enc.explicit ? vr : 'no VR'}, ${defined ? 'defined' : 'undefined'} lengths`
        test(`${label}: accepted, with every attribute after them read right`, () => {
          const file = fileWithDataset(ts, nestedPrivateDataset(enc, { vr, defined }), ts === TS.deflatedExplicitVrLittleEndian)
          const header = accepted(file, label)
          assert.equal(header.sopClassUid, CT_IMAGE)
          assert.equal(header.sopInstanceUid, UIDS.sopInstance)
          assert.equal(header.studyInstanceUid, UIDS.study)
          assert.equal(header.seriesInstanceUid, UIDS.series)
          assert.equal(header.patientName, PATIENT)
          assert.equal(header.patientId, 'PPX-NEST-1')
          assert.equal(header.instanceNumber, 7)
        })
      }
    }
  }

  test('an undefined-length UN whose content is explicit VR (against CP-246; dcmtk refuses it too) → InvalidDicomError', () => {
    const leaf = rawElement(0x0009_1003, 'LO', 'LEAF', RAW_EXPLICIT_LE)
    const wrong = concat(
      rawElement(0x0008_0016, 'UI', CT_IMAGE), rawElement(0x0008_0018, 'UI', UIDS.sopInstance),
      rawHeader(0x0009_1000, 'UN', UNDEFINED_LENGTH), rawDelimiter(ITEM, UNDEFINED_LENGTH), leaf, rawDelimiter(ITEM_DELIMITER, 0), rawDelimiter(SEQUENCE_DELIMITER, 0),
      rawElement(0x0020_000d, 'UI', UIDS.study), rawElement(0x0020_000e, 'UI', UIDS.series)
    )
    refused(fileWithDataset(TS.explicitVrLittleEndian, wrong), /element \(0009,1003\)|claims \d+ bytes/)
  })
})

describe('SOP Class and Instance UID only in the file meta', () => {
  const rest = (enc: RawEncoding): Uint8Array => concat(
    rawElement(0x0008_0060, 'CS', 'CT', enc), rawElement(0x0010_0010, 'PN', PATIENT, enc),
    rawElement(0x0020_000d, 'UI', UIDS.study, enc), rawElement(0x0020_000e, 'UI', UIDS.series, enc)
  )

  for (const [name, enc, ts] of [['explicit VR LE', RAW_EXPLICIT_LE, TS.explicitVrLittleEndian], ['implicit VR LE', RAW_IMPLICIT_LE, TS.implicitVrLittleEndian], ['deflated', RAW_EXPLICIT_LE, TS.deflatedExplicitVrLittleEndian]] as const) {
    test(`${name}: no (0008,0016) in the dataset → the meta's (0002,0002)`, () => {
      const file = fileWithDataset(ts, concat(rawElement(0x0008_0018, 'UI', UIDS.sopInstance, enc), rest(enc)), ts === TS.deflatedExplicitVrLittleEndian)
      const header = accepted(file, name)
      assert.equal(header.sopClassUid, CT_IMAGE)
      assert.equal(header.sopInstanceUid, UIDS.sopInstance)
    })

    test(`${name}: neither (0008,0016) nor (0008,0018) → the meta's (0002,0002) and (0002,0003)`, () => {
      const header = accepted(fileWithDataset(ts, rest(enc), ts === TS.deflatedExplicitVrLittleEndian), name)
      assert.equal(header.sopClassUid, CT_IMAGE)
      assert.equal(header.sopInstanceUid, UIDS.sopInstance)
    })
  }

  test('the dataset\'s own UIDs win over the meta\'s; a meta value taken in is validated like any other', () => {
    const own = '1.2.826.0.1.3680043.10.1.99'
    const file = fileWithDataset(TS.explicitVrLittleEndian, concat(rawElement(0x0008_0016, 'UI', '1.2.840.10008.5.1.4.1.1.4'), rawElement(0x0008_0018, 'UI', own), rest(RAW_EXPLICIT_LE)))
    const header = inspect(file)
    assert.equal(header.sopClassUid, '1.2.840.10008.5.1.4.1.1.4')
    assert.equal(header.sopInstanceUid, own)
    const shell = build({ sopInstanceUid: '1.2.abc', elements: [] })
    refused(withDataset(shell, rest(RAW_EXPLICIT_LE)), /SOPInstanceUID \(0008,0018\) in the file meta is not a valid UID/)
  })
})
