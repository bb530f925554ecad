// A minimal DICOM Part 10 file writer (PS3.10 file format, PS3.5 encoding) for synthetic
// test data. It writes exactly what it is given: no dictionary, no IOD checks. The caller
// names each element's VR, so the same element list can be written in every transfer syntax
// a PACS must accept, and the output is checked against dcmtk in the tests.
//
// Native syntaxes: implicit VR LE, explicit VR LE, explicit VR BE (multi-byte numbers and OW
// words swapped), deflated explicit VR LE (dataset deflated raw, file meta left plain).
// Any other transfer syntax is taken as encapsulated: explicit VR LE with the frames given
// in `encapsulatedFrames` written as fragments of an undefined-length (7FE0,0010) OB.

import { deflateRawSync } from 'node:zlib';

/** One data element. tag is (group << 16) | element. SQ values are items, each an element list. */
export type DicomElement = {
  tag: number;
  vr: string;
  value: string | string[] | number[] | Uint8Array | DicomElement[][];
  /** SQ only: write undefined length with item/sequence delimiters instead of explicit lengths. */
  undefinedLength?: boolean;
};

export type Part10Input = {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  elements: DicomElement[];
  /** Compressed frames, one fragment each; required by (and only allowed for) encapsulated syntaxes. */
  encapsulatedFrames?: Uint8Array[];
};

export const TRANSFER_SYNTAX = {
  implicitVrLittleEndian: '1.2.840.10008.1.2',
  explicitVrLittleEndian: '1.2.840.10008.1.2.1',
  explicitVrBigEndian: '1.2.840.10008.1.2.2',
  deflatedExplicitVrLittleEndian: '1.2.840.10008.1.2.1.99',
  rleLossless: '1.2.840.10008.1.2.5',
} as const;

/** A UUID-derived (2.25) UID fixed for this generator, so files say who wrote them. */
export const IMPLEMENTATION_CLASS_UID = '2.25.203712384910236657380962104939745125031';
export const IMPLEMENTATION_VERSION_NAME = 'PEERPACS_SYN_1';

// Explicit VR: these VRs take 2 reserved bytes and a 4-byte length; all others a 2-byte length.
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UI', 'UT', 'UC', 'UR']);
// Only these are decoded through Specific Character Set (PS3.5 6.1.2.3); the rest are ASCII.
const CHARSET_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT']);
const NUMBER_VRS: Record<string, { size: number; put: (v: DataView, at: number, n: number, le: boolean) => void }> = {
  US: { size: 2, put: (v, at, n, le) => v.setUint16(at, n, le) },
  SS: { size: 2, put: (v, at, n, le) => v.setInt16(at, n, le) },
  UL: { size: 4, put: (v, at, n, le) => v.setUint32(at, n, le) },
  SL: { size: 4, put: (v, at, n, le) => v.setInt32(at, n, le) },
  FL: { size: 4, put: (v, at, n, le) => v.setFloat32(at, n, le) },
  FD: { size: 8, put: (v, at, n, le) => v.setFloat64(at, n, le) },
  // An attribute tag is two US values: group then element.
  AT: { size: 4, put: (v, at, n, le) => { v.setUint16(at, n >>> 16, le); v.setUint16(at + 2, n & 0xffff, le); } },
};

type Syntax = { explicit: boolean; little: boolean; encodeText: (s: string) => Uint8Array };

const UNDEFINED = 0xffff_ffff;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

export function tagString(tag: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  return `(${hex(tag >>> 16)},${hex(tag & 0xffff)})`;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function tagBytes(tag: number, little: boolean): Uint8Array {
  const b = new Uint8Array(4);
  const v = new DataView(b.buffer);
  v.setUint16(0, tag >>> 16, little);
  v.setUint16(2, tag & 0xffff, little);
  return b;
}

function u32(n: number, little: boolean): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, little);
  return b;
}

