/**
 * Where the other members are: the bootstrap addresses (`--peer`, and those stored from the
 * invite at join), the addresses each member published in the log (a member.addresses op), and
 * this node's own, published when they changed. Everything found goes to the Dialer; a bootstrap
 * address's peer id goes to the gate (admitted while this node holds only the genesis).
 */
import type { OrgState } from '../../protocol/log/index.ts'
import { isActiveMember } from '../../protocol/log/index.ts'
import type { Logger } from '../logging/logger.ts'
import type { NodeLog } from '../log/node-log.ts'
import type { Dialer } from './dialer.ts'
import type { MeshGate } from './gate.ts'
import { peerIdOfNode } from './host.ts'

const MAX_PUBLISHED = 16

export interface AddressBookOptions {
  readonly log: NodeLog
  readonly dialer: Pick<Dialer, 'add'>
  readonly gate: Pick<MeshGate, 'noteBootstrap'>
  /** This node's listen addresses, with /p2p/<id>. */
  readonly listening: () => string[]
  /** The bootstrap addresses stored at join (a JSON list), if any. */
  readonly stored: () => Promise<Uint8Array | undefined>
  readonly logger: Logger
}

export class AddressBook {
  readonly #o: AddressBookOptions

  constructor (options: AddressBookOptions) { this.#o = options }

  noteBootstrap (address: string): void {
    const match = /\/p2p\/([^/]+)$/.exec(address)
    if (match !== null) this.#o.gate.noteBootstrap(match[1]!)
    this.#o.dialer.add(undefined, [address])
  }

  /** The bootstrap addresses stored from the invite. */
  async loadStored (): Promise<void> {
    const stored = await this.#o.stored()
    if (stored === undefined) return
    try { for (const a of JSON.parse(new TextDecoder().decode(stored)) as string[]) this.noteBootstrap(a) } catch { this.#o.logger.warn('mesh.bootstrap.unreadable', {}) }
  }

  /** The addresses the other current members published. */
  learn (state: OrgState): void {
    for (const member of state.members.values()) {
      if (member.id === this.#o.log.nodeId || member.removed || member.addresses.length === 0) continue
      this.#o.dialer.add(peerIdOfNode(member.id).toString(), member.addresses)
    }
  }

  /** Publishes this node's listen addresses in the log when they changed (a member.addresses op). */
  async publish (): Promise<void> {
    const log = this.#o.log
    const state = log.oplog.state
    if (!isActiveMember(state, log.nodeId)) return
    const mine = this.#o.listening().map((a) => a.replace(/\/p2p\/[^/]+$/, '')).sort().slice(0, MAX_PUBLISHED)
    const known = [...(state.members.get(log.nodeId)?.addresses ?? [])].sort()
    if (mine.length === 0 || JSON.stringify(mine) === JSON.stringify(known)) return
    try {
      await log.append('member.addresses', { addresses: mine })
    } catch (error) {
      this.#o.logger.warn('mesh.addresses.unpublished', { error: (error as Error).message })
    }
  }
}
