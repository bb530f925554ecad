/**
 * Fixtures for the op log tests: a founded org and simulated nodes, each with its own OpLog
 * view, that sign ops on top of what they have seen.
 */
import { nobleProvider } from '../../../../protocol/crypto-provider.ts'
import { generateNodeKey, nodeIdFromPublicKey, type NodeId, type NodeKeyPair } from '../../../../protocol/identity.ts'
import type { RandomSource } from '../../../../protocol/random.ts'
import { newStudyId, type StudyId } from '../../../../protocol/study-id.ts'
import { createEpoch, createOp, createOrg, OpLog, type OpBodies, type OpType, type SignedOp } from '../../../../protocol/log/index.ts'
import { Rng } from '../helpers.ts'

export const p = nobleProvider

export class SimNode {
  readonly key: NodeKeyPair
  readonly id: NodeId
  readonly log: OpLog
  #time = 1_700_000_000_000

  constructor (key: NodeKeyPair, genesis: SignedOp) {
    this.key = key
    this.id = nodeIdFromPublicKey(key.publicKey)
    this.log = new OpLog(p, genesis)
  }

  /** Signs an op on top of this node's heads (seq overridable for malformed cases) and adds it to its own log. */
  write<T extends OpType> (type: T, body: OpBodies[T], options: { seq?: number, parents?: Uint8Array[] } = {}): SignedOp {
    const op = createOp(p, this.key, {
      org: this.log.orgId, seq: options.seq ?? this.log.nextSeq(this.key.publicKey), parents: options.parents ?? this.log.heads(), type, body, time: this.#time++
    }) as SignedOp
    this.log.add(op)
    return op
  }

  /** Receives every op of `other` (parents first). */
  pull (other: SimNode): void {
    this.log.addMany(other.log.missingFor(this.log.versionVector()))
  }
}

export class World {
  readonly rng: Rng
  readonly random: RandomSource
  readonly recovery: NodeKeyPair
  readonly founder: SimNode
  readonly genesis: SignedOp

  constructor (seed = 1) {
    this.rng = new Rng(seed)
    this.random = this.rng.random
    this.recovery = generateNodeKey(this.random)
    const key = generateNodeKey(this.random)
    const { op } = createOrg(p, this.random, key, { name: 'Test Clinic', recoveryPublicKey: this.recovery.publicKey, time: 1 })
    this.genesis = op
    this.founder = new SimNode(key, op)
  }

  node (key = generateNodeKey(this.random)): SimNode { return new SimNode(key, this.genesis) }

  study (): StudyId { return newStudyId(this.random) }

  /** The epoch body for `members` (site member keys) in this org. */
  epoch (members: NodeKeyPair[]) {
    return createEpoch(p, this.random, { org: this.genesis.idHex, members: members.map((k) => ({ member: k.publicKey })), recoveryPublicKey: this.recovery.publicKey })
  }

  registerBody (node: SimNode, study: StudyId) {
    return { study, epoch: node.log.state.epochs.at(-1)!.id === undefined ? new Uint8Array(32) : hexBytes(node.log.state.epochs.at(-1)!.id), wrappedKey: this.rng.bytes(72), sealed: this.rng.bytes(40) }
  }
}

export function hexBytes (hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Delivers `ops` to a fresh replica in the given order, one at a time. */
export function replicaOf (genesis: SignedOp, ops: readonly SignedOp[]): OpLog {
  const log = new OpLog(p, genesis)
  for (const op of ops) log.add(op)
  return log
}
