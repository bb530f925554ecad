/**
 * Opens the data dir a command names, with or without its keys, and always closes it; inside a
 * running node (the CLI channel), uses the node's open archive instead.
 */
import { Archive } from '../archive/archive.ts'
import { resolvePassphrase } from '../keys/passphrase.ts'
import { provider, random } from '../runtime.ts'
import type { CommandContext } from './command.ts'

export async function withArchive<T> (context: CommandContext, command: string, keys: 'required' | 'none', work: (archive: Archive) => Promise<T>): Promise<T> {
  const node = context.node
  if (node !== undefined) {
    // Inside a running node: its archive is open already. fsck runs with ingest held off.
    return command === 'fsck' ? await node.pacs.exclusive(async () => await work(node.archive)) : await work(node.archive)
  }
  const passphraseFile = context.values['passphrase-file']
  const passphrase = keys === 'required' ? await resolvePassphrase(typeof passphraseFile === 'string' ? passphraseFile : undefined, context.env) : undefined
  const archive = await Archive.open(context.dataDir, { keys, passphrase, provider, random, command })
  if (passphrase !== undefined && archive.hasKeys && !archive.keyring.sealed) {
    context.out.warn(`a passphrase was given, but the keys in ${archive.layout.keysDir} are not sealed with one; it was not used`)
  }
  try {
    return await work(archive)
  } finally {
    await archive.close()
  }
}
