/**
 * node/dicom/part10-inspector.ts (with file-meta.ts and instance-header.ts behind it): every
 * synthetic instance passes whole, in random pieces and byte by byte, with the right UIDs and
 * patient, and its header is known before the pixel data has arrived. Malformed input of every
 * kind — not DICOM, broken meta, missing or invalid UIDs, DICOMDIR, bad deflate, truncation at
 * every byte, 300 seeded mutations — ends in NotDicomError or InvalidDicomError saying what and
 * where, never another exception.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidDicomError, NotAnInstanceError, NotDicomError } from '../../../node/dicom/errors.ts'
import type { InstanceHeader } from '../../../node/dicom/instance-header.ts'
import { Part10Inspector } from '../../../node/dicom/part10-inspector.ts'
import { isDeflated } from '../../../node/dicom/transfer-syntax.ts'
import { KNOWN_PATIENTS, syntheticStudy, type SyntheticInstance } from '../../synthetic/study.ts'
import { writePart10, type DicomElement } from '../../synthetic/part10-writer.ts'
import {
  build, concat, CT_IMAGE, e, fileWithDataset, findTag, ITEM, MEDIA_STORAGE_DIRECTORY, PATIENT, rawDelimiter, rawElement,
  rawHeader, rawRequired, RAW_IMPLICIT_LE, requiredElements, SEQUENCE_DELIMITER, sequences, smallImage, TS, UIDS, withDataset
} from './helpers/dicom.ts'
import { randomPieces, seeded, type Seeded } from './helpers/seeded.ts'

function inspect (file: Uint8Array, pieces: Uint8Array[] = [file]): InstanceHeader {
  const inspector = new Part10Inspector(file.length)
  for (const piece of pieces) inspector.push(piece)
  return inspector.finish()
}

type Verdict = { ok: true, header: InstanceHeader } | { ok: false, error: unknown }

function verdict (file: Uint8Array, pieces?: Uint8Array[]): Verdict {
  try {
    return { ok: true, header: inspect(file, pieces) }
  } catch (error) {
    return { ok: false, error }
  }
}

function isDicomError (error: unknown): boolean {
  return error instanceof NotDicomError || error instanceof NotAnInstanceError || error instanceof InvalidDicomError
}

function rejects (file: Uint8Array, type: typeof NotDicomError | typeof NotAnInstanceError | typeof InvalidDicomError, pattern: RegExp, what = ''): void {
  for (const pieces of [[file], randomPieces(file, seeded(file.length), 64)]) {
    assert.throws(() => inspect(file, pieces), (error: unknown) => {
      assert.ok(error instanceof type, `${what}: expected ${type.name}, got ${String(error)}`)
      assert.match((error as Error).message, pattern, what)
      return true
    }, what)
  }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const without = (tag: number): DicomElement[] => [...requiredElements().filter((el) => el.tag !== tag), ...smallImage()]
const withUid = (tag: number, uid: string): DicomElement[] => [...without(tag), e(tag, 'UI', uid)]

/** Preamble, "DICM" and raw meta elements, with a group length unless told otherwise. */
function metaFile (elements: Uint8Array[], dataset: Uint8Array, groupLength = true): Uint8Array {
  const body = concat(...elements)
  const length = new Uint8Array(4)
  new DataView(length.buffer).setUint32(0, body.length, true)
  return concat(new Uint8Array(128), text('DICM'), groupLength ? rawElement(0x0002_0000, 'UL', length) : new Uint8Array(0), body, dataset)
}

const META_VERSION = rawElement(0x0002_0001, 'OB', new Uint8Array([0, 1]))
const META_CLASS = rawElement(0x0002_0002, 'UI', CT_IMAGE)
const META_INSTANCE = rawElement(0x0002_0003, 'UI', UIDS.sopInstance)
const META_TS = rawElement(0x0002_0010, 'UI', TS.explicitVrLittleEndian)

