/**
 * The C-FIND identifier writer: values as stored whatever their VR's rules, tag order, padding,
 * the three uncompressed syntaxes; what cannot be written at all is left out and named.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IdentifierWriter, writeIdentifier, type IdentifierElement } from '../../../../node/dimse/identifier.ts'
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from '../../../../node/dimse/syntaxes.ts'

const date: IdentifierElement = { keyword: 'StudyDate', tag: 0x00080020, vr: 'DA', value: '1997.04.24' }
const level: IdentifierElement = { keyword: 'QueryRetrieveLevel', tag: 0x00080052, vr: 'CS', value: 'STUDY' }
const uid: IdentifierElement = { keyword: 'StudyInstanceUID', tag: 0x0020000d, vr: 'UI', value: '1.2.3' }

test('values go out as stored, in tag order, padded to even length', () => {
  const { bytes, dropped } = writeIdentifier([uid, level, date], EXPLICIT_LE)
  assert.deepEqual(dropped, [])
  assert.equal(bytes.toString('latin1'), '\x08\x00\x20\x00DA\x0a\x001997.04.24' + '\x08\x00\x52\x00CS\x06\x00STUDY ' + '\x20\x00\x0d\x00UI\x06\x001.2.3\x00')
  const implicit = writeIdentifier([date], IMPLICIT_LE).bytes
  assert.equal(implicit.toString('latin1'), '\x08\x00\x20\x00\x0a\x00\x00\x001997.04.24')
  const big = writeIdentifier([date, { keyword: 'Rows', tag: 0x00280010, vr: 'US', value: 512 }], EXPLICIT_BE).bytes
  assert.equal(big.toString('latin1'), '\x00\x08\x00\x20DA\x00\x0a1997.04.24' + '\x00\x28\x00\x10US\x00\x02\x02\x00')
})

test('an empty sequence, an unknown VR, and values that cannot be written', () => {
  const { bytes, dropped } = writeIdentifier([
    { keyword: 'ReferencedStudySequence', tag: 0x00081110, vr: 'SQ', value: 'sequence' },
    { keyword: 'PixelPaddingValue', tag: 0x00280120, vr: 'xs', value: '' },
    { keyword: 'StudyDescription', tag: 0x00081030, vr: 'LO', value: 'x'.repeat(70_000) },
    { keyword: 'Rows', tag: 0x00280010, vr: 'US', value: 70_000 },
    { keyword: 'Columns', tag: 0x00280011, vr: 'US', value: 'abc' }
  ], EXPLICIT_LE)
  assert.deepEqual(dropped.sort(), ['Columns', 'Rows', 'StudyDescription'])
  assert.equal(bytes.toString('latin1'), '\x08\x00\x10\x11SQ\x00\x00\x00\x00\x00\x00' + '\x28\x00\x20\x01US\x00\x00')
  // Implicit VR has 4-byte lengths: the long description fits there.
  assert.deepEqual(writeIdentifier([{ keyword: 'StudyDescription', tag: 0x00081030, vr: 'LO', value: 'x'.repeat(70_000) }], IMPLICIT_LE).dropped, [])
  assert.throws(() => writeIdentifier([date], '1.2.840.10008.1.2.4.50'), RangeError)
})

test('one writer for a whole answer: each row in tag order, undefined leaves an element out, multi-values, UTF-8 and the text "sequence"', () => {
  const columns = [uid, { keyword: 'StudyDescription', tag: 0x00081030, vr: 'LO' }, { keyword: 'ModalitiesInStudy', tag: 0x00080061, vr: 'CS' },
    { keyword: 'PatientName', tag: 0x00100010, vr: 'PN' }, { keyword: 'SpecificCharacterSet', tag: 0x00080005, vr: 'CS' }, { keyword: 'Rows', tag: 0x00280010, vr: 'US' }]
  const writer = new IdentifierWriter(columns, EXPLICIT_LE)
  const dropped: string[] = []
  const first = writer.write(['1.2.3', 'sequence', ['CT', 'MR'], 'Müller^Jürgen', 'ISO_IR 192', 512], dropped)
  assert.equal(first.toString('latin1'),
    '\x08\x00\x05\x00CS\x0a\x00ISO_IR 192' + '\x08\x00\x61\x00CS\x06\x00CT\\MR ' + '\x08\x00\x30\x10LO\x08\x00sequence' +
    '\x10\x00\x10\x00PN\x10\x00' + Buffer.from('Müller^Jürgen ', 'utf8').toString('latin1') + '\x20\x00\x0d\x00UI\x06\x001.2.3\x00' + '\x28\x00\x10\x00US\x02\x00\x00\x02')
  // The same writer, the next row: no character set, an empty description, a Rows that cannot be written.
  const second = writer.write(['1.2.44', '', [], 'DOE^J', undefined, 'abc'], dropped)
  assert.equal(second.toString('latin1'),
    '\x08\x00\x61\x00CS\x00\x00' + '\x08\x00\x30\x10LO\x00\x00' + '\x10\x00\x10\x00PN\x06\x00DOE^J ' + '\x20\x00\x0d\x00UI\x06\x001.2.44')
  assert.deepEqual(dropped, ['Rows'])
  // The function and the writer agree.
  const elements = columns.map((c, i) => ({ ...c, value: ['1.2.3', 'sequence', ['CT', 'MR'], 'Müller^Jürgen', 'ISO_IR 192', 512][i]! }))
  assert.deepEqual(writeIdentifier(elements, EXPLICIT_LE).bytes, first)
})
