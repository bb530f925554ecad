/** Temporary folders that tests always remove, and whole-tree scans and snapshots. */
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import type { TestContext } from 'node:test'

export async function tempDir (t: Pick<TestContext, 'after'>, label = 'peerpacs-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label))
  t.after(() => removeDir(dir))
  return dir
}

/**
 * Removes a test's folder without ever failing the hook. A folder is usually made before the
 * node that writes into it is started, so its removal runs first (after-hooks run in the order
 * they were added) while that node may still be writing (a study.instances op, an index summary):
 * rm then meets a folder that fills again (ENOTEMPTY). It is retried; if it still fails, it is
 * left for the process's exit, because a throwing hook would skip the hooks after it, the one
 * that stops the node among them, and the test file would never end.
 */
async function removeDir (dir: string): Promise<void> {
  for (let attempt = 1; attempt <= 20; attempt++) {
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 })
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  process.once('exit', () => { try { rmSync(dir, { recursive: true, force: true }) } catch {} })
}

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

export interface Needle { label: string, bytes: Uint8Array }

/** Every (file, needle) where the file's bytes contain the needle. */
export async function findNeedles (root: string, needles: Needle[]): Promise<Array<{ file: string, label: string }>> {
  const hits: Array<{ file: string, label: string }> = []
  for (const file of await listFiles(root)) {
    const bytes = await readFile(file)
    for (const needle of needles) if (bytes.indexOf(needle.bytes) !== -1) hits.push({ file: relative(root, file), label: needle.label })
  }
  return hits
}

/** path → sha256:size of every file, and every directory, under root: equal snapshots mean nothing changed. */
export async function snapshotTree (root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      const rel = relative(root, path)
      if (entry.isDirectory()) {
        out.set(rel + '/', 'dir')
        await walk(path)
      } else {
        const bytes = await readFile(path)
        const info = await stat(path)
        out.set(rel, `${createHash('sha256').update(bytes).digest('hex')}:${bytes.length}:${(info.mode & 0o777).toString(8)}`)
      }
    }
  }
  await walk(root)
  return out
}

export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** A temporary folder for a whole suite (before/after hooks), removed by the returned function. */
export async function suiteDir (label = 'peerpacs-test-'): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), label))
  return { path, remove: () => removeDir(path) }
}