describe('Part10Inspector on valid instances', () => {
  const study = syntheticStudy({ seed: 92, profile: 'mixed' })

  function checkHeader (header: InstanceHeader, instance: SyntheticInstance): void {
    const where = `${instance.relativePath} (${instance.transferSyntaxUid})`
    assert.equal(header.sopInstanceUid, instance.sopInstanceUid, where)
    assert.equal(header.studyInstanceUid, instance.studyInstanceUid, where)
    assert.equal(header.seriesInstanceUid, instance.seriesInstanceUid, where)
    assert.equal(header.sopClassUid, instance.sopClassUid, where)
    assert.equal(header.transferSyntaxUid, instance.transferSyntaxUid, where)
    assert.equal(header.patientName, KNOWN_PATIENTS[0]!.name, where)
    assert.equal(header.patientId, KNOWN_PATIENTS[0]!.id, where)
    assert.equal(header.modality, instance.modality, where)
    if (instance.numberOfFrames > 1) assert.equal(header.numberOfFrames, instance.numberOfFrames, where)
  }

  test('the mixed study covers every encoding the inspector must accept', () => {
    const syntaxes = new Set(study.map((i) => i.transferSyntaxUid))
    for (const ts of [TS.implicitVrLittleEndian, TS.explicitVrLittleEndian, TS.explicitVrBigEndian, TS.deflatedExplicitVrLittleEndian, TS.rleLossless]) {
      assert.ok(syntaxes.has(ts), ts)
    }
  })

  test('every instance passes fed whole, with the right UIDs and patient', () => {
    for (const instance of study) {
      const inspector = new Part10Inspector(instance.bytes.length)
      inspector.push(instance.bytes)
      assert.equal(inspector.transferSyntaxUid, instance.transferSyntaxUid)
      checkHeader(inspector.finish(), instance)
    }
  })

  test('every instance gives the same header fed in random-size pieces', () => {
    const rng = seeded(93)
    for (const instance of study) {
      const whole = inspect(instance.bytes)
      for (const max of [7, 300, 5000]) {
        assert.deepEqual(inspect(instance.bytes, randomPieces(instance.bytes, rng, max)), whole, `${instance.relativePath}, pieces ≤ ${max}`)
      }
    }
  })

  test('small instances fed one byte at a time', () => {
    const small = [...study].sort((a, b) => a.bytes.length - b.bytes.length).slice(0, 2)
    assert.ok(small.some((i) => isDeflated(i.transferSyntaxUid)), 'the smallest include the deflated one')
    for (const instance of small) {
      checkHeader(inspect(instance.bytes, randomPieces(instance.bytes, seeded(94), 1)), instance)
    }
    const built = build({ elements: [...requiredElements(), ...sequences(), ...smallImage()] })
    const header = inspect(built, randomPieces(built, seeded(95), 1))
    assert.equal(header.patientName, PATIENT)
    assert.equal(header.studyInstanceUid, UIDS.study)
  })

  test('the header is known before the end for files with pixel data (deflated: only at the end)', () => {
    for (const instance of study) {
      const inspector = new Part10Inspector(instance.bytes.length)
      let knownAt: number | undefined
      for (const piece of randomPieces(instance.bytes, seeded(96), 256)) {
        inspector.push(piece)
        if (knownAt === undefined && inspector.header !== undefined) knownAt = piece.byteOffset + piece.length
      }
      const final = inspector.finish()
      if (isDeflated(instance.transferSyntaxUid)) {
        assert.equal(knownAt, undefined, 'a deflated header is only read at the end')
        continue
      }
      assert.ok(knownAt !== undefined && knownAt < instance.bytes.length, `${instance.relativePath}: header only at the end`)
      // At most one piece past the start of Pixel Data.
      const pixelDataAt = Buffer.from(instance.bytes).lastIndexOf(Buffer.from(instance.transferSyntaxUid === TS.explicitVrBigEndian ? [0x7f, 0xe0, 0x00, 0x10] : [0xe0, 0x7f, 0x10, 0x00]))
      assert.ok(knownAt <= pixelDataAt + 12 + 256, `${instance.relativePath}: header known at ${knownAt}, pixel data at ${pixelDataAt}`)
      assert.deepEqual(final, inspector.header)
      checkHeader(final, instance)
    }
  })

  test('optional attributes are read when present, and absent when not', () => {
    const header = inspect(build({ elements: [...requiredElements(), ...smallImage(), e(0x0020_0013, 'IS', ['7']), e(0x0008_1030, 'LO', 'DESC')] }))
    assert.equal(header.instanceNumber, 7)
    assert.equal(header.studyDescription, 'DESC')
    assert.equal(header.rows, 4)
    assert.equal(header.columns, 4)
    assert.equal(header.accessionNumber, undefined)
    assert.ok(!('accessionNumber' in header))
  })
})

