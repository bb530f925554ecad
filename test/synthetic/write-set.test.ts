// writeSyntheticSet and its CLI: about the asked size, on disk as summarised, reproducible
// from the seed, and never written over an existing folder by accident.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticSet } from './write-set.ts';
import { main, parseSize } from './cli.ts';
import { KNOWN_PATIENTS } from './study.ts';
import { dcmdump, tempDir } from './dcmtk.ts';

const tmp = tempDir();
after(tmp.remove);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

function capture() {
  const out: string[] = [];
  return { sink: { write: (s: string) => out.push(s) }, text: () => out.join('') };
}

test('a mixed set reaches the target with one patient per study, as summarised on disk', async () => {
  const dir = join(tmp.path, 'mixed');
  const summary = await writeSyntheticSet(dir, { seed: 5, targetBytes: 500_000, profile: 'mixed' });
  assert.ok(summary.bytes >= 500_000 && summary.bytes < 500_000 + 300_000, `${summary.bytes} bytes`);
  const files = filesUnder(dir);
  assert.equal(files.length, summary.files);
  assert.equal(files.reduce((n, f) => n + statSync(join(dir, f)).size, 0), summary.bytes);
  assert.equal(new Set(summary.studies.map((s) => s.patientId)).size, summary.studies.length);
  assert.equal(new Set(summary.studies.map((s) => s.studyInstanceUid)).size, summary.studies.length);
  assert.deepEqual(summary.studies.slice(0, 2).map((s) => s.patientName), [KNOWN_PATIENTS[0]!.name, KNOWN_PATIENTS[1]!.name]);

  const again = join(tmp.path, 'mixed-again');
  await writeSyntheticSet(again, { seed: 5, targetBytes: 500_000, profile: 'mixed' });
  assert.deepEqual(filesUnder(again), files);
  for (const f of files) assert.ok(readFileSync(join(again, f)).equals(readFileSync(join(dir, f))), f);
});

test('a ct set holds 512x512 slices and stops near the target', async () => {
  const dir = join(tmp.path, 'ct');
  const summary = await writeSyntheticSet(dir, { seed: 6, targetBytes: 1_500_000, profile: 'ct' });
  assert.equal(summary.studies.length, 1);
  assert.equal(summary.files, 3);
  const r = dcmdump(join(dir, filesUnder(dir)[0]!));
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /\(0028,0010\) US 512/);
});

test('cli: --help, sizes, a refused non-empty folder, --force and --json', async () => {
  const help = capture();
  assert.equal(await main(['--help'], help.sink, help.sink), 0);
  assert.match(help.text(), /--out DIR/);

  assert.equal(parseSize('100MB'), 100_000_000);
  assert.equal(parseSize('1GiB'), 1024 ** 3);
  assert.equal(parseSize('12345'), 12345);

  const bad = capture();
  assert.equal(await main(['--out', tmp.path, '--size', 'lots'], bad.sink, bad.sink), 2);
  assert.match(bad.text(), /--size: .*"lots"/);

  const dir = join(tmp.path, 'cli');
  mkdirSync(dir);
  writeFileSync(join(dir, 'keep.txt'), 'not DICOM');
  const refused = capture();
  assert.equal(await main(['--out', dir, '--size', '100KB'], refused.sink, refused.sink), 2);
  assert.match(refused.text(), /not empty.*--force/);
  assert.deepEqual(filesUnder(dir), ['keep.txt']);

  const ok = capture();
  assert.equal(await main(['--out', dir, '--size', '100KB', '--seed', '3', '--force', '--json'], ok.sink, ok.sink), 0);
  const summary = JSON.parse(ok.text()) as { files: number; bytes: number };
  assert.equal(filesUnder(dir).length, summary.files + 1);
});

test('cli: runs as a script', () => {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT']; // inherited from the test runner, which the script would obey
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const r = spawnSync(process.execPath, [cli, '--out', join(tmp.path, 'script'), '--size', '50KB'], { encoding: 'utf8', env });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^wrote \d+ files, \d+ bytes .* in 1 study to /);
});
