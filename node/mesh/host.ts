/**
 * The libp2p host of a node (DESIGN "Replication"): TCP, Noise, Yamux, identify, ping, and mDNS
 * on the LAN under peerpacs' own service tag. The node key is the libp2p key, so the PeerId a
 * connection presents *is* the member id in the log (invariant 6): `gate` decides, from that
 * PeerId alone, whether an encrypted connection may go on to open any protocol stream. A refused
 * peer is dropped right after the Noise handshake, before the muxer, so no handler can be reached.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { publicKeyFromNodeId, type NodeId } from '../../protocol/identity.ts'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { nodeIdFromPublicKey } from '../../protocol/identity.ts'

export const MDNS_SERVICE_TAG = '_peerpacs._udp.local'

export interface HostOptions {
  /** The Ed25519 seed (32 bytes) of the key this host presents: the node key, or an invite key while enrolling. */
  readonly seed: Uint8Array
  /** Multiaddrs to listen on ([] for a dial-only host). */
  readonly listen: readonly string[]
  /** true lets the peer past the encrypted handshake (inbound and outbound); false drops it there. */
  readonly gate: (peer: PeerId) => boolean
  /** Announce and discover on the LAN (off in tests: they use explicit addresses). */
  readonly mdns?: boolean
  /** Called when a peer's connection was refused by the gate (for audit and logs). */
  readonly onRefused?: (peer: PeerId, direction: 'inbound' | 'outbound', remoteAddr: string) => void
}

export type Host = Libp2p<{ identify: unknown, ping: unknown }>

export async function createHost (options: HostOptions): Promise<Host> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', options.seed)
  const refuse = (direction: 'inbound' | 'outbound') => (peer: PeerId, maConn: { remoteAddr: { toString: () => string } }): boolean => {
    if (options.gate(peer)) return false
    options.onRefused?.(peer, direction, maConn.remoteAddr.toString())
    return true
  }
  const services: Record<string, (components: any) => unknown> = { identify: identify(), ping: ping() }
  const peerDiscovery = options.mdns === true ? [mdns({ serviceTag: MDNS_SERVICE_TAG })] : []
  return await createLibp2p({
    privateKey,
    addresses: { listen: [...options.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    services,
    // libp2p's default (5 inbound connections a second per host) would refuse a site that
    // reconnects to several peers behind one NAT address, or an enrolling node just after.
    connectionManager: { inboundConnectionThreshold: 50 },
    connectionGater: {
      // Loopback and private addresses are where clinics' peers are: allow dialling them.
      denyDialMultiaddr: () => false,
      denyInboundEncryptedConnection: refuse('inbound'),
      denyOutboundEncryptedConnection: refuse('outbound')
    }
  }) as unknown as Host
}

/** The member id (node id) a PeerId stands for, or undefined when it is not an Ed25519 key. */
export function nodeIdOfPeer (peer: PeerId): NodeId | undefined {
  if (peer.type !== 'Ed25519' || peer.publicKey === undefined) return undefined
  return nodeIdFromPublicKey(peer.publicKey.raw)
}

/** The PeerId of a member. */
export function peerIdOfNode (nodeId: NodeId | string): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKeyFromNodeId(nodeId)))
}

export function peerIdOfPublicKey (publicKey: Uint8Array): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey))
}

export { peerIdFromString }
