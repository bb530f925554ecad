/**
 * The CLI's side of the log checks (node/log/journal-check.ts, own-chain.ts) for `peerpacs log
 * verify` and `peerpacs audit verify`: opening the data dir for a check without loading the log,
 * and the lines that say how the journal's head compares with the mark and each peer.
 */
import type { Archive } from '../archive/archive.ts'
import { unlockKeyring, type Keyring } from '../keys/keyring.ts'
import { KeyFileError } from '../keys/errors.ts'
import { resolvePassphrase } from '../keys/passphrase.ts'
import type { OwnChain } from '../log/own-chain.ts'
import { provider } from '../runtime.ts'
import { dataDirLayout, readDataDirMeta } from '../store/data-dir.ts'
import type { CommandContext } from './command.ts'
import { withArchive } from './open-archive.ts'

/** Lines saying how the journal's head compares with the mark and each peer (for the verify commands). */
export function ownChainLines (own: OwnChain): string[] {
  const out = [`  own chain: the journal ends at seq ${own.journalHead}; high-water mark ${own.mark ?? 'none'}`]
  if (own.peers === undefined) out.push('  (the node is not running: its peers\' holdings of this node were not compared)')
  else if (own.peers.length === 0) out.push('  no other members to compare with')
  else {
    for (const p of own.peers) {
      const holds = p.holds === undefined ? 'not synced since the node started' : `holds seq ${p.holds} of this node${p.holds > own.journalHead ? ` but the journal ends at ${own.journalHead}` : ''}`
      out.push(`  ${p.role ?? 'peer'} ${p.nodeId ?? p.peer} (${p.connected ? 'connected' : 'not connected'}): ${holds}`)
    }
  }
  return out
}

/**
 * Opens the data dir for a check of its log: the index and blobs without loading the log (so a
 * damaged log can be examined), and the keyring only when `keys` is 'required' (unlocked here,
 * with the passphrase, as Archive.open would). Inside a running node, its archive and keys.
 */
export async function withLogCheck<T> (context: CommandContext, command: string, keys: 'required' | 'none', work: (archive: Archive, keyring: Keyring | undefined) => Promise<T>): Promise<T> {
  if (context.node !== undefined) {
    const archive = context.node.archive
    return await withArchive(context, command, keys, async () => await work(archive, keys === 'required' ? archive.keyring : undefined))
  }
  let keyring: Keyring | undefined
  if (keys === 'required') {
    // The passphrase is checked before the data dir is opened, as Archive.open does.
    const passphraseFile = context.values['passphrase-file']
    const passphrase = await resolvePassphrase(typeof passphraseFile === 'string' ? passphraseFile : undefined, context.env)
    const layout = dataDirLayout(context.dataDir)
    const meta = await readDataDirMeta(layout)
    keyring = await unlockKeyring(layout.keysDir, passphrase, provider)
    if (keyring.nodeId !== meta.nodeId || keyring.orgId !== meta.orgId) {
      throw new KeyFileError(`the keys in ${layout.keysDir} belong to node ${keyring.nodeId}, but ${layout.metaFile} names node ${meta.nodeId}`)
    }
  }
  return await withArchive(context, command, 'none', async (archive) => await work(archive, keyring))
}
