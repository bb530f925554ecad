/**
 * node/dicom/dataset-walker.ts on its own: it walks every synthetic dataset (implicit and
 * explicit LE, explicit BE, encapsulated RLE, sequences of defined and undefined length) whole
 * and byte by byte, finds where the header ends, and rejects broken structure (stray items and
 * delimiters, unknown VRs, undefined lengths where none may be, overlong values, deep nesting,
 * truncation, trailing bytes) with an InvalidDicomError that says what and where.
 */
import { inflateRawSync } from 'node:zlib'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DatasetWalker } from '../../../node/dicom/dataset-walker.ts'
import { InvalidDicomError } from '../../../node/dicom/errors.ts'
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, encodingOf, isDeflated, type DatasetEncoding } from '../../../node/dicom/transfer-syntax.ts'
import { syntheticStudy } from '../../synthetic/study.ts'
import {
  build, concat, findTag, ITEM, ITEM_DELIMITER, metaEnd, nestedSequences, RAW_EXPLICIT_BE, RAW_EXPLICIT_LE, RAW_IMPLICIT_LE,
  rawDelimiter, rawElement, rawHeader, rawRequired, requiredElements, SEQUENCE_DELIMITER, sequences, smallImage, TS, UNDEFINED_LENGTH,
  type RawEncoding
} from './helpers/dicom.ts'
import { randomPieces, seeded } from './helpers/seeded.ts'

const PIXEL_DATA_LE = new Uint8Array([0xe0, 0x7f, 0x10, 0x00])
const PIXEL_DATA_BE = new Uint8Array([0x7f, 0xe0, 0x00, 0x10])

/** Walks `dataset` (as if it started at `start` in a file) pushed in `pieces`; returns headerEnd. */
function walk (dataset: Uint8Array, encoding: DatasetEncoding, pieces?: Uint8Array[], start = 0): number {
  const walker = new DatasetWalker(start, start + dataset.length, encoding)
  for (const piece of pieces ?? [dataset]) walker.push(piece)
  const headerEnd = walker.finish()
  assert.equal(walker.position, start + dataset.length)
  return headerEnd
}

function rejects (dataset: Uint8Array, encoding: DatasetEncoding, pattern: RegExp): void {
  assert.throws(() => walk(dataset, encoding), (error: unknown) => {
    assert.ok(error instanceof InvalidDicomError, `expected InvalidDicomError, got ${String(error)}`)
    assert.equal(error.code, 'INVALID_DICOM')
    assert.match(error.message, pattern)
    return true
  })
  // The same verdict when the bytes arrive one at a time.
  assert.throws(() => walk(dataset, encoding, randomPieces(dataset, seeded(dataset.length), 1)), InvalidDicomError)
}

const le = (...parts: Uint8Array[]): Uint8Array => concat(...parts)

