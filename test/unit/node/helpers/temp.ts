/** Temporary folders under os.tmpdir() that the test always removes, and file-tree helpers. */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import type { TestContext } from 'node:test'

/** A fresh folder, removed when the test (or suite, for a SuiteContext-like `after`) ends. */
export async function tempDir (t: Pick<TestContext, 'after'>, label = 'peerpacs-unit-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Every regular file under `root`, as sorted absolute paths. */
export async function listFiles (root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile()) out.push(path)
    }
  }
  await walk(root)
  return out.sort()
}

/** relative path → { bytes, mode } for every file under `root`: equal snapshots mean nothing changed. */
export async function snapshot (root: string): Promise<Map<string, { bytes: Buffer, mode: number }>> {
  const out = new Map<string, { bytes: Buffer, mode: number }>()
  for (const path of await listFiles(root)) {
    out.set(relative(root, path), { bytes: await readFile(path), mode: (await stat(path)).mode & 0o777 })
  }
  return out
}
