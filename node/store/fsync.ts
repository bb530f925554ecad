/** Durability helpers: a rename or a new file is durable only once its directory is fsynced. */
import { open } from 'node:fs/promises'

export async function fsyncDirectory (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