describe('Part10Inspector: not DICOM', () => {
  const valid = build()

  test('empty, too short, or no "DICM" at byte 128 → NotDicomError', () => {
    rejects(new Uint8Array(0), NotDicomError, /file of 0 bytes is too short to be DICOM Part 10/)
    rejects(valid.subarray(0, 131), NotDicomError, /file of 131 bytes is too short/)
    const misspelled = valid.slice()
    misspelled[131] = 0x4e // "DICN"
    rejects(misspelled, NotDicomError, /no "DICM" marker at byte 128/)
    const lower = valid.slice()
    lower.set(text('dicm'), 128)
    rejects(lower, NotDicomError, /no "DICM" marker at byte 128/)
    rejects(valid.subarray(128), NotDicomError, /no "DICM" marker at byte 128/, 'no preamble')
    rejects(concat(new Uint8Array(4), valid), NotDicomError, /no "DICM" marker/, 'shifted by 4 bytes')
    rejects(text('%PDF-1.7\n' + 'x'.repeat(400)), NotDicomError, /no "DICM" marker/)
  })
})

describe('Part10Inspector: broken file meta', () => {
  test('no file meta after the marker → InvalidDicomError', () => {
    rejects(concat(new Uint8Array(128), text('DICM'), rawRequired()), InvalidDicomError, /no file meta information after the DICM marker: found \(0008,0016\) at byte 132/)
  })

  test('no Transfer Syntax UID, or an empty one → InvalidDicomError naming (0002,0010)', () => {
    const dataset = rawRequired()
    rejects(metaFile([META_VERSION, META_CLASS, META_INSTANCE], dataset), InvalidDicomError, /no Transfer Syntax UID \(0002,0010\)/, 'with group length')
    rejects(metaFile([META_VERSION, META_CLASS, META_INSTANCE], dataset, false), InvalidDicomError, /no Transfer Syntax UID \(0002,0010\)/, 'without group length')
    rejects(metaFile([META_CLASS, rawElement(0x0002_0010, 'UI', '')], dataset), InvalidDicomError, /no Transfer Syntax UID \(0002,0010\)/, 'empty')
    // Without a group length the meta may end with the file; the verdict is the same.
    rejects(metaFile([META_CLASS], new Uint8Array(0), false), InvalidDicomError, /no Transfer Syntax UID/)
  })

  test('a meta without group length is fine when the rest is', () => {
    const header = inspect(metaFile([META_VERSION, META_CLASS, META_INSTANCE, META_TS], rawRequired(), false))
    assert.equal(header.sopInstanceUid, UIDS.sopInstance)
  })

  test('absurd lengths in the meta: huge odd, past the end, past the group', () => {
    const dataset = rawRequired()
    rejects(metaFile([rawHeader(0x0002_0001, 'OB', 0x00ff_ffff), new Uint8Array(2), META_TS], dataset), InvalidDicomError,
      /file meta element \(0002,0001\) claims 16777215 bytes, more than file meta information allows/)
    rejects(metaFile([rawHeader(0x0002_0001, 'OB', 0xffff_fff1), new Uint8Array(2), META_TS], dataset), InvalidDicomError,
      /file meta element \(0002,0001\) claims 4294967281 bytes/)
    rejects(metaFile([META_VERSION, rawHeader(0x0002_0010, 'UI', 0xfff1), text(TS.explicitVrLittleEndian)], new Uint8Array(0), false), InvalidDicomError,
      /file meta element \(0002,0010\) at byte \d+ claims 65521 bytes but the file ends at byte \d+/)
    // The group length says the group ends in the middle of an element.
    const file = metaFile([META_VERSION, META_TS], dataset)
    new DataView(file.buffer).setUint32(140, 12, true)
    rejects(file, InvalidDicomError, /file meta group length \(0002,0000\) ends the group at byte \d+, inside the element that ends at byte \d+/)
    const far = metaFile([META_VERSION, META_TS], dataset)
    new DataView(far.buffer).setUint32(140, 0xffff_fff0, true)
    rejects(far, InvalidDicomError, /file meta group length \(0002,0000\) reaches byte \d+, past the end of the file/)
  })

  test('a group length that is not a 4-byte UL, an invalid VR, a meta cut short', () => {
    rejects(concat(new Uint8Array(128), text('DICM'), rawElement(0x0002_0000, 'UL', new Uint8Array(2)), META_TS, rawRequired()), InvalidDicomError,
      /group length \(0002,0000\) is not a 4-byte UL/)
    rejects(metaFile([META_VERSION, rawElement(0x0002_0010, 'XX', TS.explicitVrLittleEndian)], rawRequired()), InvalidDicomError,
      /file meta element \(0002,0010\) at byte \d+ has an invalid VR "XX"/)
    const valid = build()
    rejects(valid.subarray(0, 200), InvalidDicomError, /file meta group length \(0002,0000\) reaches byte \d+, past the end of the file \(200 bytes\)/)
    rejects(metaFile([META_VERSION, META_TS], new Uint8Array(0), false).subarray(0, 150), InvalidDicomError, /file ends at byte 150 inside the file meta information|claims \d+ bytes but the file ends at byte 150/)
  })
})

