// Command line front of writeSyntheticSet: fills a folder with seeded synthetic DICOM for
// manual testing, demos and benchmarks.
//   node test/synthetic/cli.ts --out DIR [--seed N] [--size 100MB|1GB|bytes] [--profile mixed|ct] [--json] [--force]

import { readdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { writeSyntheticSet } from './write-set.ts';

const USAGE = `usage: node test/synthetic/cli.ts --out DIR [options]

Writes seeded synthetic DICOM studies (fictitious "ZZ" patients) into DIR.

  --out DIR        folder to write into; must be empty or absent unless --force
  --seed N         integer seed; the same seed gives the same bytes (default 1)
  --size SIZE      about how much to write: bytes, or with a unit KB MB GB (x1000)
                   or KiB MiB GiB (x1024) (default 100MB)
  --profile NAME   mixed: every transfer syntax and image type (default)
                   ct:    512x512 CT series, for benchmarks
  --force          write into DIR even if it is not empty
  --json           print the summary as JSON
  -h, --help       show this text
`;

class UsageError extends Error {
  override name = 'UsageError';
}

const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) throw new UsageError(`--size: a number of bytes or e.g. 100MB, 1GB expected, got ${JSON.stringify(text)}`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`--size: a positive size expected, got ${JSON.stringify(text)}`);
  return bytes;
}

type Sink = { write(text: string): unknown; isTTY?: boolean };

/** Runs the CLI; returns the process exit code (0 done, 1 failed, 2 usage error). */
export async function main(argv: string[], out: Sink = process.stdout, err: Sink = process.stderr): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' }, seed: { type: 'string', default: '1' }, size: { type: 'string', default: '100MB' },
        profile: { type: 'string', default: 'mixed' }, force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) { out.write(USAGE); return 0; }
    if (!values.out) throw new UsageError('--out DIR is required');
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(Number(values.seed))) throw new UsageError(`--seed: a non-negative integer expected, got ${JSON.stringify(values.seed)}`);
    const profile = values.profile;
    if (profile !== 'mixed' && profile !== 'ct') throw new UsageError(`--profile: mixed or ct expected, got ${JSON.stringify(profile)}`);
    const targetBytes = parseSize(values.size);
    const existing = await readdir(values.out).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return []; throw e; });
    if (existing.length > 0 && !values.force) {
      throw new UsageError(`--out ${values.out} is not empty (${existing.length} entries); choose an empty folder or pass --force`);
    }
    // One progress line on a terminal, rewritten in place; nothing when stderr is a file or pipe.
    const onProgress = err.isTTY === true
      ? (p: { bytes: number; files: number; studies: number }) => { err.write(`\rwriting: ${p.studies} studies, ${p.files} files, ${(p.bytes / 1e6).toFixed(1)} of ${(targetBytes / 1e6).toFixed(1)} MB`); }
      : undefined;
    const summary = await writeSyntheticSet(values.out, { seed: Number(values.seed), targetBytes, profile, ...(onProgress ? { onProgress } : {}) });
    if (onProgress) err.write('\r\x1b[K');
    if (values.json) {
      out.write(JSON.stringify(summary, null, 2) + '\n');
    } else {
      out.write(`wrote ${summary.files} files, ${summary.bytes} bytes (${(summary.bytes / 1e6).toFixed(1)} MB) in ${summary.studies.length} ${summary.studies.length === 1 ? 'study' : 'studies'} to ${summary.dir} (--json lists them)\n`);
    }
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    err.write(`synthetic: ${(e as Error).message}\n${usage ? 'run with --help for usage\n' : ''}`);
    return usage ? 2 : 1;
  }
}

// A bare `node --test` takes every file under test/ for a test file and would run this one
// with no arguments; the runner marks its children with NODE_TEST_CONTEXT, so stay quiet there.
if (import.meta.main && !process.env['NODE_TEST_CONTEXT']) process.exitCode = await main(process.argv.slice(2));
