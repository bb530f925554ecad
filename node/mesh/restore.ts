/**
 * Restoring an org from its backup with the recovery key (DESIGN "Identities and keys"; issue 6):
 *
 * 1. A dial-only host presenting the RECOVERY key connects to the backup, whose gater admits the
 *    org's recovery key, read-only. It fetches the genesis: a recovery key that is not the org's
 *    is refused there (the backup drops the connection) or here (the genesis names another
 *    recovery key), before anything is written.
 * 2. The data dir is made as for a joining node (a new node key; no epoch key yet).
 * 3. The whole log is synced from the backup; every op is verified as always.
 * 4. The recovery key opens every epoch, then signs (its authority, docs/protocol.md): a
 *    member.add of this node as an admin site, an epoch.start wrapped to it (and to any site
 *    that stays) carrying every earlier epoch key in its history, and a member.remove of each
 *    lost site with a new epoch, so the lost keys can do no more. These are pushed to the backup.
 * 5. The node then runs its mesh against the backup as itself until every blob the log names
 *    is fetched, verified and indexed; a restore killed here resumes from the blocks it holds.
 */
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { PeerpacsError } from '../../protocol/errors.ts'
import { nodeIdFromPublicKey, nodeKeyFromSecret, type NodeKeyPair } from '../../protocol/identity.ts'
import { createEpoch, createOp, decodeOp, isActiveMember, type OpBodies, type OpType, type OrgState } from '../../protocol/log/index.ts'
import { equalBytes } from '../../protocol/bytes.ts'
import { LOG_PROTOCOL } from '../../protocol/wire/log-sync.ts'
import type { Archive } from '../archive/archive.ts'
import { openEpochWithRecoveryKey } from '../keys/keyring.ts'
import { provider, random } from '../runtime.ts'
import { readGenesis, GENESIS_PROTOCOL } from './genesis-protocol.ts'
import { createHost, type Host } from './host.ts'
import { pushOverStream, syncOverStream, type LogSyncHooks } from './log-sync.ts'

export type RestoreErrorCode = 'RESTORE_ADDRESS' | 'RESTORE_REPLACE' | 'RESTORE_DONE' | 'RESTORE_SYNC' | 'RESTORE_REFUSED' | 'RESTORE_GENESIS' |
  'BACKUP_UNREACHABLE' | 'RECOVERY_KEY_REFUSED' | 'RECOVERY_KEY_FILE'

export class RestoreError extends PeerpacsError {
  constructor (code: RestoreErrorCode, message: string, hint: string) { super(code, message, { hint }) }
}

export interface RecoverySession {
  readonly host: Host
  readonly backup: PeerId
  readonly recovery: NodeKeyPair
  readonly genesisBytes: Uint8Array
}

/** Step 1: connects as the recovery key and reads the org's genesis; refuses a key that is not the org's. */
export async function openRecoverySession (from: string, recoverySeed: Uint8Array): Promise<RecoverySession> {
  const addr = multiaddr(from)
  const peerText = addr.getComponents().find((c) => c.name === 'p2p')?.value
  if (peerText === undefined) throw new RestoreError('RESTORE_ADDRESS', `--from ${from} names no peer id`, 'give the backup\'s full address, ending in /p2p/<its peer id> (its `peerpacs status` shows it)')
  const backup = peerIdFromString(peerText)
  const recovery = nodeKeyFromSecret(recoverySeed)
  const host = await createHost({ seed: recoverySeed, listen: [], gate: (peer) => peer.equals(backup) })
  try {
    let genesisBytes: Uint8Array
    try {
      genesisBytes = await readGenesis(await host.dialProtocol(addr, GENESIS_PROTOCOL, { signal: AbortSignal.timeout(15_000) }))
    } catch (error) {
      const refused = error instanceof Event || /EOF|reset|closed/i.test((error as Error)?.message ?? '')
      if (refused) throw new RestoreError('RECOVERY_KEY_REFUSED', 'the backup refused this recovery key: it is not the recovery key of the org it holds', 'check that the file is this org\'s recovery key (as `peerpacs init` showed it)')
      throw new RestoreError('BACKUP_UNREACHABLE', `cannot reach the backup at ${from}: ${(error as Error)?.message ?? String(error)}`, 'check the address and that the backup node runs')
    }
    const genesis = decodeOp(provider, genesisBytes)
    if (genesis.type !== 'org.genesis') throw new RestoreError('RESTORE_GENESIS', 'the backup answered with an op that is not a genesis', 'the peer at that address is not a peerpacs backup')
    if (!equalBytes(genesis.body.recovery, recovery.publicKey)) {
      throw new RestoreError('RECOVERY_KEY_REFUSED', `this recovery key is not the recovery key of org "${genesis.body.name}"`, 'use the recovery key `peerpacs init` showed for this org')
    }
    return { host, backup, recovery, genesisBytes }
  } catch (error) {
    await host.stop()
    throw error
  }
}