describe('Part10Inspector: required attributes and UIDs', () => {
  test('a missing StudyInstanceUID or SeriesInstanceUID → InvalidDicomError naming it', () => {
    const cases: Array<[number, RegExp]> = [
      [0x0020_000d, /missing StudyInstanceUID \(0020,000D\)/],
      [0x0020_000e, /missing SeriesInstanceUID \(0020,000E\)/]
    ]
    for (const [tag, pattern] of cases) {
      for (const ts of [TS.explicitVrLittleEndian, TS.implicitVrLittleEndian, TS.explicitVrBigEndian, TS.deflatedExplicitVrLittleEndian]) {
        rejects(build({ transferSyntaxUid: ts, elements: without(tag) }), InvalidDicomError, pattern, `${pattern.source} in ${ts}`)
      }
    }
  })

  test('SOPClassUID or SOPInstanceUID missing from both the dataset and the file meta → InvalidDicomError naming it', () => {
    // The file meta here has only a Transfer Syntax UID (no Media Storage SOP Class/Instance UID).
    const dataset = (tag: number): Uint8Array => concat(...[0x0008_0016, 0x0008_0018, 0x0020_000d, 0x0020_000e].filter((t) => t !== tag).map((t) =>
      rawElement(t, 'UI', t === 0x0008_0016 ? CT_IMAGE : t === 0x0008_0018 ? UIDS.sopInstance : t === 0x0020_000d ? UIDS.study : UIDS.series)))
    rejects(metaFile([META_VERSION, META_TS], dataset(0x0008_0016)), InvalidDicomError, /missing SOPClassUID \(0008,0016\)/)
    rejects(metaFile([META_VERSION, META_TS], dataset(0x0008_0018)), InvalidDicomError, /missing SOPInstanceUID \(0008,0018\)/)
  })

  test('an empty UID counts as missing', () => {
    rejects(build({ elements: withUid(0x0020_000d, '') }), InvalidDicomError, /missing StudyInstanceUID \(0020,000D\)/)
  })

  test('invalid UIDs: letters, too long, empty components → InvalidDicomError naming the attribute', () => {
    const bad = ['1.2.abc.4', '1.2.840.10008.5.1.4.1.1.2.X', 'abc.1', '1'.repeat(65), `1.${'2'.repeat(63)}`, '1..2', '.1.2', '1.2.']
    for (const uid of bad) {
      rejects(build({ elements: withUid(0x0020_000d, uid) }), InvalidDicomError, /StudyInstanceUID \(0020,000D\) is not a valid UID \(digits and dots, at most 64 characters\)/, uid)
      rejects(build({ elements: withUid(0x0008_0018, uid) }), InvalidDicomError, /SOPInstanceUID \(0008,0018\) is not a valid UID/, uid)
    }
    // 64 characters is the limit, not past it.
    const longest = `1.${'2'.repeat(62)}`
    assert.equal(longest.length, 64)
    assert.equal(inspect(build({ elements: withUid(0x0020_000d, longest) })).studyInstanceUid, longest)
  })

  test('UIDs with characters dcmjs strips (letters, "-", spaces, a second value) → InvalidDicomError, not a different UID', {
  }, () => {
    const laundered: string[] = []
    for (const uid of ['1.2.3a', '1.2-3', '1.2 3', '1.2.3\\4.5', '1.2.3a4']) {
      const result = verdict(build({ elements: withUid(0x0020_000d, uid) }))
      if (result.ok) laundered.push(`${JSON.stringify(uid)} accepted as ${JSON.stringify(result.header.studyInstanceUid)}`)
    }
    assert.deepEqual(laundered, [])
  })

  test('a DICOMDIR (SOP class 1.2.840.10008.1.3.10) → NotAnInstanceError saying so (skipped, not rejected)', () => {
    const elements = [e(0x0008_0016, 'UI', MEDIA_STORAGE_DIRECTORY), ...without(0x0008_0016)]
    rejects(build({ sopClassUid: MEDIA_STORAGE_DIRECTORY, elements }), NotAnInstanceError, /a DICOMDIR \(the index of a DICOM medium\), not an instance/)
  })

  test('a real DICOMDIR (SOP class only in the file meta, no SOP Common attributes) is named as a DICOMDIR', {
  }, () => {
    const dicomdir = writePart10({
      sopClassUid: MEDIA_STORAGE_DIRECTORY, sopInstanceUid: '1.2.3.4.5', transferSyntaxUid: TS.explicitVrLittleEndian,
      elements: [e(0x0004_1130, 'CS', 'CDROM'), e(0x0004_1200, 'UL', [0]), e(0x0004_1202, 'UL', [0]), e(0x0004_1212, 'US', [0]), e(0x0004_1220, 'SQ', [])]
    })
    rejects(dicomdir, NotAnInstanceError, /a DICOMDIR \(the index of a DICOM medium\)/)
  })
})

