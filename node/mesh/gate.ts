/**
 * Who may connect and who may read (DESIGN "Replication", invariant 6: the key a connection
 * presents is the member id in the log). The decisions are pure functions of the org state;
 * MeshGate adds the little this node remembers beside the log: the bootstrap peers named in its
 * invite, peers quarantined for a protocol violation, and enrolling guests let in by an invite.
 *
 * - Admitted: an active member (not this node, not quarantined); or, while this node has just
 *   joined and holds only the genesis, a bootstrap peer the log does not know yet.
 * - The org's recovery key (a node restoring the org) may read, and is never dialled.
 * - Readers of the whole log and every blob: active sites and backups (a specialist gets nothing).
 */
import type { PeerId, StreamHandler } from '@libp2p/interface'
import { isActiveMember, type OrgState } from '../../protocol/log/index.ts'
import { nodeIdFromPublicKey, type NodeId } from '../../protocol/identity.ts'
import { nodeIdOfPeer, peerIdFromString } from './host.ts'

/** What the admission decision looks at. */
export interface AdmissionFacts {
  readonly state: OrgState
  readonly self: NodeId
  /** The peer's node id, or undefined when its key is not a node key. */
  readonly peer: string | undefined
  readonly bootstrap: boolean
  readonly quarantined: boolean
}

export function admits (f: AdmissionFacts): boolean {
  if (f.peer === undefined || f.peer === f.self || f.quarantined) return false
  if (isActiveMember(f.state, f.peer as NodeId)) return true
  // Just joined: this node holds only the genesis, so it cannot know the inviter is a member yet.
  return f.bootstrap && !isActiveMember(f.state, f.self) && !f.state.members.has(f.peer as NodeId)
}

export function isRecoveryKey (state: OrgState, nodeId: string | undefined): boolean {
  return nodeId !== undefined && nodeId === nodeIdFromPublicKey(state.recovery)
}

/** May `nodeId` read the log and the blobs (an active site or backup, or the recovery key)? */
export function mayRead (state: OrgState, nodeId: string | undefined): boolean {
  if (nodeId === undefined) return false
  if (isRecoveryKey(state, nodeId)) return true
  const member = state.members.get(nodeId as NodeId)
  if (member === undefined || !isActiveMember(state, nodeId as NodeId)) return false
  return member.role === 'site' || member.role === 'backup'
}

/** Why the gater refused `nodeId` (for the alert). */
export function refusalReason (state: OrgState, nodeId: string | undefined): string {
  const member = nodeId === undefined ? undefined : state.members.get(nodeId as NodeId)
  return member === undefined ? 'not a member of this org' : member.removed ? 'a removed member' : 'not an active member'
}

const QUARANTINE_MS = 60_000

export interface MeshGateOptions {
  readonly self: NodeId
  readonly state: () => OrgState
  /** Lets a non-member past the gater (an enrolling node's invite key), per extra protocol. */
  readonly guestAdmits: ReadonlyArray<(peer: PeerId) => boolean>
  /** The PeerId of a connected peer (it carries the key), else undefined. */
  readonly connected: (peer: string) => PeerId | undefined
}

export class MeshGate {
  readonly #o: MeshGateOptions
  readonly #bootstrap = new Set<string>()
  readonly #quarantine = new Map<string, number>()
  readonly #guests = new Set<string>()

  constructor (options: MeshGateOptions) { this.#o = options }

  /** A peer id named in the invite (or --peer): admitted while this node holds only the genesis. */
  noteBootstrap (peer: string): void { this.#bootstrap.add(peer) }

  /** Not let back for a minute (a protocol violation): the honest peers keep syncing meanwhile. */
  quarantine (peer: string): void { this.#quarantine.set(peer, Date.now() + QUARANTINE_MS) }

  disconnected (peer: string): void { this.#guests.delete(peer) }

  isGuest (peer: string): boolean { return this.#guests.has(peer) }

  admitted (peer: string): boolean {
    const state = this.#o.state()
    return admits({ state, self: this.#o.self, peer: this.#nodeIdOf(peer), bootstrap: this.#bootstrap.has(peer), quarantined: (this.#quarantine.get(peer) ?? 0) > Date.now() })
  }

  isRecovery (peer: PeerId): boolean { return isRecoveryKey(this.#o.state(), nodeIdOfPeer(peer)) }

  mayRead (peer: PeerId): boolean { return mayRead(this.#o.state(), nodeIdOfPeer(peer)) }

  refusalReason (peer: PeerId): string { return refusalReason(this.#o.state(), nodeIdOfPeer(peer)) }

  /** The connection gater's decision. */
  allows (peer: PeerId): boolean {
    if (this.admitted(peer.toString())) return true
    if (this.isRecovery(peer)) return true
    const guest = this.#o.guestAdmits.some((admits) => admits(peer))
    // An enrolling node: its connection may finish its enrollment even once the invite is used.
    if (guest) this.#guests.add(peer.toString())
    return guest
  }

  /** An enrolling node passes the gater for its own protocol only. */
  membersOnly (handler: StreamHandler): StreamHandler {
    return (stream, connection) => {
      if (this.admitted(connection.remotePeer.toString()) || this.isRecovery(connection.remotePeer)) return handler(stream, connection)
      stream.abort(new Error('only members may use this protocol'))
    }
  }

  #nodeIdOf (peer: string): string | undefined {
    try {
      return nodeIdOfPeer(this.#o.connected(peer) ?? peerIdFromString(peer))
    } catch { return undefined }
  }
}
