/**
 * `peerpacs init --join CODE`: sets up a node that joins an existing org with an invite code
 * (docs/protocol.md "Enrollment"). The code is read first (damaged or expired: nothing is
 * written), the data dir is checked, the node key is made, the node enrolls with the inviting
 * node (any failure: nothing is left behind), and only then are the data dir's files written:
 * the keys (createJoinedKeyring: no epoch key yet, the log brings them), the index with its owner
 * record and the inviter's addresses under ['mesh', 'bootstrap'] (the mesh dials them at start),
 * and peerpacs.json last. No recovery key: the org has one already.
 */
import { stat } from 'node:fs/promises'
import { generateNodeKey, nodeIdFromPublicKey } from '../../../protocol/identity.ts'
import { decodeInvite } from '../../../protocol/invite.ts'
import { resolvePassphrase } from '../../keys/passphrase.ts'
import { enrollWithInvite } from '../../mesh/enroll.ts'
import { provider, random } from '../../runtime.ts'
import { dataDirLayout, prepareNewDataDir } from '../../store/data-dir.ts'
import { BOOTSTRAP_KEY, removeDataDir, writeJoinedDataDir } from '../../store/joined-data-dir.ts'
import { PeerpacsError } from '../../../protocol/errors.ts'
import type { CommandContext } from '../command.ts'
import { EXIT } from '../exit-codes.ts'

/** Where the mesh finds the addresses to dial first (utf8 JSON array of multiaddrs). */
export { BOOTSTRAP_KEY }
/** Per inviter address: dialling plus the exchange. */
export const ENROLL_TIMEOUT_MS = 15_000

/** The node was added to the org, but its data dir could not be written. */
export class JoinWriteError extends PeerpacsError {
  static readonly code = 'JOIN_WRITE'
  constructor (nodeId: string, cause: unknown) {
    super(JoinWriteError.code, `node ${nodeId} was added to the org, but its data dir could not be written: ${(cause as Error).message}`,
      { cause, hint: `nothing was kept here; ask the admin to remove it (\`peerpacs members remove ${nodeId}\`) and for a new invite code, then run init --join again` })
  }
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

export async function joinOrg (context: CommandContext, codeText: string, options: { enrollTimeoutMs?: number } = {}): Promise<number> {
  const { values, dataDir, out, env } = context
  const code = decodeInvite(provider, codeText, Date.now())
  const layout = dataDirLayout(dataDir)
  const passphrase = await resolvePassphrase(typeof values['passphrase-file'] === 'string' ? values['passphrase-file'] : undefined, env)
  const rootExisted = await exists(layout.root)
  // Checked (and the folders made) before enrolling: the invite works once, so nothing that can
  // be known beforehand may fail after it is used.
  await prepareNewDataDir(layout)
  const removeAll = async (): Promise<void> => { await removeDataDir(layout, rootExisted) }
  const nodeKey = generateNodeKey(random)
  const nodeId = nodeIdFromPublicKey(nodeKey.publicKey)
  let enrolled
  try {
    enrolled = await enrollWithInvite(code, nodeKey, { provider, timeoutMs: options.enrollTimeoutMs ?? ENROLL_TIMEOUT_MS })
  } catch (error) {
    await removeAll()
    throw error
  }
  let orgName: string
  try {
    const bootstrap = [...new Set([...enrolled.addrs, ...code.addrs])]
    const keyring = await writeJoinedDataDir(layout, { genesisBytes: enrolled.genesisBytes, nodeKey, passphrase, bootstrap })
    orgName = keyring.org.name
  } catch (error) {
    await removeAll()
    throw new JoinWriteError(nodeId, error)
  }

  if (passphrase === undefined) {
    out.warn(`no passphrase given: the node's keys in ${layout.keysDir} are stored unsealed, protected only by file permissions. ` +
      'To seal them, start over with PEERPACS_PASSPHRASE set or --passphrase-file FILE.')
  }
  out.record({ type: 'init', joined: true, dataDir: layout.root, nodeId, orgId: code.org, orgName, role: code.role, level: code.level, scope: code.scope, sealed: passphrase !== undefined, bootstrap: enrolled.addrs })
  out.line(`Joined org ${orgName} (${code.org}) in ${layout.root}`)
  out.line(`  node id: ${nodeId}`)
  out.line(`  role:    ${code.role}, level ${code.level} in ${code.scope === 'org' ? 'the org' : `study ${code.scope}`}`)
  out.line(`  keys:    ${passphrase === undefined ? 'NOT sealed (no passphrase)' : 'sealed with the passphrase'}`)
  out.line('')
  out.line('Start it with `peerpacs start`: it connects to the inviting node and fetches the org\'s log.')
  return EXIT.OK
}