describe('Part10Inspector: structure and deflate', () => {
  test('structural errors from the walker come through with what and where', () => {
    const ts = TS.explicitVrLittleEndian
    const base = rawRequired()
    rejects(fileWithDataset(ts, concat(base, rawDelimiter(ITEM, 0))), InvalidDicomError, /item tag \(FFFE,E000\) at byte \d+ outside any sequence/)
    rejects(fileWithDataset(ts, concat(base, rawDelimiter(SEQUENCE_DELIMITER, 0))), InvalidDicomError, /sequence delimiter \(FFFE,E0DD\) at byte \d+ does not close anything open/)
    rejects(fileWithDataset(ts, concat(base, rawElement(0x0020_0011, 'QQ', '1'))), InvalidDicomError, /\(0020,0011\) at byte \d+ has an invalid VR "QQ"/)
    rejects(fileWithDataset(ts, concat(base, rawHeader(0x0040_a160, 'UT', 0xffff_ffff))), InvalidDicomError, /\(0040,A160\) \(UT\) at byte \d+ has undefined length/)
    rejects(fileWithDataset(ts, concat(base, rawHeader(0x0040_a160, 'UT', 0xffff_fff0), text('abcd'))), InvalidDicomError, /\(0040,A160\) at byte \d+ claims 4294967280 bytes but the file ends/)
  })

  test('absurd lengths inside real files: 0xFFFFFFF0 on PatientName (implicit LE), one byte past the end', () => {
    const implicit = build({ transferSyntaxUid: TS.implicitVrLittleEndian })
    const at = findTag(implicit, 0x0010_0010)
    const huge = implicit.slice()
    new DataView(huge.buffer).setUint32(at + 4, 0xffff_fff0, true)
    rejects(huge, InvalidDicomError, /element \(0010,0010\) at byte \d+ claims 4294967280 bytes but the file ends at byte \d+/)
    const explicit = build()
    const pixel = findTag(explicit, 0x7fe0_0010)
    const past = explicit.slice()
    new DataView(past.buffer).setUint32(pixel + 8, explicit.length - pixel - 12 + 1, true)
    rejects(past, InvalidDicomError, /element \(7FE0,0010\) at byte \d+ claims 33 bytes but the file ends/)
  })

  test('nesting deeper than the limit → InvalidDicomError', () => {
    const nested: Uint8Array[] = []
    for (let i = 0; i < 33; i++) nested.push(rawHeader(0x0040_a730, 'SQ', 0xffff_ffff), rawDelimiter(ITEM, 0xffff_ffff))
    rejects(fileWithDataset(TS.explicitVrLittleEndian, concat(rawRequired(), ...nested)), InvalidDicomError, /sequences nested more than 32 deep at byte \d+/)
  })

  test('trailing bytes after the last element → InvalidDicomError', () => {
    const valid = build()
    rejects(concat(valid, text('GARBAGE!')), InvalidDicomError, /\(4147,4252\) at byte \d+ has an invalid VR "AG"/)
    rejects(concat(valid, new Uint8Array(3)), InvalidDicomError, new RegExp(`file ends inside an element header at byte ${valid.length}`))
    rejects(concat(build({ transferSyntaxUid: TS.implicitVrLittleEndian }), text('GARBAGE!')), InvalidDicomError, /claims \d+ bytes but the file ends/)
  })

  test('a deflated dataset that does not inflate → InvalidDicomError', () => {
    const deflated = build({ transferSyntaxUid: TS.deflatedExplicitVrLittleEndian })
    rejects(withDataset(deflated, new Uint8Array(100).fill(0xab)), InvalidDicomError, /deflated dataset does not inflate/)
    rejects(deflated.subarray(0, deflated.length - 5), InvalidDicomError, /deflated dataset does not inflate/)
    rejects(withDataset(deflated, new Uint8Array(0)), InvalidDicomError, /deflated dataset does not inflate|missing SOPClassUID/)
    // Inflates, but what comes out is broken.
    rejects(fileWithDataset(TS.deflatedExplicitVrLittleEndian, concat(rawRequired(), rawDelimiter(ITEM, 0)), true), InvalidDicomError, /item tag \(FFFE,E000\) at byte \d+ outside any sequence/)
  })

  test('bytes after the end of the deflate stream → InvalidDicomError', {
  }, () => {
    rejects(concat(build({ transferSyntaxUid: TS.deflatedExplicitVrLittleEndian }), text('GARBAGE!')), InvalidDicomError, /./)
  })

  test('more bytes than announced, or fewer → InvalidDicomError', () => {
    const valid = build()
    const grew = new Part10Inspector(valid.length - 1)
    assert.throws(() => grew.push(valid), /file grew while it was being read \(more than \d+ bytes\)/)
    const shrank = new Part10Inspector(valid.length + 10)
    shrank.push(valid)
    assert.throws(() => shrank.finish(), (error: unknown) => error instanceof InvalidDicomError && /file changed while it was being read: \d+ bytes read, \d+ expected/.test(error.message))
  })
})

