// The synthetic study generator: deterministic from its seed, every instance accepted by
// dcmtk and dcmjs, and carrying the markers (patient names, KNOWN_PIXEL_PATTERN) that the
// encryption tests scan for.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Prng } from './prng.ts';
import { KNOWN_PATIENTS, KNOWN_PIXEL_PATTERN, SOP_CLASS, syntheticStudy, type SyntheticInstance } from './study.ts';
import { TRANSFER_SYNTAX as TS } from './part10-writer.ts';
import { dcmdrlePixels, dcmdump, indexOfBytes, readWithDcmjs, tempDir } from './dcmtk.ts';

const tmp = tempDir();
after(tmp.remove);

const mixed = syntheticStudy({ seed: 42 });
const ct = syntheticStudy({ seed: 43, profile: 'ct', patient: KNOWN_PATIENTS[1]! });
const ct512 = syntheticStudy({ seed: 44, profile: 'ct', size: 'ct512', slices: 2, patient: KNOWN_PATIENTS[2]! });
const everything: [string, SyntheticInstance[]][] = [['mixed', mixed], ['ct', ct], ['ct512', ct512]];

/** Which known patient each set above was generated for. */
const patientOf = (set: SyntheticInstance[]) => KNOWN_PATIENTS[everything.findIndex(([, s]) => s === set)]!;

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;

/** The dataset bytes as a reader sees them: inflated for the deflated syntax. */
function datasetBytes(instance: SyntheticInstance): Uint8Array {
  const groupLength = new DataView(instance.bytes.buffer, instance.bytes.byteOffset).getUint32(132 + 8, true);
  const dataset = instance.bytes.subarray(132 + 12 + groupLength);
  return instance.transferSyntaxUid === TS.deflatedExplicitVrLittleEndian ? inflateRawSync(dataset) : dataset;
}

test('prng: same seed, same sequence; other seed, other sequence', () => {
  const draw = (seed: number) => { const r = new Prng(seed); return [r.nextU32(), r.int(-5, 5), r.pick(['a', 'b', 'c']), ...r.bytes(7)]; };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
  const r = new Prng(9);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) { const n = r.int(3, 6); assert.ok(n >= 3 && n <= 6); seen.add(n); }
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  assert.equal(r.bytes(5).length, 5);
  assert.throws(() => new Prng(1.5), /safe integer/);
  assert.throws(() => r.int(2, 1), /min <= max/);
  assert.throws(() => r.pick([]), /non-empty/);
});

test('same seed gives identical bytes; another seed gives other UIDs', () => {
  const again = syntheticStudy({ seed: 42 });
  assert.equal(again.length, mixed.length);
  again.forEach((instance, i) => assert.deepEqual(instance.bytes, mixed[i]!.bytes, instance.relativePath));
  const uids = (set: SyntheticInstance[]) => set.flatMap((i) => [i.sopInstanceUid, i.seriesInstanceUid, i.studyInstanceUid]);
  const other = new Set(uids(syntheticStudy({ seed: 4242 })));
  assert.ok(uids(mixed).every((uid) => !other.has(uid)));
});

test('the mixed profile covers every transfer syntax, multi-frame and colour', () => {
  const count = (f: (i: SyntheticInstance) => boolean) => mixed.filter(f).length;
  assert.equal(count((i) => i.modality === 'CT' && i.transferSyntaxUid === TS.implicitVrLittleEndian), 6);
  assert.equal(count((i) => i.modality === 'MR' && i.transferSyntaxUid === TS.explicitVrLittleEndian), 4);
  assert.equal(count((i) => i.modality === 'MR' && i.transferSyntaxUid === TS.explicitVrBigEndian), 2);
  assert.equal(count((i) => i.sopClassUid === SOP_CLASS.usMultiFrame && i.numberOfFrames === 12), 1);
  assert.equal(count((i) => i.transferSyntaxUid === TS.rleLossless), 1);
  assert.equal(count((i) => i.transferSyntaxUid === TS.deflatedExplicitVrLittleEndian), 1);
  assert.equal(count((i) => i.sopClassUid === SOP_CLASS.secondaryCapture), 2);
  assert.equal(new Set(mixed.map((i) => i.studyInstanceUid)).size, 1);
  assert.equal(new Set(mixed.map((i) => i.seriesInstanceUid)).size, 7);
});

test('UIDs are valid and unique, paths are unique', () => {
  for (const [, set] of everything) {
    for (const i of set) {
      for (const uid of [i.sopInstanceUid, i.seriesInstanceUid, i.studyInstanceUid]) {
        assert.match(uid, UID);
        assert.ok(uid.length <= 64, uid);
      }
      assert.match(i.relativePath, /^study-[\w-]+\/\d+\/\d+\.dcm$/);
    }
    assert.equal(new Set(set.map((i) => i.sopInstanceUid)).size, set.length);
    assert.equal(new Set(set.map((i) => i.relativePath)).size, set.length);
  }
});