function elementHeader(tag: number, vr: string, length: number, sx: Syntax): Uint8Array {
  if (!sx.explicit) return concat([tagBytes(tag, sx.little), u32(length, sx.little)]);
  if (LONG_VRS.has(vr)) return concat([tagBytes(tag, sx.little), ascii(vr), new Uint8Array(2), u32(length, sx.little)]);
  if (length > 0xffff) throw new RangeError(`${tagString(tag)} ${vr}: value of ${length} bytes does not fit a 16-bit length`);
  const len = new Uint8Array(2);
  new DataView(len.buffer).setUint16(0, length, sx.little);
  return concat([tagBytes(tag, sx.little), ascii(vr), len]);
}

// Items and delimiters carry no VR in any syntax (PS3.5 7.5).
const item = (tag: number, length: number, sx: Syntax) => concat([tagBytes(tag, sx.little), u32(length, sx.little)]);
const ITEM = 0xfffe_e000;
const ITEM_DELIMITER = 0xfffe_e00d;
const SEQUENCE_DELIMITER = 0xfffe_e0dd;

function padEven(bytes: Uint8Array, pad: number): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

function encodeValue(el: DicomElement, sx: Syntax): Uint8Array {
  const { tag, vr, value } = el;
  const where = `${tagString(tag)} ${vr}`;
  if (TEXT_VRS.has(vr)) {
    const parts = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string' || typeof p === 'number')) {
      throw new TypeError(`${where}: string or string[] expected`);
    }
    const text = parts.map(String).join('\\');
    if (!CHARSET_VRS.has(vr) && !/^[\x20-\x7e]*$/.test(text)) throw new TypeError(`${where}: ASCII expected, got ${JSON.stringify(text)}`);
    return padEven(CHARSET_VRS.has(vr) ? sx.encodeText(text) : ascii(text), vr === 'UI' ? 0 : 0x20);
  }
  const numeric = NUMBER_VRS[vr];
  if (numeric) {
    if (!Array.isArray(value) || !value.every((n) => typeof n === 'number')) throw new TypeError(`${where}: number[] expected`);
    const out = new Uint8Array(value.length * numeric.size);
    const view = new DataView(out.buffer);
    value.forEach((n, i) => numeric.put(view, i * numeric.size, n as number, sx.little));
    return out;
  }
  if (vr === 'OB' || vr === 'OW' || vr === 'UN') {
    if (!(value instanceof Uint8Array)) throw new TypeError(`${where}: Uint8Array expected`);
    if (vr !== 'OW' || sx.little) return padEven(value, 0);
    // OW holds 16-bit words given little endian; big endian swaps each pair of bytes.
    if (value.length % 2 !== 0) throw new RangeError(`${where}: even byte length expected, got ${value.length}`);
    const out = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i += 2) { out[i] = value[i + 1]!; out[i + 1] = value[i]!; }
    return out;
  }
  throw new TypeError(`${where}: unsupported VR`);
}

function encodeSequence(el: DicomElement, sx: Syntax): Uint8Array {
  if (!Array.isArray(el.value) || !el.value.every((i) => Array.isArray(i))) {
    throw new TypeError(`${tagString(el.tag)} SQ: items (DicomElement[][]) expected`);
  }
  const items = (el.value as DicomElement[][]).map((elements) => encodeDataset(elements, sx));
  if (el.undefinedLength) {
    return concat([
      elementHeader(el.tag, 'SQ', UNDEFINED, sx),
      ...items.flatMap((body) => [item(ITEM, UNDEFINED, sx), body, item(ITEM_DELIMITER, 0, sx)]),
      item(SEQUENCE_DELIMITER, 0, sx),
    ]);
  }
  const body = concat(items.flatMap((b) => [item(ITEM, b.length, sx), b]));
  return concat([elementHeader(el.tag, 'SQ', body.length, sx), body]);
}

/** Encodes elements (sorted by tag here, duplicates refused) as a dataset in the given syntax. */
function encodeDataset(elements: DicomElement[], sx: Syntax): Uint8Array {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const parts: Uint8Array[] = [];
  sorted.forEach((el, i) => {
    if (!Number.isInteger(el.tag) || el.tag < 0 || el.tag > 0xffff_ffff) throw new RangeError(`tag: 32-bit unsigned integer expected, got ${el.tag}`);
    if (i > 0 && sorted[i - 1]!.tag === el.tag) throw new Error(`${tagString(el.tag)}: element given twice`);
    if (el.vr === 'SQ') { parts.push(encodeSequence(el, sx)); return; }
    const value = encodeValue(el, sx);
    parts.push(elementHeader(el.tag, el.vr, value.length, sx), value);
  });
  return concat(parts);
}