describe('Part10Inspector: truncation at every byte length', () => {
  /** Offsets where each top-level element of the written dataset ends, from files of growing prefixes of `elements`. */
  function topLevelBoundaries (ts: string, elements: DicomElement[]): number[] {
    const sorted = [...elements].sort((a, b) => a.tag - b.tag)
    return sorted.map((_, i) => build({ transferSyntaxUid: ts, elements: sorted.slice(0, i + 1) }).length)
  }

  const cases: Array<[string, string, DicomElement[]]> = [
    ['small implicit LE', TS.implicitVrLittleEndian, [...requiredElements(), ...smallImage()]],
    ['explicit LE with sequences', TS.explicitVrLittleEndian, [...requiredElements(), ...sequences(), ...smallImage()]]
  ]
  for (const [label, ts, elements] of cases) {
    test(`${label}: every shorter length throws, except a few top-level boundaries after the required attributes`, () => {
      const file = build({ transferSyntaxUid: ts, elements })
      assert.equal(inspect(file).patientName, PATIENT)
      const boundaries = topLevelBoundaries(ts, elements)
      assert.equal(boundaries.at(-1), file.length)
      const series = [...elements].sort((a, b) => a.tag - b.tag).findIndex((el) => el.tag === 0x0020_000e)
      const allowed = new Set(boundaries.slice(series, -1))
      const parsed: number[] = []
      for (let length = 0; length < file.length; length++) {
        const truncated = file.subarray(0, length)
        const result = verdict(truncated)
        if (result.ok) {
          parsed.push(length)
          // Consistent: the attributes that were there are read right.
          assert.equal(result.header.sopInstanceUid, UIDS.sopInstance)
          assert.equal(result.header.studyInstanceUid, UIDS.study)
          assert.equal(result.header.seriesInstanceUid, UIDS.series)
        } else {
          assert.ok(isDicomError(result.error), `length ${length}: ${String(result.error)}`)
          assert.equal(result.error instanceof NotDicomError, length < 132, `length ${length}: ${String(result.error)}`)
          assert.ok((result.error as Error).message.length > 10)
        }
      }
      for (const length of parsed) assert.ok(allowed.has(length), `length ${length} parsed but is not a top-level element boundary after (0020,000E)`)
      assert.ok(parsed.length <= allowed.size && parsed.length <= 12, `${parsed.length} truncated lengths parsed`)
    })
  }

  test('a truncated file fed in pieces gets the same verdict as fed whole', () => {
    const file = build({ transferSyntaxUid: TS.explicitVrLittleEndian, elements: [...requiredElements(), ...sequences(), ...smallImage()] })
    const rng = seeded(97)
    for (let round = 0; round < 200; round++) {
      const truncated = file.subarray(0, rng.int(0, file.length - 1))
      const whole = verdict(truncated)
      const pieces = verdict(truncated, randomPieces(truncated, rng, 40))
      assert.equal(pieces.ok, whole.ok, `length ${truncated.length}`)
      if (!whole.ok && !pieces.ok) assert.equal((pieces.error as Error).name, (whole.error as Error).name)
    }
  })
})