function hooksFor (log: Awaited<ReturnType<Archive['log']>>): LogSyncHooks {
  return {
    log,
    orgId: log.oplog.orgId,
    mayRead: () => true,
    received: () => {},
    violation: () => {},
    synced: () => {}
  }
}

/** Step 3: the whole log from the backup (and what this node holds that it lacks). */
export async function syncFromBackup (session: RecoverySession, archive: Archive): Promise<number> {
  const log = await archive.log()
  const stream = await session.host.dialProtocol(session.backup, LOG_PROTOCOL, { signal: AbortSignal.timeout(15_000) })
  try {
    return (await syncOverStream(stream, hooksFor(log), session.backup)).received
  } catch (error) {
    throw new RestoreError('RESTORE_SYNC', `the log could not be fetched from the backup: ${(error as Error).message}`, 'run the same restore again: it resumes; if it persists, the backup is damaged or not genuine')
  }
}

/** The lost sites: those named, or, when none is named, the org's only active site. */
export function lostSites (state: OrgState, named: readonly string[], self: string): string[] {
  const sites = [...state.members.values()].filter((m) => m.role === 'site' && isActiveMember(state, m.id) && m.id !== self)
  if (named.length > 0) {
    for (const id of named) if (!sites.some((s) => s.id === id)) throw new RestoreError('RESTORE_REPLACE', `${id} is not an active site member of this org`, 'list them with `peerpacs members list` on any node, or leave --replace out')
    return [...named]
  }
  if (sites.length === 1) return [sites[0]!.id]
  if (sites.length === 0) return []
  throw new RestoreError('RESTORE_REPLACE', `the org has ${sites.length} active sites: name the lost one(s) with --replace NODE_ID`, 'the sites that still run keep their keys; only the lost ones are removed')
}

/**
 * Step 4: the recovery key's ops that make this node an admin site holding every epoch key, and
 * remove the lost sites. Journals them here and pushes them to the backup. Returns their ids.
 */
export async function admitWithRecovery (session: RecoverySession, archive: Archive, recoverySeed: Uint8Array, replace: readonly string[]): Promise<string[]> {
  const log = await archive.log()
  const self = archive.keyring.nodeId
  const state = log.oplog.state
  const org = archive.keyring.org
  const epochKeys = state.epochs.map((e) => ({ id: e.id as string, key: openEpochWithRecoveryKey(provider, org, recoverySeed, e.id, state) }))
  const lost = lostSites(state, replace, self)
  const staying = [...state.members.values()].filter((m) => m.role === 'site' && isActiveMember(state, m.id) && !lost.includes(m.id) && m.id !== self)
  const ops: Uint8Array[] = []
  const sign = async <T extends OpType>(type: T, body: OpBodies[T]): Promise<void> => {
    const op = createOp(provider, session.recovery, { org: log.oplog.orgId, seq: log.oplog.nextSeq(session.recovery.publicKey), parents: log.oplog.heads(), type, body, time: Date.now() } as never)
    const result = await log.receive([op.bytes])
    const verdict = result.results[0]
    if (verdict?.status !== 'applied') throw new RestoreError('RESTORE_REFUSED', `the log refused the recovery key's ${type} (${verdict?.status ?? 'no result'}${verdict?.reason === undefined ? '' : `: ${verdict.reason}`})`, 'the log may already hold a newer restore; run `peerpacs log verify` on a site')
    ops.push(op.bytes)
  }
  if (!isActiveMember(state, self)) {
    await sign('member.add', { member: archive.keyring.nodeKey.publicKey, role: 'site', level: 'admin', scope: 'org' })
    const members = [{ member: archive.keyring.nodeKey.publicKey }, ...staying.map((m) => ({ member: m.publicKey }))]
    await sign('epoch.start', createEpoch(provider, random, { org: log.oplog.orgId, members, recoveryPublicKey: state.recovery, previous: epochKeys }).body)
    for (const id of lost) {
      const member = state.members.get(id as never)!
      const remaining = [{ member: archive.keyring.nodeKey.publicKey }, ...staying.map((m) => ({ member: m.publicKey }))]
      await sign('member.remove', { member: member.publicKey, scope: 'org', epoch: createEpoch(provider, random, { org: log.oplog.orgId, members: remaining, recoveryPublicKey: state.recovery }).body })
    }
  }
  archive.keyring.learnEpochs(log.oplog.state)
  // The backup must know this node before it lets it in as itself: push the recovery ops (again, on a resume).
  const own = log.ops().filter((op) => nodeIdFromPublicKey(op.author) === nodeIdFromPublicKey(session.recovery.publicKey)).map((op) => op.bytes)
  await pushOverStream(await session.host.dialProtocol(session.backup, LOG_PROTOCOL, { signal: AbortSignal.timeout(15_000) }), own)
  return lost
}
