// The Part 10 writer, judged by dcmtk: one element of every supported VR, nested sequences of
// both length encodings, odd-length padding, in each native transfer syntax.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePart10, TRANSFER_SYNTAX as TS, type DicomElement, type Part10Input } from './part10-writer.ts';
import { dcmdump, readWithDcmjs, tempDir } from './dcmtk.ts';

const tmp = tempDir();
after(tmp.remove);

const e = (tag: number, vr: string, value: DicomElement['value']): DicomElement => ({ tag, vr, value });

const ALL_VRS: DicomElement[] = [
  e(0x0008_0005, 'CS', 'ISO_IR 100'),
  e(0x0008_0016, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
  e(0x0008_0018, 'UI', '2.25.1234567'), // odd length: padded with NUL
  e(0x0008_0020, 'DA', '20240315'),
  e(0x0008_002a, 'DT', '20240315101500.25'),
  e(0x0008_0030, 'TM', '101500'),
  e(0x0008_0054, 'AE', 'PEERPACS'),
  e(0x0008_0060, 'CS', 'OT'),
  e(0x0008_1030, 'LO', 'Odd'), // odd length: padded with a space
  e(0x0008_1140, 'SQ', [[
    e(0x0008_1150, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    e(0x0008_1155, 'UI', '2.25.99'),
    { ...e(0x0040_a170, 'SQ', [[e(0x0008_0100, 'SH', '121311'), e(0x0008_0102, 'SH', 'DCM')], []]), undefinedLength: true },
  ]]),
  e(0x0008_2111, 'ST', 'Short text'),
  e(0x0010_0010, 'PN', 'ZZMÜLLER^JÖRG'),
  e(0x0010_1010, 'AS', '047Y'),
  e(0x0018_0013, 'FL', [1.5, -2.25]),
  e(0x0018_1009, 'UT', 'Unlimited text'),
  e(0x0018_6016, 'UL', [123456]),
  e(0x0018_6020, 'SL', [-70000]),
  e(0x0018_602c, 'FD', [0.0275]),
  e(0x0018_9219, 'SS', [-5]),
  e(0x0020_0013, 'IS', ['7']),
  e(0x0020_0032, 'DS', ['-1.5', '2', '3']),
  e(0x0020_4000, 'LT', 'Long text'),
  e(0x0028_0009, 'AT', [0x0018_1063]),
  e(0x0028_0010, 'US', [1]),
  e(0x0028_0011, 'US', [2]),
  e(0x0042_0011, 'OB', new Uint8Array([1, 2, 3])), // odd length: padded with 0
  e(0x7fe0_0010, 'OW', new Uint8Array([0x34, 0x12, 0x78, 0x56])), // words 0x1234, 0x5678
];

const EXPECTED_LINES = [
  /\(0008,0018\) UI \[2\.25\.1234567\]\s+# +12, 1 SOPInstanceUID/,
  /\(0008,002a\) DT \[20240315101500\.25 \]/, // odd: space-padded
  /\(0008,1155\) UI \[2\.25\.99\x00\]/, // odd: NUL-padded
  /\(0008,0054\) AE \[PEERPACS\]/,
  /\(0008,1030\) LO \[Odd \]\s+# +4, 1/,
  /\(0008,1140\) SQ \(Sequence with explicit length #=1\)/,
  /\(0040,a170\) SQ \(Sequence with undefined length #=2\)/,
  /\(0008,0100\) SH \[121311\]/,
  /\(0008,2111\) ST \[Short text\]/,
  /\(0010,0010\) PN \[ZZMÜLLER\^JÖRG \]/, // 13 Latin-1 bytes, padded
  /\(0010,1010\) AS \[047Y\]/,
  /\(0018,0013\) FL 1\.5\\-2\.25/,
  /\(0018,1009\) UT \[Unlimited text\]/,
  /\(0018,6016\) UL 123456/,
  /\(0018,6020\) SL -70000/,
  /\(0018,602c\) FD 0\.0275/,
  /\(0018,9219\) SS -5/,
  /\(0020,0013\) IS \[7 \]/,
  /\(0020,0032\) DS \[-1\.5\\2\\3\]/,
  /\(0020,4000\) LT \[Long text \]/,
  /\(0028,0009\) AT \(0018,1063\)/,
  /\(0028,0011\) US 2/,
  /\(0042,0011\) OB 01\\02\\03\\00/,
  /\(7fe0,0010\) OW 1234\\5678/,
];

const input = (transferSyntaxUid: string): Part10Input => ({
  sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '2.25.1234567', transferSyntaxUid, elements: ALL_VRS,
});

for (const [name, ts] of Object.entries(TS).filter(([, uid]) => uid !== TS.rleLossless)) {
  test(`every VR reads back through dcmdump in ${name}`, () => {
    const path = join(tmp.path, `${name}.dcm`);
    writeFileSync(path, writePart10(input(ts)));
    const r = dcmdump(path);
    assert.equal(r.stderr, '', `dcmdump complained about ${name}`);
    assert.equal(r.status, 0);
    for (const line of EXPECTED_LINES) assert.match(r.stdout, line);
    assert.match(r.stdout, new RegExp(`\\(0002,0010\\) UI =\\w+\\s+# +\\d+, 1 TransferSyntaxUID`));
  });

  test(`dcmjs reads names and numbers back in ${name}`, () => {
    const ds = readWithDcmjs(writePart10(input(ts)));
    assert.deepEqual(ds['PatientName'], [{ Alphabetic: 'ZZMÜLLER^JÖRG' }]);
    assert.equal(ds['SOPInstanceUID'], '2.25.1234567');
    assert.equal(ds['ReferencePixelX0'], -70000);
    assert.deepEqual(ds['ContrastBolusT1Relaxivity'], [1.5, -2.25]);
  });
}

test('file starts with a zero preamble, DICM and a group length that covers the meta group', () => {
  const bytes = writePart10(input(TS.explicitVrLittleEndian));
  assert.deepEqual(bytes.subarray(0, 128), new Uint8Array(128));
  assert.equal(new TextDecoder().decode(bytes.subarray(128, 132)), 'DICM');
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const groupLength = view.getUint32(132 + 8, true);
  const firstDatasetTag = view.getUint16(132 + 12 + groupLength, true);
  assert.equal(firstDatasetTag, 0x0008);
});

test('refuses what it cannot write, saying what was wrong', () => {
  const bad: [string, Part10Input, RegExp][] = [
    ['meta element in dataset', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0002_0010, 'UI', '1.2')] }, /group 0002/],
    ['duplicate tag', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0010_0010, 'PN', 'A'), e(0x0010_0010, 'PN', 'B')] }, /\(0010,0010\): element given twice/],
    ['number for a string VR', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0010_0010, 'PN', new Uint8Array(2))] }, /\(0010,0010\) PN: string/],
    ['string for a numeric VR', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0028_0010, 'US', 'x')] }, /\(0028,0010\) US: number\[\]/],
    ['unknown VR', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0028_0010, 'XX', [1])] }, /unsupported VR/],
    ['non-ASCII in CS', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0008_0060, 'CS', 'Ö')] }, /ASCII expected/],
    ['non-Latin-1 under ISO_IR 100', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0008_0005, 'CS', 'ISO_IR 100'), e(0x0010_0010, 'PN', 'Ω')] }, /cannot be encoded/],
    ['too long for a 16-bit length', { ...input(TS.explicitVrLittleEndian), elements: [e(0x0008_2111, 'ST', 'x'.repeat(70000))] }, /16-bit length/],
    ['encapsulated without frames', input(TS.rleLossless), /encapsulatedFrames expected/],
    ['native with frames', { ...input(TS.explicitVrLittleEndian), encapsulatedFrames: [new Uint8Array(2)] }, /not allowed/],
    ['odd OW in big endian', { ...input(TS.explicitVrBigEndian), elements: [e(0x7fe0_0010, 'OW', new Uint8Array(3))] }, /even byte length/],
  ];
  for (const [what, value, message] of bad) assert.throws(() => writePart10(value), message, what);
});