describe('Part10Inspector: fuzz', () => {
  const sources: Array<[string, Uint8Array]> = [
    ...syntheticStudy({ seed: 98, profile: 'mixed' })
      .filter((i) => i.bytes.length < 20_000)
      .map((i): [string, Uint8Array] => [i.relativePath, i.bytes]),
    ...[TS.implicitVrLittleEndian, TS.explicitVrLittleEndian, TS.explicitVrBigEndian, TS.deflatedExplicitVrLittleEndian].map((ts): [string, Uint8Array] =>
      [`built ${ts}`, build({ transferSyntaxUid: ts, elements: [...requiredElements(), ...sequences(), ...smallImage()] })]),
    ['built UN sequence', fileWithDataset(TS.implicitVrLittleEndian, concat(rawRequired(RAW_IMPLICIT_LE), rawHeader(0x0029_1010, 'UN', 0xffff_ffff, RAW_IMPLICIT_LE), rawDelimiter(ITEM, 8), rawElement(0x0029_0010, 'LO', 'ab', RAW_IMPLICIT_LE), rawDelimiter(SEQUENCE_DELIMITER, 0)))]
  ]

  /** Offsets of length fields of elements we know are in the files (tag + 4, + 6 or + 8). */
  function lengthFields (file: Uint8Array): number[] {
    const tags = [0x0002_0000, 0x0002_0010, 0x0008_0016, 0x0008_0018, 0x0008_1032, 0x0008_1140, 0x0010_0010, 0x0020_000d, 0x7fe0_0010, 0xfffe_e000, 0xfffe_e00d, 0xfffe_e0dd]
    const out: number[] = []
    for (const tag of tags) {
      for (const little of [true, false]) {
        const b = Buffer.alloc(4)
        if (little) { b.writeUInt16LE(tag >>> 16, 0); b.writeUInt16LE(tag & 0xffff, 2) } else { b.writeUInt16BE(tag >>> 16, 0); b.writeUInt16BE(tag & 0xffff, 2) }
        for (let at = Buffer.from(file).indexOf(b); at >= 0; at = Buffer.from(file).indexOf(b, at + 1)) out.push(at + 4, at + 6, at + 8)
      }
    }
    return out.filter((at) => at + 4 <= file.length)
  }

  function mutate (file: Uint8Array, rng: Seeded): { bytes: Uint8Array, how: string } {
    let bytes: Uint8Array = file.slice()
    const steps: string[] = []
    for (let n = rng.int(1, 3); n > 0; n--) {
      const kind = rng.pick(['flip', 'flip', 'length', 'length', 'truncate', 'insert', 'delete', 'duplicate'] as const)
      if (bytes.length === 0) break
      if (kind === 'flip') {
        const at = rng.int(0, bytes.length - 1)
        bytes[at] = bytes[at]! ^ rng.int(1, 255)
        steps.push(`flip@${at}`)
      } else if (kind === 'length') {
        const fields = lengthFields(bytes)
        const at = fields.length > 0 ? rng.pick(fields) : rng.int(0, Math.max(0, bytes.length - 4))
        if (at + 4 > bytes.length) continue
        const value = rng.pick([0, 1, 2, 0xffff, 0xffff_ffff, 0xffff_fff0, 0x8000_0000, rng.int(0, 0xffff_ffff), rng.int(0, 64), bytes.length - at])
        const view = new DataView(bytes.buffer)
        if (rng.int(0, 1) === 0) view.setUint32(at, value >>> 0, rng.int(0, 1) === 0)
        else view.setUint16(at, value & 0xffff, rng.int(0, 1) === 0)
        steps.push(`length@${at}=${value}`)
      } else if (kind === 'truncate') {
        const length = rng.int(0, bytes.length - 1)
        bytes = bytes.slice(0, length)
        steps.push(`truncate@${length}`)
      } else if (kind === 'insert') {
        const at = rng.int(0, bytes.length)
        const extra = rng.bytes(rng.int(1, 16))
        bytes = concat(bytes.subarray(0, at), extra, bytes.subarray(at))
        steps.push(`insert@${at}+${extra.length}`)
      } else if (kind === 'delete') {
        const at = rng.int(0, bytes.length - 1)
        const n = rng.int(1, 64)
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + n))
        steps.push(`delete@${at}-${n}`)
      } else {
        const at = rng.int(0, bytes.length - 1)
        const n = rng.int(1, 64)
        bytes = concat(bytes.subarray(0, at + n), bytes.subarray(at, at + n), bytes.subarray(at + n))
        steps.push(`duplicate@${at}+${n}`)
      }
    }
    return { bytes, how: steps.join(' ') }
  }

  test('300 seeded mutations: a header, or NotDicomError/InvalidDicomError — never another exception', { timeout: 180_000 }, () => {
    const rng = seeded(99)
    const tally = { ok: 0, notDicom: 0, invalid: 0 }
    const strays: string[] = []
    for (let round = 0; round < 300; round++) {
      const [name, source] = rng.pick(sources)
      const { bytes, how } = mutate(source, rng)
      const whole = verdict(bytes)
      const pieces = verdict(bytes, randomPieces(bytes, rng, 500))
      for (const result of [whole, pieces]) {
        if (result.ok) continue
        if (!isDicomError(result.error)) strays.push(`round ${round}, ${name}, ${how}: ${String(result.error)}`)
      }
      if (whole.ok !== pieces.ok) strays.push(`round ${round}, ${name}, ${how}: whole ${whole.ok ? 'ok' : 'failed'}, in pieces ${pieces.ok ? 'ok' : 'failed'}`)
      else if (whole.ok && pieces.ok && JSON.stringify(whole.header) !== JSON.stringify(pieces.header)) strays.push(`round ${round}, ${name}, ${how}: headers differ whole vs in pieces`)
      if (whole.ok) tally.ok++
      else if (whole.error instanceof NotDicomError) tally.notDicom++
      else tally.invalid++
    }
    assert.deepEqual(strays, [])
    // The mutations did reach the parser: most are rejected, some survive (a flipped pixel).
    assert.ok(tally.invalid > 100, JSON.stringify(tally))
    assert.ok(tally.ok > 0, JSON.stringify(tally))
  })
})
