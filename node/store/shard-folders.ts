/**
 * Open descriptors of the blob store's shard folders, kept for the store's lifetime so that
 * making a rename durable is one fsync, not open + fsync + close: on a small VM each file-system
 * call is a thread hand-off of ~0.1 ms, and an ingest that answers one instance at a time pays
 * them in sequence. Raw descriptors (not FileHandles, which warn when collected) are closed by
 * close(), or when the owner is garbage-collected; at most 257 are held.
 */
import { close, fsync, open } from 'node:fs'
import { promisify } from 'node:util'

const openFd = promisify(open)
const fsyncFd = promisify(fsync)
const closeFd = promisify(close)

const registry = new FinalizationRegistry<Map<string, Promise<number>>>((folders) => {
  for (const fd of folders.values()) fd.then((n) => close(n, () => {}), () => {})
})

export class ShardFolders {
  readonly #folders = new Map<string, Promise<number>>()

  constructor (owner: object) { registry.register(owner, this.#folders, this) }

  /** Fsyncs `path` (a folder), opening it on first use. */
  async sync (path: string): Promise<void> {
    let fd = this.#folders.get(path)
    if (fd === undefined) {
      fd = openFd(path, 'r')
      this.#folders.set(path, fd)
      fd.catch(() => this.#folders.delete(path))
    }
    await fsyncFd(await fd)
  }

  async close (): Promise<void> {
    registry.unregister(this)
    const fds = [...this.#folders.values()]
    this.#folders.clear()
    for (const fd of fds) await fd.then(async (n) => await closeFd(n), () => {})
  }
}
