/**
 * The mesh's part of `status`: each current member as a peer (connected, how far behind, what it
 * holds of this node's own ops, forks seen with it, ops it sent that were refused), the log's
 * summary, the studies' holdings, and the inbound streams counted per peer (a refused peer never
 * has one). Reads the other services; changes nothing.
 */
import type { StreamHandler } from '@libp2p/interface'
import { isActiveMember, type OrgState } from '../../protocol/log/index.ts'
import { toHex } from '../../protocol/encoding.ts'
import type { NodeLog } from '../log/node-log.ts'
import { peerIdOfNode } from './host.ts'
import type { LogReplicator, PeerRefusals } from './log-replicator.ts'
import type { Materializer, StudyHolding } from './materializer.ts'
import type { Divergence, OwnSeqs } from './own-seqs.ts'

export interface PeerStatus {
  readonly peer: string
  readonly nodeId: string | undefined
  readonly role: string | undefined
  readonly connected: boolean
  readonly addresses: string[]
  /** Ops this node holds that the peer lacked at the last sync, minus what was sent since. */
  readonly opsBehind: number | undefined
  readonly lastSync: string | undefined
  /** The highest seq of this node's own ops the peer held at its last hello. */
  readonly holdsOfThisNode: number | undefined
  /** Authors of which the peer holds a different op at a seq both hold (forks), at its last hello. */
  readonly diverged: Divergence[]
  /** Ops this peer sent that this node did not apply, and why (the last reason). */
  readonly refused: PeerRefusals | null
}

export interface LogSummary {
  readonly ops: number
  readonly heads: string[]
  readonly forks: Array<{ author: string, seq: number, evidence: string[], awaitingParents?: true }>
  readonly ownSeqs: ReturnType<OwnSeqs['status']>
}

/** Inbound streams per peer id, every protocol. */
export class StreamCounter {
  readonly #from = new Map<string, number>()

  counted (handler: StreamHandler): StreamHandler {
    return (stream, connection) => {
      const id = connection.remotePeer.toString()
      this.#from.set(id, (this.#from.get(id) ?? 0) + 1)
      return handler(stream, connection)
    }
  }

  byPeer (): Record<string, number> { return Object.fromEntries(this.#from) }
}

export function peerStatuses (log: NodeLog, connectedPeers: Iterable<string>, replicator: Pick<LogReplicator, 'seen' | 'refusals'>, own: Pick<OwnSeqs, 'heldBy' | 'divergedWith'>): PeerStatus[] {
  const state = log.oplog.state
  const ours = log.oplog.versionVector()
  const connected = new Set(connectedPeers)
  const out: PeerStatus[] = []
  for (const member of state.members.values()) {
    if (member.id === log.nodeId || member.removed) continue
    const peer = peerIdOfNode(member.id).toString()
    const seen = replicator.seen(peer)
    let behind: number | undefined
    if (seen !== undefined) {
      behind = 0
      for (const [author, seq] of ours) behind += Math.max(0, seq - (seen.vector.get(author) ?? 0))
    }
    out.push({
      peer,
      nodeId: member.id,
      role: member.role,
      connected: connected.has(peer),
      addresses: [...member.addresses],
      opsBehind: behind,
      lastSync: seen === undefined ? undefined : new Date(seen.at).toISOString(),
      holdsOfThisNode: own.heldBy(peer),
      diverged: own.divergedWith(peer),
      refused: replicator.refusals(peer) ?? null
    })
  }
  return out
}

export function logSummary (log: NodeLog, own: Pick<OwnSeqs, 'status'>): LogSummary {
  return {
    ops: log.oplog.size,
    heads: log.oplog.heads().map((h) => toHex(h)),
    forks: [
      ...[...log.oplog.state.forks].map(([author, f]) => ({ author, seq: f.seq, evidence: [...f.evidence] })),
      // Proven by two signed ops although one still waits for its parents.
      ...log.suspectedForks().map((f) => ({ author: f.author, seq: f.seq, evidence: [...f.evidence], awaitingParents: true as const }))
    ],
    ownSeqs: own.status()
  }
}

export function studyHoldings (state: OrgState, materializer: Pick<Materializer, 'holding'>): Array<{ studyId: string, holding: StudyHolding, instances: number }> {
  return [...state.studies.values()].map((s) => ({ studyId: s.id, holding: materializer.holding(s), instances: s.instances.size }))
}

/** Peer ids of the members that get every op (other active sites and backups): who could hold this node's own. */
export function holders (log: NodeLog): string[] {
  const state = log.oplog.state
  return [...state.members.values()]
    .filter((m) => m.id !== log.nodeId && (m.role === 'site' || m.role === 'backup') && isActiveMember(state, m.id))
    .map((m) => peerIdOfNode(m.id).toString())
}
