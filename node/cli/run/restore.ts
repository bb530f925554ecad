/** What `peerpacs restore` does (its options and help: commands/restore.ts). */
import { readFile, stat } from 'node:fs/promises'
import { utf8Encode, utf8Decode } from '../../../protocol/bytes.ts'
import { generateNodeKey } from '../../../protocol/identity.ts'
import { decodeRecoveryKey } from '../../../protocol/recovery-key.ts'
import { EVENT_TYPE, nodeSource, OUTCOME, securityAlertEvent } from '../../../protocol/audit/index.ts'
import { Archive } from '../../archive/archive.ts'
import { cliUser, thisNode } from '../../audit/actors.ts'
import { createLogger } from '../../logging/logger.ts'
import { resolvePassphrase } from '../../keys/passphrase.ts'
import { Mesh } from '../../mesh/mesh.ts'
import { blockLayer } from '../../mesh/parts.ts'
import { admitWithRecovery, openRecoverySession, RestoreError, syncFromBackup } from '../../mesh/restore.ts'
import { Pacs } from '../../pacs/pacs.ts'
import { provider, random } from '../../runtime.ts'
import { dataDirLayout, prepareNewDataDir } from '../../store/data-dir.ts'
import { removeDataDir, writeJoinedDataDir } from '../../store/joined-data-dir.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { keys } from '../../store/key-space.ts'
import type { CommandContext } from '../command.ts'

const RESTORING = keys.restoreState

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

export async function run (context: CommandContext): Promise<number> {
  const { values, dataDir, out, env } = context
  if (typeof values.from !== 'string') throw new UsageError('--from is required', 'the backup\'s address, e.g. /ip4/10.0.0.9/tcp/4001/p2p/12D3KooW...')
  if (typeof values['recovery-key'] !== 'string') throw new UsageError('--recovery-key is required', 'the file holding the org\'s recovery key')
  const replace = typeof values.replace === 'string' ? values.replace.split(',').map((s) => s.trim()).filter((s) => s !== '') : []
  let seed: Uint8Array
  try {
    seed = decodeRecoveryKey(provider, await readFile(values['recovery-key'], 'utf8'))
  } catch (error) {
    throw new RestoreError('RECOVERY_KEY_FILE', `cannot read a recovery key from ${values['recovery-key']}: ${(error as Error).message}`, 'give the file `peerpacs init --recovery-key-out` wrote, or the key as it was shown')
  }
  const layout = dataDirLayout(dataDir)
  const resuming = await exists(layout.metaFile)
  const passphrase = await resolvePassphrase(typeof values['passphrase-file'] === 'string' ? values['passphrase-file'] : undefined, env)

  out.line(`Connecting to the backup at ${values.from} with the recovery key…`)
  const session = await openRecoverySession(values.from, seed)
  let archive: Archive | undefined
  try {
    if (!resuming) {
      const rootExisted = await exists(layout.root)
      await prepareNewDataDir(layout)
      try {
        await writeJoinedDataDir(layout, {
          genesisBytes: session.genesisBytes, nodeKey: generateNodeKey(random), passphrase, bootstrap: [values.from],
          extra: [{ type: 'put', key: RESTORING, value: utf8Encode('log') }]
        })
      } catch (error) {
        await removeDataDir(layout, rootExisted)
        throw error
      }
    }
    archive = await Archive.open(dataDir, { keys: 'required', passphrase, provider, random, command: 'restore' })
    const marker = await archive.kv.get(RESTORING)
    if (resuming && marker === undefined) throw new RestoreError('RESTORE_DONE', `${layout.root} holds a node already (not a restore in progress)`, 'restore into an empty data dir')
    const received = await syncFromBackup(session, archive)
    out.line(`Log: ${received} ops fetched and verified.`)
    const lost = await admitWithRecovery(session, archive, seed, replace)
    await archive.kv.batch([{ type: 'put', key: RESTORING, value: utf8Encode('blobs') }])
    if (lost.length > 0) out.line(`Removed the lost site(s) ${lost.join(', ')}; this node ${archive.keyring.nodeId} is an admin site now.`)
    if (marker !== undefined && utf8Decode(marker) === 'log' && (await archive.log()).oplog.state.members.get(archive.keyring.nodeId)?.role === 'site') {
      await archive.auditor.record(securityAlertEvent({
        time: Date.now(), source: nodeSource(archive.keyring.nodeId), outcome: OUTCOME.success,
        outcomeDescription: `org restored from its backup with the recovery key${lost.length === 0 ? '' : `; replaced ${lost.join(', ')}`}`,
        types: [EVENT_TYPE.securityConfiguration], reporter: thisNode(archive.keyring.nodeId), performers: [cliUser()],
        subjects: [{ kind: 'node', id: archive.keyring.nodeId, description: 'restored node' }, ...lost.map((id) => ({ kind: 'node' as const, id, description: 'removed: lost' }))]
      }))
    }
  } finally {
    await session.host.stop()
  }

  // Blobs: this node's own mesh, dial-only, against the backup until every instance is local.
  const pacs = await Pacs.load(archive)
  const logger = createLogger({ level: 'warn' })
  const mesh = await Mesh.start({ archive, pacs, settings: { listen: [], peers: [values.from], mdns: false }, logger, blocks: await blockLayer(archive, logger) })
  try {
    for (;;) {
      const studies = mesh.studies()
      const local = studies.filter((s) => s.holding === 'local').length
      const transfers = mesh.transfers()
      out.progress(`restoring: ${local}/${studies.length} studies local, ${((transfers?.bytesFetched ?? 0) / 1e6).toFixed(1)} MB fetched, ${((transfers?.bytesPending ?? 0) / 1e6).toFixed(1)} MB to go`)
      // Done when every study is local, or could not be opened with the keys held (reported below).
      if (local + mesh.materializer.unopened.size >= studies.length) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await mesh.stop()
  }
  await archive.kv.batch([{ type: 'del', key: RESTORING }])
  const studies = mesh.studies()
  const instances = studies.reduce((n, s) => n + s.instances, 0)
  out.done()
  for (const [studyId, message] of mesh.materializer.unopened) out.warn(`study ${studyId} could not be opened: ${message}`)
  out.record({ type: 'restored', nodeId: archive.keyring.nodeId, studies: studies.length, instances, bytes: mesh.transfers()?.bytesFetched ?? 0, peakRssBytes: process.resourceUsage().maxRSS * 1024 })
  out.line(`Restored ${studies.length} studies (${instances} instances), every blob verified against the log.`)
  out.line('Start the node with `peerpacs start`.')
  await archive.close()
  return EXIT.OK
}
