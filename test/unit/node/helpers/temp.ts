/** Temporary folders under os.tmpdir() that the test always removes, and file-tree helpers. */
import { readFile, stat } from 'node:fs/promises'
import { relative } from 'node:path'
import { listFiles } from '../../../helpers/files.ts'

export { listFiles, tempDir } from '../../../helpers/files.ts'

/** relative path → { bytes, mode } for every file under `root`: equal snapshots mean nothing changed. */
export async function snapshot (root: string): Promise<Map<string, { bytes: Buffer, mode: number }>> {
  const out = new Map<string, { bytes: Buffer, mode: number }>()
  for (const path of await listFiles(root)) {
    out.set(relative(root, path), { bytes: await readFile(path), mode: (await stat(path)).mode & 0o777 })
  }
  return out
}
