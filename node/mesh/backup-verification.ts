/**
 * `peerpacs backup verify`: this site challenges the org's backup node(s) for blocks chosen at
 * random (or all of them) from the blobs the log names, and checks every answer against the
 * block hashes in the log. The result names what is missing or damaged, is kept for `status`,
 * and is audited (110113 Security Alert, Node Authentication: whether the backup's holdings
 * authenticate against the signed log). A backup that finds its own copy damaged or missing
 * while answering sets it aside and fetches it again from a site (BlobReplicator's repair).
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { EVENT_TYPE, nodeSource, OUTCOME, securityAlertEvent, type AuditRecord } from '../../protocol/audit/index.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { NodeId } from '../../protocol/identity.ts'
import type { OrgState } from '../../protocol/log/index.ts'
import { thisNode } from '../audit/actors.ts'
import { BLOCKS_PROTOCOL } from '../../protocol/wire/blocks.ts'
import { peerIdOfNode } from './host.ts'
import { pickSamples, verifyPeerBlocks, type SampleResult } from './verify-peer.ts'

export interface BackupVerification {
  readonly time: string
  readonly backups: Array<{ readonly nodeId: string, readonly connected: boolean }>
  readonly checked: number
  readonly ok: number
  readonly problems: Array<{ readonly backup: string, readonly blob: string, readonly block: number, readonly outcome: SampleResult['outcome'], readonly detail?: string }>
}

export interface BackupChecksOptions {
  readonly self: NodeId
  readonly state: () => OrgState
  readonly provider: CryptoProvider
  readonly host: {
    getConnections (): Array<{ remotePeer: PeerId }>
    dialProtocol (peer: PeerId, protocol: string, options?: { signal?: AbortSignal }): Promise<Stream>
  }
  readonly audit: (record: AuditRecord) => void
}

export class BackupChecks {
  readonly #o: BackupChecksOptions
  /** The last verification's report (status shows it). */
  last: BackupVerification | undefined

  constructor (options: BackupChecksOptions) { this.#o = options }

  async verify (count: number | 'all', onProgress?: (done: number, total: number) => void): Promise<BackupVerification> {
    const { host, self } = this.#o
    const state = this.#o.state()
    const backups = [...state.members.values()].filter((m) => m.role === 'backup' && !m.removed)
    const connected = new Set(host.getConnections().map((c) => c.remotePeer.toString()))
    const blobs = [...state.studies.values()].flatMap((s) => [...s.instances.values()].map((i) => i.blob))
    const random = (n: number): number => Math.floor(Math.random() * n)
    const problems: BackupVerification['problems'] = []
    let checked = 0
    let ok = 0
    for (const backup of backups) {
      const peer = peerIdOfNode(backup.id)
      if (!connected.has(peer.toString())) continue
      const samples = pickSamples(blobs, count, random)
      const results = await verifyPeerBlocks(this.#o.provider, async () => await host.dialProtocol(peer, BLOCKS_PROTOCOL, { signal: AbortSignal.timeout(10_000) }), samples,
        (done) => onProgress?.(checked + done, backups.length * samples.length))
      for (const r of results) {
        checked++
        if (r.outcome === 'ok') ok++
        else problems.push({ backup: backup.id, blob: r.blob.id, block: r.index, outcome: r.outcome, ...(r.detail === undefined ? {} : { detail: r.detail }) })
      }
    }
    const report: BackupVerification = {
      time: new Date().toISOString(),
      backups: backups.map((b) => ({ nodeId: b.id, connected: connected.has(peerIdOfNode(b.id).toString()) })),
      checked,
      ok,
      problems
    }
    this.last = report
    const reachable = report.backups.filter((b) => b.connected).length
    const summary = reachable === 0 ? 'no backup node was connected: nothing verified'
      : `backup verification: ${ok} of ${checked} blocks match the log${problems.length === 0 ? '' : `; ${problems.filter((p) => p.outcome === 'missing').length} missing, ${problems.filter((p) => p.outcome !== 'missing').length} damaged or refused`}`
    this.#o.audit(securityAlertEvent({
      time: Date.now(),
      source: nodeSource(self),
      outcome: problems.length === 0 && reachable > 0 ? OUTCOME.success : OUTCOME.seriousFailure,
      outcomeDescription: summary,
      types: [EVENT_TYPE.nodeAuthentication],
      reporter: thisNode(self),
      subjects: report.backups.map((b) => ({ kind: 'node' as const, id: b.nodeId, description: summary }))
    }))
    return report
  }
}