// Pixel data of an encapsulated syntax: an empty basic offset table, then one fragment per frame.
function encapsulatedPixelData(frames: Uint8Array[], sx: Syntax): Uint8Array {
  return concat([
    elementHeader(0x7fe0_0010, 'OB', UNDEFINED, sx),
    item(ITEM, 0, sx),
    ...frames.flatMap((f) => { const b = padEven(f, 0); return [item(ITEM, b.length, sx), b]; }),
    item(SEQUENCE_DELIMITER, 0, sx),
  ]);
}

function textEncoderFor(elements: DicomElement[]): (s: string) => Uint8Array {
  const cs = elements.find((e) => e.tag === 0x0008_0005)?.value;
  const charset = (Array.isArray(cs) ? cs[0] : cs) ?? '';
  if (charset === 'ISO_IR 192') return (s) => new TextEncoder().encode(s);
  const max = charset === 'ISO_IR 100' ? 0xff : 0x7f; // Latin-1, or the default repertoire
  return (s) => {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > max) throw new TypeError(`text ${JSON.stringify(s)} cannot be encoded in Specific Character Set "${charset}"`);
      out[i] = c;
    }
    return out;
  };
}

export function writePart10(input: Part10Input): Uint8Array {
  const { sopClassUid, sopInstanceUid, transferSyntaxUid, elements, encapsulatedFrames } = input;
  const ts = TRANSFER_SYNTAX;
  const encodeText = textEncoderFor(elements);
  const bigEndian = transferSyntaxUid === ts.explicitVrBigEndian;
  const sx: Syntax = { explicit: transferSyntaxUid !== ts.implicitVrLittleEndian, little: !bigEndian, encodeText };
  const native = ([ts.implicitVrLittleEndian, ts.explicitVrLittleEndian, ts.explicitVrBigEndian, ts.deflatedExplicitVrLittleEndian] as string[])
    .includes(transferSyntaxUid);
  if (elements.some((e) => e.tag >>> 16 === 0x0002)) throw new Error('file meta (group 0002) is written by writePart10; leave it out of elements');
  if (!native && !encapsulatedFrames) throw new Error(`transfer syntax ${transferSyntaxUid} is encapsulated: encapsulatedFrames expected`);
  if (native && encapsulatedFrames) throw new Error(`transfer syntax ${transferSyntaxUid} is native: encapsulatedFrames not allowed`);

  let dataset: Uint8Array;
  if (encapsulatedFrames) {
    if (elements.some((e) => e.tag >= 0x7fe0_0010)) throw new Error('encapsulated syntax: (7FE0,0010) and later elements are written from encapsulatedFrames');
    dataset = concat([encodeDataset(elements, sx), encapsulatedPixelData(encapsulatedFrames, sx)]);
  } else {
    dataset = encodeDataset(elements, sx);
    if (transferSyntaxUid === ts.deflatedExplicitVrLittleEndian) dataset = deflateRawSync(dataset);
  }

  // File meta is always explicit VR little endian, whatever the dataset's syntax.
  const metaSx: Syntax = { explicit: true, little: true, encodeText };
  const meta = encodeDataset([
    { tag: 0x0002_0001, vr: 'OB', value: new Uint8Array([0x00, 0x01]) },
    { tag: 0x0002_0002, vr: 'UI', value: sopClassUid },
    { tag: 0x0002_0003, vr: 'UI', value: sopInstanceUid },
    { tag: 0x0002_0010, vr: 'UI', value: transferSyntaxUid },
    { tag: 0x0002_0012, vr: 'UI', value: IMPLEMENTATION_CLASS_UID },
    { tag: 0x0002_0013, vr: 'SH', value: IMPLEMENTATION_VERSION_NAME },
  ], metaSx);
  const groupLength = encodeDataset([{ tag: 0x0002_0000, vr: 'UL', value: [meta.length] }], metaSx);
  return concat([new Uint8Array(128), ascii('DICM'), groupLength, meta, dataset]);
}