for (const [name, set] of everything) {
  test(`dcmdump accepts every ${name} instance without a warning`, () => {
    for (const instance of set) {
      const path = join(tmp.path, name, instance.relativePath);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, instance.bytes);
      const r = dcmdump(path);
      assert.equal(r.stderr, '', `dcmdump on ${instance.relativePath} (${instance.transferSyntaxUid})`);
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`\\(0008,0018\\) UI \\[${instance.sopInstanceUid.replaceAll('.', '\\.')}\\x00?\\]`)); // odd UIDs: NUL-padded
      if (instance.numberOfFrames > 1) assert.match(r.stdout, new RegExp(`\\(0028,0008\\) IS \\[${instance.numberOfFrames}\\]`));
    }
  });
}

test('ct512 slices are 512x512 16-bit', () => {
  const ds = readWithDcmjs(ct512[0]!.bytes);
  assert.equal(ds['Rows'], 512);
  assert.equal(ds['Columns'], 512);
  assert.equal(ds['BitsAllocated'], 16);
  assert.equal(ct512.length, 2);
});

test('dcmdrle decodes the RLE instance to the pixels that were compressed', () => {
  const rle = mixed.find((i) => i.transferSyntaxUid === TS.rleLossless)!;
  assert.ok(rle.nativePixelData);
  assert.deepEqual(rle.nativePixelData.subarray(0, 64), KNOWN_PIXEL_PATTERN);
  assert.deepEqual(dcmdrlePixels(rle.bytes, rle.nativePixelData.length, tmp.path), rle.nativePixelData);
});

test('dcmjs reads back patient, UIDs and nested sequences', () => {
  for (const [, set] of everything) {
    for (const instance of set) {
      const ds = readWithDcmjs(instance.bytes);
      const patient = patientOf(set);
      assert.deepEqual(ds['PatientName'], [{ Alphabetic: patient.name }], instance.relativePath);
      assert.equal(ds['PatientID'], patient.id);
      assert.equal(ds['SOPInstanceUID'], instance.sopInstanceUid);
      assert.equal(ds['StudyInstanceUID'], instance.studyInstanceUid);
      const code = (ds['ProcedureCodeSequence'] as Record<string, unknown>[] | Record<string, unknown>);
      assert.equal((Array.isArray(code) ? code[0] : code)?.['CodeValue'], 'PPX001');
    }
  }
  const mr = readWithDcmjs(mixed.find((i) => i.transferSyntaxUid === TS.explicitVrBigEndian)!.bytes);
  assert.equal(mr['SeriesDescription'], 'Schädel T1 sagittal'); // Latin-1 in a big-endian file
});

test('KNOWN_PIXEL_PATTERN starts every frame of every uncompressed instance, verbatim in the file', () => {
  assert.equal(KNOWN_PIXEL_PATTERN.length, 64);
  assert.ok(new Set(KNOWN_PIXEL_PATTERN).size > 32);
  for (const [, set] of everything) {
    for (const instance of set) {
      const compressed = instance.transferSyntaxUid === TS.rleLossless || instance.transferSyntaxUid === TS.deflatedExplicitVrLittleEndian;
      assert.equal(instance.pixelPatternVerbatim, !compressed, instance.relativePath);
      const inFile = (from: number): number => indexOfBytes(instance.bytes, KNOWN_PIXEL_PATTERN, from);
      if (!instance.pixelPatternVerbatim) continue;
      let found = 0;
      for (let at = inFile(0); at >= 0; at = inFile(at + 1)) found++;
      assert.equal(found, instance.numberOfFrames, instance.relativePath);
    }
  }
  const deflated = mixed.find((i) => i.transferSyntaxUid === TS.deflatedExplicitVrLittleEndian)!;
  assert.ok(indexOfBytes(datasetBytes(deflated), KNOWN_PIXEL_PATTERN) > 0, 'inflated dataset carries the pattern');
});

test('the patient name is in every file (in the inflated dataset when deflated)', () => {
  for (const [, set] of everything) {
    const name = new TextEncoder().encode(patientOf(set).name);
    for (const instance of set) {
      assert.equal(instance.datasetVerbatim, instance.transferSyntaxUid !== TS.deflatedExplicitVrLittleEndian);
      const haystack = instance.datasetVerbatim ? instance.bytes : datasetBytes(instance);
      assert.ok(indexOfBytes(haystack, name) > 0, `${instance.relativePath} lacks the patient name`);
    }
  }
  const deflated = mixed.find((i) => !i.datasetVerbatim)!;
  assert.equal(indexOfBytes(deflated.bytes, new TextEncoder().encode(KNOWN_PATIENTS[0]!.name)), -1, 'deflate hides the name');
});

test('options are checked', () => {
  assert.throws(() => syntheticStudy({ seed: 1, studyDate: '2024-03-15' }), /YYYYMMDD/);
  assert.throws(() => syntheticStudy({ seed: 1, profile: 'ct', slices: 0 }), /slices/);
});
