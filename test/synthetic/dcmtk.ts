// Test helpers: run dcmtk's command-line tools (the independent judge of what the synthetic
// writer produces), read files with dcmjs, and manage temporary folders.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ToolResult = { status: number; stdout: string; stderr: string };

/** Runs a dcmtk tool; a missing dcmtk is a failure that says how to fix it, never a skip. */
export function dcmtk(tool: string, args: string[]): ToolResult {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${tool} not found on PATH: these tests need dcmtk; install the Debian package dcmtk (apt-get install dcmtk)`);
  }
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * dcmdump with data correction off (-dc) so nothing is silently repaired; the file passes when
 * dcmdump exits 0 and prints no warning or error at all. +U8 prints text as UTF-8.
 */
export function dcmdump(path: string): ToolResult {
  return dcmtk('dcmdump', ['-dc', '+U8', '+L', path]);
}

/** Decompresses an RLE file with dcmdrle and returns its native pixel bytes (the file's tail). */
export function dcmdrlePixels(rleFile: Uint8Array, pixelBytes: number, dir: string): Uint8Array {
  const input = join(dir, 'rle-in.dcm');
  const output = join(dir, 'rle-out.dcm');
  writeFileSync(input, rleFile);
  const r = dcmtk('dcmdrle', [input, output]);
  if (r.status !== 0 || r.stderr !== '') throw new Error(`dcmdrle failed (${r.status}): ${r.stderr}`);
  // Pixel data is the last element of the decoded explicit VR LE file, with even length.
  const decoded = readFileSync(output);
  return new Uint8Array(decoded.subarray(decoded.length - pixelBytes - (pixelBytes % 2), decoded.length - (pixelBytes % 2)));
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'peerpacs-synthetic-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

type Naturalized = Record<string, unknown> & { PatientName?: unknown; SOPInstanceUID?: string };
type Dcmjs = {
  log: { getLogger(name: string): { setLevel(level: string): void } };
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer): { dict: unknown; meta: unknown } };
    DicomMetaDictionary: { naturalizeDataset(dict: unknown): Naturalized };
  };
};

/** Reads a Part 10 file with dcmjs (untyped, hence require and a local type) and naturalizes it. */
export function readWithDcmjs(bytes: Uint8Array): Naturalized {
  const dcmjs = createRequire(import.meta.url)('dcmjs') as Dcmjs;
  // dcmjs logs "Invalid vr type ox - using OW" for every implicit-VR (7FE0,0010): expected, not a fault.
  dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file = dcmjs.data.DicomMessage.readFile(buffer);
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict);
}

/** Index of needle in haystack, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle, from);
}