describe('DatasetWalker on valid datasets', () => {
  const study = syntheticStudy({ seed: 90, profile: 'mixed' })

  test('every synthetic dataset walks to its end; headerEnd is the Pixel Data element', () => {
    assert.ok(study.length >= 10)
    for (const instance of study) {
      const file = instance.bytes
      const start = metaEnd(file)
      if (isDeflated(instance.transferSyntaxUid)) {
        const dataset = inflateRawSync(file.subarray(start))
        const headerEnd = walk(dataset, EXPLICIT_LE)
        assert.equal(headerEnd, Buffer.from(dataset).indexOf(PIXEL_DATA_LE), instance.relativePath)
        continue
      }
      const encoding = encodingOf(instance.transferSyntaxUid)
      const headerEnd = walk(file.subarray(start), encoding, undefined, start)
      const pixelData = Buffer.from(file).lastIndexOf(encoding.littleEndian ? PIXEL_DATA_LE : PIXEL_DATA_BE)
      assert.equal(headerEnd, pixelData, `${instance.relativePath} (${instance.transferSyntaxUid})`)
    }
  })

  test('the same result pushed in random pieces, and byte by byte', () => {
    const rng = seeded(91)
    for (const instance of study) {
      if (isDeflated(instance.transferSyntaxUid)) continue
      const start = metaEnd(instance.bytes)
      const dataset = instance.bytes.subarray(start)
      const encoding = encodingOf(instance.transferSyntaxUid)
      const whole = walk(dataset, encoding, undefined, start)
      assert.equal(walk(dataset, encoding, randomPieces(dataset, rng, 97), start), whole)
    }
    const smallest = [...study].filter((i) => !isDeflated(i.transferSyntaxUid)).sort((a, b) => a.bytes.length - b.bytes.length)[0]!
    const start = metaEnd(smallest.bytes)
    const dataset = smallest.bytes.subarray(start)
    const encoding = encodingOf(smallest.transferSyntaxUid)
    assert.equal(walk(dataset, encoding, randomPieces(dataset, rng, 1), start), walk(dataset, encoding, undefined, start))
  })

  test('sequences of defined and undefined length, nested, in all three encodings', () => {
    for (const [ts, encoding] of [[TS.implicitVrLittleEndian, IMPLICIT_LE], [TS.explicitVrLittleEndian, EXPLICIT_LE], [TS.explicitVrBigEndian, EXPLICIT_BE]] as const) {
      const file = build({ transferSyntaxUid: ts, elements: [...requiredElements(), ...sequences(), ...smallImage()] })
      const start = metaEnd(file)
      const headerEnd = walk(file.subarray(start), encoding, undefined, start)
      assert.equal(headerEnd, file.length - 32 - (encoding.explicitVr ? 12 : 8), ts)
    }
  })

  test('the listener is told of each top-level element of defined length, never of one inside a sequence, whole or byte by byte', () => {
    for (const [ts, encoding] of [[TS.implicitVrLittleEndian, IMPLICIT_LE], [TS.explicitVrLittleEndian, EXPLICIT_LE], [TS.explicitVrBigEndian, EXPLICIT_BE]] as const) {
      const file = build({ transferSyntaxUid: ts, elements: [...requiredElements(), ...sequences(), ...smallImage()] })
      const start = metaEnd(file)
      const dataset = file.subarray(start)
      const told = (pieces: Uint8Array[]): Array<[number, number, number]> => {
        const seen: Array<[number, number, number]> = []
        const walker = new DatasetWalker(start, start + dataset.length, encoding, (tag, from, to) => { seen.push([tag, from, to]) })
        for (const piece of pieces) walker.push(piece)
        walker.finish()
        return seen
      }
      const whole = told([dataset])
      const tags = whole.map(([tag]) => tag)
      // The defined-length sequence (0008,1140) is top level; what is inside a sequence is not told.
      assert.ok(tags.includes(0x0008_0018) && tags.includes(0x0008_1140) && tags.includes(0x7fe0_0010), ts)
      assert.ok(!tags.includes(0x0008_1150) && !tags.includes(0x0008_0100) && !tags.includes(0x0040_a010), `${ts}: nothing nested`)
      assert.ok(!tags.includes(0x0008_1032), `${ts}: an undefined-length sequence has no end to tell`)
      for (const [tag, from, to] of whole) {
        const at = dataset.subarray(from - start, to - start)
        const first = encoding.littleEndian ? at[0]! | at[1]! << 8 : at[0]! << 8 | at[1]!
        assert.equal(first, tag >>> 16, `${ts}: the range starts at the element's tag`)
      }
      assert.deepEqual(told(randomPieces(dataset, seeded(7), 1)), whole, `${ts}: byte by byte`)
    }
  })

  test('a dataset without Pixel Data: headerEnd is the end of the dataset', () => {
    const dataset = rawRequired()
    assert.equal(walk(dataset, EXPLICIT_LE, undefined, 500), 500 + dataset.length)
    assert.equal(walk(new Uint8Array(0), EXPLICIT_LE, undefined, 500), 500)
  })

  test('only a top-level element of the pixel data group (7FE0) ends the header, not one inside a sequence', () => {
    const inner = rawElement(0x7fe0_0010, 'OB', new Uint8Array(4))
    const floatPixels = rawElement(0x7fe0_0008, 'OF', new Uint8Array(8))
    const dataset = le(
      rawRequired(),
      rawHeader(0x0040_a730, 'SQ', UNDEFINED_LENGTH), rawDelimiter(ITEM, inner.length), inner, rawDelimiter(SEQUENCE_DELIMITER, 0),
      floatPixels,
      rawElement(0xfffc_fffc, 'OB', new Uint8Array(6)) // dataset trailing padding
    )
    const headerEnd = walk(dataset, EXPLICIT_LE)
    assert.equal(headerEnd, dataset.length - 18 - floatPixels.length, 'header ends at Float Pixel Data (7FE0,0008), the first top-level element of group 7FE0')
  })

  test('a top-level value of 8 MiB or more (an encapsulated document) ends the header too', () => {
    const before = le(rawRequired(), rawElement(0x0042_0010, 'ST', 'Report'))
    const document = rawHeader(0x0042_0011, 'OB', 8 << 20)
    const walker = new DatasetWalker(0, before.length + document.length + (8 << 20), EXPLICIT_LE)
    walker.push(before)
    walker.push(document)
    assert.equal(walker.headerEnd, before.length, 'known as soon as the large element header has gone by')
    walker.push(new Uint8Array(8 << 20))
    assert.equal(walker.finish(), before.length)
  })

  test('an undefined-length UN is walked as an implicit-LE sequence (CP-246), in explicit LE and BE', () => {
    for (const enc of [RAW_EXPLICIT_LE, RAW_EXPLICIT_BE] as RawEncoding[]) {
      const dataset = le(
        rawRequired(enc),
        rawHeader(0x0029_1010, 'UN', UNDEFINED_LENGTH, enc),
        rawDelimiter(ITEM, UNDEFINED_LENGTH, true),
        rawElement(0x0029_0010, 'XX', 'IMPLICIT', RAW_IMPLICIT_LE),
        rawDelimiter(ITEM_DELIMITER, 0, true),
        rawDelimiter(SEQUENCE_DELIMITER, 0, true),
        rawElement(0x0040_0000, 'LO', 'after', enc)
      )
      assert.equal(walk(dataset, enc.little ? EXPLICIT_LE : EXPLICIT_BE), dataset.length)
    }
  })

  test('encapsulated pixel data: an offset table and fragments, closed by a sequence delimiter', () => {
    const dataset = le(
      rawRequired(),
      rawHeader(0x7fe0_0010, 'OB', UNDEFINED_LENGTH),
      rawDelimiter(ITEM, 0), rawDelimiter(ITEM, 6), new Uint8Array(6), rawDelimiter(ITEM, 2), new Uint8Array(2),
      rawDelimiter(SEQUENCE_DELIMITER, 0)
    )
    assert.equal(walk(dataset, EXPLICIT_LE), rawRequired().length)
  })

  test('sequences nested 20 deep are fine', () => {
    const dataset = le(rawRequired(), nestedSequences(20))
    assert.equal(walk(dataset, EXPLICIT_LE), dataset.length)
  })
})

describe('DatasetWalker rejects broken structure, saying what and where', () => {
  const base = rawRequired()
  const at = base.length // byte offset of whatever follows the required attributes

  test('an item tag outside any sequence', () => {
    rejects(le(base, rawDelimiter(ITEM, 0)), EXPLICIT_LE, new RegExp(`item tag \\(FFFE,E000\\) at byte ${at} outside any sequence`))
    rejects(le(rawRequired(RAW_IMPLICIT_LE), rawDelimiter(ITEM, UNDEFINED_LENGTH)), IMPLICIT_LE, /item tag \(FFFE,E000\) at byte \d+ outside any sequence/)
  })

  test('a sequence or item delimiter with nothing open', () => {
    rejects(le(base, rawDelimiter(SEQUENCE_DELIMITER, 0)), EXPLICIT_LE, new RegExp(`sequence delimiter \\(FFFE,E0DD\\) at byte ${at} does not close anything open \\(in the dataset\\)`))
    rejects(le(base, rawDelimiter(ITEM_DELIMITER, 0)), EXPLICIT_LE, new RegExp(`item delimiter \\(FFFE,E00D\\) at byte ${at} does not close anything open`))
    // A sequence delimiter where an item delimiter belongs (item still open).
    rejects(le(base, rawHeader(0x0040_a730, 'SQ', UNDEFINED_LENGTH), rawDelimiter(ITEM, UNDEFINED_LENGTH), rawDelimiter(SEQUENCE_DELIMITER, 0)),
      EXPLICIT_LE, /sequence delimiter \(FFFE,E0DD\) at byte \d+ does not close anything open \(in item of sequence \(0040,A730\)\)/)
    // A delimiter inside a defined-length sequence.
    rejects(le(base, rawHeader(0x0040_a730, 'SQ', 8), rawDelimiter(SEQUENCE_DELIMITER, 0)), EXPLICIT_LE, /does not close anything open \(in sequence \(0040,A730\)\)/)
  })

  test('a delimiter with a non-zero length, and an unknown (FFFE,xxxx) tag', () => {
    rejects(le(base, rawHeader(0x0040_a730, 'SQ', UNDEFINED_LENGTH), rawDelimiter(SEQUENCE_DELIMITER, 4)), EXPLICIT_LE, /sequence delimiter \(FFFE,E0DD\) at byte \d+ has length 4, expected 0/)
    rejects(le(base, rawDelimiter(0xfffe_e001, 0)), EXPLICIT_LE, new RegExp(`unknown delimiter tag \\(FFFE,E001\\) at byte ${at}`))
  })

  test('an unknown VR', () => {
    rejects(le(base, rawElement(0x0020_0011, 'ZZ', '12')), EXPLICIT_LE, new RegExp(`element \\(0020,0011\\) at byte ${at} has an invalid VR "ZZ"`))
    rejects(le(base, rawElement(0x0020_0011, 'is', '12')), EXPLICIT_LE, /has an invalid VR "is"/)
    rejects(le(base, rawElement(0x0020_0011, '\u0001\u00ff', '12')), EXPLICIT_LE, /\(0020,0011\) at byte \d+ has an invalid VR "\\u0001\?"/)
    rejects(le(rawRequired(RAW_EXPLICIT_BE), rawElement(0x0020_0011, 'ZZ', '12', RAW_EXPLICIT_BE)), EXPLICIT_BE, /\(0020,0011\) at byte \d+ has an invalid VR "ZZ"/)
  })

  test('undefined length on a VR that may not have it', () => {
    rejects(le(base, rawHeader(0x0040_a160, 'UT', UNDEFINED_LENGTH)), EXPLICIT_LE, new RegExp(`element \\(0040,A160\\) \\(UT\\) at byte ${at} has undefined length, which only sequences and encapsulated pixel data may have`))
    rejects(le(base, rawHeader(0x0009_1010, 'OB', UNDEFINED_LENGTH), rawDelimiter(SEQUENCE_DELIMITER, 0)), EXPLICIT_LE, /\(0009,1010\) \(OB\) at byte \d+ has undefined length/)
    rejects(le(base, rawHeader(0x7fe0_0010, 'OF', UNDEFINED_LENGTH)), EXPLICIT_LE, /\(7FE0,0010\) \(OF\) at byte \d+ has undefined length/)
  })

  test('absurd lengths: 0xFFFFFFF0 on a text element, a length just past the end, a value past its container', () => {
    rejects(le(rawRequired(RAW_IMPLICIT_LE), rawHeader(0x0010_1010, 'AS', 0xfffffff0, RAW_IMPLICIT_LE), new TextEncoder().encode('042Y')),
      IMPLICIT_LE, /element \(0010,1010\) at byte \d+ claims 4294967280 bytes but the file ends at byte \d+/)
    rejects(le(base, rawHeader(0x0040_a160, 'UT', 0xfffffff0), new Uint8Array(4)), EXPLICIT_LE, /\(0040,A160\) at byte \d+ claims 4294967280 bytes but the file ends/)
    rejects(le(base, rawHeader(0x0010_4000, 'LT', 12), new Uint8Array(10)), EXPLICIT_LE, /\(0010,4000\) at byte \d+ claims 12 bytes but the file ends at byte \d+ \(truncated, or a corrupt length\)/)
    // An element that overruns its defined-length item, and an item that overruns its sequence.
    const element = rawElement(0x0008_0100, 'SH', 'CODE')
    rejects(le(base, rawHeader(0x0040_a730, 'SQ', 8 + element.length), rawDelimiter(ITEM, element.length - 2), element),
      EXPLICIT_LE, /\(0008,0100\) at byte \d+ claims 4 bytes, past the end of item of sequence \(0040,A730\)/)
    rejects(le(base, rawHeader(0x0040_a730, 'SQ', 8 + element.length), rawDelimiter(ITEM, element.length + 2), element, new Uint8Array(2)),
      EXPLICIT_LE, /\(FFFE,E000\) at byte \d+ claims \d+ bytes, past the end of sequence \(0040,A730\)/)
  })

  test('encapsulated pixel data: an undefined-length fragment, or an element where a fragment belongs', () => {
    rejects(le(base, rawHeader(0x7fe0_0010, 'OB', UNDEFINED_LENGTH), rawDelimiter(ITEM, UNDEFINED_LENGTH)), EXPLICIT_LE, /fragment of encapsulated pixel data \(7FE0,0010\) at byte \d+ has undefined length/)
    rejects(le(base, rawHeader(0x7fe0_0010, 'OB', UNDEFINED_LENGTH), rawElement(0x0008_0100, 'SH', 'X')), EXPLICIT_LE, /encapsulated pixel data \(7FE0,0010\) holds \(0008,0100\) at byte \d+ where a fragment item was expected/)
    rejects(le(base, rawHeader(0x0040_a730, 'SQ', UNDEFINED_LENGTH), rawElement(0x0008_0100, 'SH', 'X')), EXPLICIT_LE, /sequence \(0040,A730\) holds \(0008,0100\) at byte \d+ where an item was expected/)
  })

  test('nesting deeper than the limit (32 sequences)', () => {
    rejects(le(base, nestedSequences(33)), EXPLICIT_LE, /sequences nested more than 32 deep at byte \d+/)
  })

  test('sequences nested 32 deep, the limit, are accepted', () => {
    const dataset = le(base, nestedSequences(32))
    assert.equal(walk(dataset, EXPLICIT_LE), dataset.length)
  })

  test('truncation: inside a header, inside a value, inside an open sequence or item', () => {
    const element = rawElement(0x0010_4000, 'LT', 'some text')
    rejects(le(base, element.subarray(0, 5)), EXPLICIT_LE, new RegExp(`file ends inside an element header at byte ${at}`))
    rejects(le(base, element.subarray(0, element.length - 3)), EXPLICIT_LE, /claims 10 bytes but the file ends/)
    const openSequence = le(base, rawHeader(0x0040_a730, 'SQ', UNDEFINED_LENGTH), rawDelimiter(ITEM, UNDEFINED_LENGTH), rawElement(0x0008_0100, 'SH', 'X'))
    rejects(openSequence, EXPLICIT_LE, /file ends at byte \d+ inside item of sequence \(0040,A730\) \(truncated, or a delimiter is missing\)/)
    rejects(le(openSequence, rawDelimiter(ITEM_DELIMITER, 0)), EXPLICIT_LE, /file ends at byte \d+ inside sequence \(0040,A730\)/)
    // The walker checks lengths against the limit it was given, not only against what arrives.
    const walker = new DatasetWalker(0, base.length + 10, EXPLICIT_LE)
    walker.push(base)
    assert.throws(() => walker.finish(), /dataset ended at byte \d+, expected byte \d+/)
  })

  test('trailing bytes after the last element that do not form an element', () => {
    const valid = le(base, rawElement(0x7fe0_0010, 'OB', new Uint8Array(4)))
    rejects(le(valid, new Uint8Array([1, 2, 3])), EXPLICIT_LE, /file ends inside an element header at byte \d+/)
    rejects(le(valid, new TextEncoder().encode('GARBAGE!')), EXPLICIT_LE, /\(4147,4252\) at byte \d+ has an invalid VR "AG"/)
    rejects(le(valid, new Uint8Array(8)), EXPLICIT_LE, /\(0000,0000\) at byte \d+ cannot occur in a dataset/)
    rejects(le(rawRequired(RAW_IMPLICIT_LE), new TextEncoder().encode('GARBAGE!')), IMPLICIT_LE, /\(4147,4252\) at byte \d+ claims \d+ bytes but the file ends/)
  })

  test('trailing zero bytes after the last element in implicit VR are rejected', () => {
    const implicit = le(rawRequired(RAW_IMPLICIT_LE), rawElement(0x7fe0_0010, 'OW', new Uint8Array(4), RAW_IMPLICIT_LE))
    rejects(le(implicit, new Uint8Array(8)), IMPLICIT_LE, /element \(0000,0000\) at byte \d+ cannot occur in a dataset \(trailing garbage/)
  })

  test('a corrupt length inside a real file is caught at that element', () => {
    const file = build({ transferSyntaxUid: TS.implicitVrLittleEndian })
    const start = metaEnd(file)
    const at = findTag(file, 0x0010_0010)
    const damaged = file.slice()
    new DataView(damaged.buffer).setUint32(at + 4, 0xfffffff0, true)
    // Length errors name the offset of the value (after the 8-byte header), not of the element.
    assert.throws(() => walk(damaged.subarray(start), IMPLICIT_LE, undefined, start), new RegExp(`element \\(0010,0010\\) at byte ${at + 8} claims 4294967280 bytes`))
  })
})
